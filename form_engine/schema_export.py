"""The interoperable contract of a form version: JSON Schema (draft 2020-12) and a UI schema.

`input_schema(form)` describes what a client may write (`{"data": …}` of a record): input
fields only, unknown keys refused, blanks as `null`. It agrees with the compiled validator
in strict mode on everything JSON Schema can express (a differential test checks it);
conditions written as expressions (visible_if, required_if, rules), phone-number validity,
decimal precision and references' existence are the validator's alone, noted as `x-` keys.
`record_schema(form)` adds the computed fields, read-only, for responses.
`ui_schema(form)` is what another front end needs to draw the form.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from form_engine.compiled import CompiledField, CompiledForm
from form_engine.messages import label_text

DIALECT = "https://json-schema.org/draft/2020-12/schema"


def _field_schema(item: CompiledField, required: bool, include_computed: bool
                  ) -> dict[str, Any]:
    if item.rows is not None:
        schema = _object_schema(item.rows.fields, include_computed)
        schema = {"type": "array", "items": schema, "maxItems": item.rows.max_rows}
        if item.rows.min_rows:
            schema["minItems"] = item.rows.min_rows
    else:
        schema = dict(item.field_type.json_schema(item.spec))
    schema["title"] = label_text(item.label, "en")
    if item.kind == "computed" or item.read_only:
        schema["readOnly"] = True
    for option in ("visible_if", "required_if", "readonly_if"):
        if option in item.spec:
            schema[f"x-{option}"] = item.spec[option]
    if required:
        if schema.get("type") == "string":
            schema["minLength"] = max(schema.get("minLength", 0), 1)
        if schema.get("type") == "array":
            schema["minItems"] = max(schema.get("minItems", 0), 1)
        return schema
    return {"anyOf": [schema, {"type": "null"}]} | {"title": schema["title"]}


def _is_required(item: CompiledField) -> bool:
    """Required unconditionally: JSON Schema cannot express expressions."""
    return item.required and item.visible_if is None and item.kind != "computed"


def _object_schema(fields: Iterable[CompiledField], include_computed: bool) -> dict[str, Any]:
    properties: dict[str, Any] = {}
    required: list[str] = []
    for item in fields:
        if item.kind == "layout" or (item.kind == "computed" and not include_computed):
            continue
        needed = _is_required(item) and not include_computed
        properties[item.key] = _field_schema(item, needed, include_computed)
        if needed:
            required.append(item.key)
    schema: dict[str, Any] = {"type": "object", "properties": properties,
                              "additionalProperties": False}
    if required:
        schema["required"] = required
    return schema


def input_schema(form: CompiledForm) -> dict[str, Any]:
    """JSON Schema of the data a client writes."""
    return {"$schema": DIALECT, "title": label_text(form.label, "en"),
            **_object_schema(form.fields, include_computed=False)}


def record_schema(form: CompiledForm) -> dict[str, Any]:
    """JSON Schema of a stored record's data, computed fields included (read-only)."""
    return {"$schema": DIALECT, "title": label_text(form.label, "en"),
            **_object_schema(form.fields, include_computed=True)}


def _ui_field(item: CompiledField) -> dict[str, Any]:
    spec = item.spec
    entry: dict[str, Any] = {"key": item.key, "type": item.type,
                             "widget": item.field_type.widget, "label": item.label}
    for option in ("help", "placeholder", "unit", "currency", "text"):
        if option in spec:
            entry[option] = spec[option]
    if "options" in spec:
        entry["options"] = [{"value": option["value"], "label": option.get("label",
                                                                           option["value"]),
                             **({"colour": option["colour"]} if "colour" in option else {})}
                            for option in spec["options"]]
    for option in ("required", "read_only"):
        if spec.get(option):
            entry[option] = True
    for option in ("visible_if", "required_if", "readonly_if"):
        if option in spec:
            entry[option] = spec[option]
    if item.kind == "computed":
        entry["computed"] = True
    if item.rows is not None:
        entry["columns"] = [_ui_field(column) for column in item.rows.fields]
    return entry


def layout_of(form: CompiledForm) -> list[dict[str, Any]]:
    """Sections with their columns and field keys; unplaced fields form a last section."""
    definition = form.definition
    sections = [{"section": block.get("section"), "columns": block.get("columns", 1),
                 "fields": list(block["fields"])} for block in definition.get("layout", [])]
    placed = {key for block in sections for key in block["fields"]}
    rest = [item.key for item in form.fields if item.key not in placed]
    if rest:
        sections.append({"section": None, "columns": 1 if sections else 2, "fields": rest})
    return sections


def ui_schema(form: CompiledForm) -> dict[str, Any]:
    return {"form": form.key, "label": form.label,
            "title": form.definition.get("title"),
            "layout": layout_of(form),
            "fields": {item.key: _ui_field(item) for item in form.fields}}
