"""How each field type behaves in SQL: how it compares (`field_kind`), whether full-text
search reads it (`search_keys`), and which fields get an index (`indexed_fields`)."""

from __future__ import annotations

from form_engine.compiled import CompiledField, CompiledForm
from form_engine.field_types import REFERENCE_TYPES
from form_engine.field_types.rollup import result_of

_TEXT = frozenset({"text", "textarea", "email", "phone", "url", "select", "autonumber",
                   "date", "datetime", "time"})
_INTEGERS = REFERENCE_TYPES | {"rating"}
_NUMBERS = frozenset({"number", "currency", "percent", "rollup"})
_SEARCHED_TYPES = ("text", "textarea", "email", "phone", "autonumber", "select", "url")


def field_kind(item: CompiledField) -> str:
    """How a field compares in SQL: text, integer, number, boolean, list or object."""
    if item.type == "formula":
        result = item.spec.get("result", "number")
        return {"number": "number", "boolean": "boolean"}.get(result, "text")
    if item.type == "rollup" and result_of(item.spec) != "number":
        return "text"   # the earliest / latest date: ISO text, compared as text
    if item.type in _TEXT:
        return "text"
    if item.type in _INTEGERS:
        return "integer"
    if item.type in _NUMBERS:
        return "number"
    if item.type == "boolean":
        return "boolean"
    if item.type == "multiselect":
        return "list"
    return "object"


def search_keys(form: CompiledForm) -> tuple[str, ...]:
    """The fields full-text search reads."""
    return tuple(item.key for item in form.fields if item.type in _SEARCHED_TYPES)


def indexed_fields(compiled: CompiledForm) -> list[tuple[str, str]]:
    """(key, SQL kind) of the fields marked `indexed` or `unique` that can be indexed, and
    of every other lookup as `link`: related records are found through it (a record's
    related lists, the related roll-ups that count them), as through a foreign key — its
    value indexed, not the orders a list sorts by."""
    fields = []
    for item in compiled.fields:
        if item.kind == "value" and item.type == "lookup" and not (
                item.spec.get("indexed") or item.spec.get("unique")):
            fields.append((item.key, "link"))
        elif item.kind == "value" and (item.spec.get("indexed") or item.spec.get("unique")):
            kind = field_kind(item)
            if kind in ("text", "integer", "number", "boolean"):
                fields.append((item.key, kind))
    return fields
