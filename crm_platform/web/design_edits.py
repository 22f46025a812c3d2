"""The builder's posted changes turned into edits of the draft (`form_engine.editing`):
which edit an `op` names and what its inputs say. Lists the builder edits entry by entry
— a choice's options, a subtable's columns, the form's rules — share one way of adding,
moving, changing and removing an entry."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from crm_platform.errors import LoomError
from crm_platform.models import App, Form
from crm_platform.scoping import TenantScope
from crm_platform.services.forms import design
from crm_platform.services.forms.definitions import app_form_keys
from crm_platform.web.design_fields import default_value, parsed, type_name, widget_of
from form_engine import editing
from form_engine.field_types import FIELD_TYPES
from form_engine.metaschema import field_options

Edit = Callable[[Mapping[str, Any]], dict[str, Any]]
COLUMN_TYPES = ("text", "number", "currency", "percent", "date", "email", "phone")


def other_forms(scope: TenantScope, row: Form) -> list[str]:
    """The app's other forms: what a lookup may point at."""
    app = scope.get(App, row.app_id, "app")
    return sorted(app_form_keys(scope, app) - {row.key})


def edit_for(op: str, values: Mapping[str, str], row: Form, scope: TenantScope,
             selected: str | None) -> tuple[Edit, str | None]:
    """The edit `op` names, and the field selected once it is made."""
    key = values.get("key", "")
    section = number(values.get("section"))
    index = number(values.get("index"))
    if op == "add":
        type_ = values.get("type", "")
        label = {"en": type_name(type_, "en"), "zh": type_name(type_, "zh")}
        trial, new_key = editing.add_field(row.draft, type_, after=values.get("after") or None,
                                           section=section, index=index, label=label,
                                           forms=other_forms(scope, row))
        return (lambda _draft: trial), new_key
    if op == "move":
        return (lambda draft: editing.move_field(draft, key, section or 0, index or 0)), key
    if op == "step":
        direction = -1 if values.get("direction") == "up" else 1
        return (lambda draft: editing.step_field(draft, key, direction)), key
    if op == "to_section":
        return (lambda draft: editing.move_field(draft, key, section or 0, 10**6)), key
    if op == "remove":
        return (lambda draft: editing.remove_field(draft, key)), None
    if op == "set":
        renamed = values.get("option") == "key" and values.get("value", "").strip()
        return _set(values, row, scope), renamed or key
    if op.startswith("option_"):
        return _in_field(key, "options", op.removeprefix("option_"), values, _new_option,
                         _set_option), key
    if op.startswith("column_"):
        return _in_field(key, "fields", op.removeprefix("column_"), values, _new_column,
                         _set_column), key
    if op.startswith("rule_"):
        return _rules(op.removeprefix("rule_"), values), selected
    if op == "section_add":
        return (lambda draft: editing.add_section(draft, section)), selected
    if op == "section_set":
        columns = number(values.get("columns"))
        return (lambda draft: editing.set_section(draft, section or 0, label={
            "en": values.get("en", ""), "zh": values.get("zh", "")}, columns=columns)), None
    if op == "section_move":
        direction = -1 if values.get("direction") == "up" else 1
        return (lambda draft: editing.move_section(draft, section or 0, direction)), None
    if op == "section_remove":
        return (lambda draft: editing.remove_section(draft, section or 0)), None
    if op == "form_set":
        return _form_setting(values), selected
    raise LoomError("bad_request").with_status(400)


def _set(values: Mapping[str, str], row: Form, scope: TenantScope) -> Edit:
    key, option = values.get("key", ""), values.get("option", "")
    item = next((item for item in row.draft.get("fields", []) if item["key"] == key), None)
    if item is None:
        raise editing.EditRefused("no_such_field", value=key)
    schema = field_options(FIELD_TYPES[item["type"]]).get(option)
    if schema is None or option in ("type", "options", "fields"):
        raise editing.EditRefused("not_a_form_option", value=option)
    widget, _choices = widget_of(option, schema)
    if option == "key":
        new = values.get("value", "").strip()
        if key in design.published_keys(scope, row) and new != key:
            raise editing.EditRefused("key_is_published", value=key)
        return lambda draft: editing.set_option(draft, key, "key", new)
    value = (default_value(item["type"], values.get("value", "")) if option == "default"
             else parsed(widget, values))
    return lambda draft: editing.set_option(draft, key, option, value)


def _form_setting(values: Mapping[str, str]) -> Edit:
    option = values.get("option", "")
    value: Any
    if option in ("label", "description"):
        value = parsed("label", values)
    elif option == "dedup":
        chosen = [key for key in values.getlist("value") if key]  # type: ignore[attr-defined]
        value = [chosen] if chosen else None
    elif option == "title":
        value = "{" + values["value"] + "}" if values.get("value") else None
    else:
        value = values.get("value", "").strip() or None
    return lambda draft: editing.set_form_option(draft, option, value)


def edited_list(entries: list[dict[str, Any]], action: str, values: Mapping[str, str],
                make: Callable[[list[dict[str, Any]]], dict[str, Any]],
                change: Callable[[dict[str, Any], Mapping[str, str]], None], where: str
                ) -> None:
    """Add, move, change or remove one entry of a list, in place."""
    index = number(values.get("index")) or 0
    if action == "add":
        entries.append(make(entries))
        return
    if not 0 <= index < len(entries):
        raise editing.EditRefused("no_such_field", value=f"{where}[{index}]")
    if action == "remove":
        del entries[index]
    elif action == "move":
        target = index + (-1 if values.get("direction") == "up" else 1)
        if 0 <= target < len(entries):
            entries[index], entries[target] = entries[target], entries[index]
    elif action == "set":
        change(entries[index], values)


def _in_field(key: str, name: str, action: str, values: Mapping[str, str],
              make: Callable[..., dict[str, Any]],
              change: Callable[[dict[str, Any], Mapping[str, str]], None]) -> Edit:
    """An edit of the list `name` (options, columns) of the field `key`."""
    def edit(draft: Mapping[str, Any]) -> dict[str, Any]:
        result = editing.normalized(draft)
        item = next((item for item in result["fields"] if item["key"] == key), None)
        if item is None or not isinstance(item.get(name), list):
            raise editing.EditRefused("no_such_field", value=key)
        edited_list(item[name], action, values,
                    lambda entries: make(entries, values, result), change, key)
        return result

    return edit


def _new_option(entries: list[dict[str, Any]], _values: Mapping[str, str],
                _definition: Mapping[str, Any]) -> dict[str, Any]:
    place = len(entries) + 1
    return {"value": editing.new_key(f"option_{place}", {entry["value"] for entry in entries}),
            "label": {"en": f"Option {place}", "zh": f"选项 {place}"}}


def _set_option(option: dict[str, Any], values: Mapping[str, str]) -> None:
    option["value"] = values.get("value", option["value"]).strip() or option["value"]
    _put(option, "label", parsed("label", values))
    _put(option, "colour", values.get("colour", "").strip())


def _new_column(_entries: list[dict[str, Any]], values: Mapping[str, str],
                definition: Mapping[str, Any]) -> dict[str, Any]:
    type_ = values.get("type", "text")
    if type_ not in COLUMN_TYPES:
        raise editing.EditRefused("unknown_type", name=type_, known=", ".join(COLUMN_TYPES))
    label = {"en": type_name(type_, "en"), "zh": type_name(type_, "zh")}
    return {"key": editing.new_key(label["en"], editing.field_keys(definition)),
            "type": type_, "label": label}


def _set_column(column: dict[str, Any], values: Mapping[str, str]) -> None:
    column["label"] = parsed("label", values) or column.get("label") or column["key"]
    _put(column, "required", True if values.get("required") else None)


def _rules(action: str, values: Mapping[str, str]) -> Edit:
    """The form's rules: "error if <expression>", a message in both languages, and the
    field it points at."""
    def make(rules: list[dict[str, Any]]) -> dict[str, Any]:
        return {"key": editing.new_key(f"rule_{len(rules) + 1}", {rule["key"] for rule in rules}),
                "error_if": "false",
                "message": {"en": "This record is not valid.", "zh": "此记录不符合规则。"}}

    def change(rule: dict[str, Any], posted: Mapping[str, str]) -> None:
        rule["error_if"] = posted.get("error_if", "").strip() or rule["error_if"]
        rule["message"] = parsed("label", posted) or rule["message"]
        _put(rule, "field", posted.get("target"))

    def edit(draft: Mapping[str, Any]) -> dict[str, Any]:
        rules = [dict(rule) for rule in draft.get("rules", [])]
        edited_list(rules, action, values, make, change, "rules")
        return editing.set_form_option(draft, "rules", rules)

    return edit


def _put(entry: dict[str, Any], name: str, value: Any) -> None:
    """Set `name`, or drop it when empty."""
    if value:
        entry[name] = value
    else:
        entry.pop(name, None)


def number(text: str | None) -> int | None:
    try:
        return int(text) if text not in (None, "") else None
    except ValueError:
        return None
