"""What the form builder shows of the engine's field types: the palette (every type,
grouped, with a glyph and its English and Chinese name) and, for a selected field, the
property panel — every option the engine knows for its type (read from the definition
meta-schema, so a new option of a type appears here by itself), each with the widget that
edits it and the parsing that turns what was typed back into the definition's value."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from form_engine.field_types import FIELD_TYPES
from form_engine.metaschema import field_options

# group key → the types in it, in palette order
GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("basic", ("text", "textarea", "email", "phone", "url", "address")),
    ("choice", ("select", "multiselect", "boolean", "rating")),
    ("numbers", ("number", "currency", "percent")),
    ("dates", ("date", "datetime", "time")),
    ("people", ("user", "department")),
    ("relations", ("lookup", "subtable")),
    ("computed", ("formula", "rollup", "autonumber")),
    ("layout", ("section", "note")),
)
TYPES: dict[str, tuple[str, str, str]] = {   # type → (glyph, English, Chinese)
    "text": ("Aa", "Text", "单行文本"), "textarea": ("¶", "Long text", "多行文本"),
    "email": ("@", "E-mail", "邮箱"), "phone": ("☎", "Phone", "电话"),
    "url": ("↗", "Web address", "网址"), "address": ("⌂", "Address", "地址"),
    "select": ("◉", "Single choice", "单选"), "multiselect": ("☑", "Multiple choice", "多选"),
    "boolean": ("✓", "Yes / no", "是/否"), "rating": ("★", "Rating", "评分"),
    "number": ("#", "Number", "数字"), "currency": ("¥", "Money", "金额"),
    "percent": ("%", "Percent", "百分比"), "date": ("▦", "Date", "日期"),
    "datetime": ("◷", "Date and time", "日期时间"), "time": ("◔", "Time", "时间"),
    "user": ("☺", "Member", "成员"), "department": ("⊞", "Department", "部门"),
    "lookup": ("⇄", "Linked record", "关联记录"), "subtable": ("▤", "Subtable", "子表"),
    "formula": ("ƒ", "Formula", "公式"), "rollup": ("Σ", "Rollup", "汇总"),
    "autonumber": ("№", "Serial number", "流水号"), "section": ("§", "Heading", "分段标题"),
    "note": ("ℹ", "Note", "说明文字"),
}
assert set(TYPES) == set(FIELD_TYPES), "every engine type is in the palette"
assert {name for _group, names in GROUPS for name in names} == set(FIELD_TYPES)

# the colours a choice's option may take (CLDR-free names in strings.py: colour_<name>)
COLOURS: tuple[tuple[str, str], ...] = (
    ("#d9534f", "red"), ("#f0ad4e", "orange"), ("#f7d154", "yellow"), ("#5cb85c", "green"),
    ("#5bc0de", "cyan"), ("#337ab7", "blue"), ("#9b59b6", "purple"), ("#95a5a6", "grey"))

# options edited by their own widgets, in this order; the rest follow as the schema has them
FIRST = ("label", "key", "help", "placeholder", "required", "read_only", "default")
LAST = ("visible_if", "required_if", "readonly_if", "default_expression", "unique", "indexed")
EXPRESSIONS = frozenset({"visible_if", "required_if", "readonly_if", "default_expression",
                         "expression", "error_if"})
NOT_IN_PANEL = frozenset({"type", "options", "fields", "related"})  # own editors / advanced


@dataclass(frozen=True)
class Property:
    name: str        # the option's key in the definition
    widget: str      # label | key | check | expression | enum | integer | number | text
    value: Any
    choices: tuple[str, ...] = ()
    locked: bool = False  # shown, not editable (a published key)
    error: str = ""


@dataclass
class Panel:
    key: str
    type: str
    properties: list[Property] = field(default_factory=list)
    options: list[dict[str, Any]] | None = None   # a choice's options
    columns: list[dict[str, Any]] | None = None   # a subtable's columns


def type_name(type_: str, locale: str) -> str:
    _glyph, english, chinese = TYPES.get(type_, ("?", type_, type_))
    return chinese if locale == "zh" else english


def glyph(type_: str) -> str:
    return TYPES.get(type_, ("?", "", ""))[0]


def palette(locale: str) -> list[tuple[str, list[tuple[str, str, str]]]]:
    """(group, [(type, glyph, name)]) in the reader's language."""
    return [(group, [(name, TYPES[name][0], type_name(name, locale)) for name in names])
            for group, names in GROUPS]


def widget_of(name: str, schema: dict[str, Any]) -> tuple[str, tuple[str, ...]]:
    if name == "key":
        return "key", ()
    if schema.get("$ref", "").endswith("/label") or name in ("label", "help"):
        return "label", ()
    if name in EXPRESSIONS:
        return "expression", ()
    if "enum" in schema:
        return "enum", tuple(schema["enum"])
    kind = schema.get("type")
    if kind == "boolean":
        return "check", ()
    if kind == "integer":
        return "integer", ()
    if kind == "number":
        return "number", ()
    return "text", ()


def panel(item: dict[str, Any], published_keys: set[str], definition: dict[str, Any],
          forms: list[str]) -> Panel:
    """The properties of a field as the definition holds them; an option that names a
    form of the app or a field of this form is chosen from those (`forms`: the app's
    other forms)."""
    kind = FIELD_TYPES[item["type"]]
    options = field_options(kind)
    names = [name for name in FIRST if name in options] + [
        name for name in options if name not in FIRST and name not in LAST
        and name not in NOT_IN_PANEL] + [name for name in LAST if name in options]
    picks = _picks(item, definition, forms)
    properties = []
    for name in names:
        widget, choices = widget_of(name, options[name])
        if name in picks:
            widget, choices = "pick", picks[name]
        properties.append(Property(name, widget, item.get(name), choices,
                                   locked=name == "key" and item["key"] in published_keys))
    return Panel(item["key"], item["type"], properties,
                 options=item.get("options") if "options" in options else None,
                 columns=item.get("fields") if item["type"] == "subtable" else None)


def _picks(item: dict[str, Any], definition: dict[str, Any], forms: list[str]
           ) -> dict[str, tuple[Any, ...]]:
    """(value, label) choices of the options that name a form or a field."""
    fields = definition.get("fields", [])
    tables = [field for field in fields if field["type"] == "subtable"]
    table = next((field for field in tables if field["key"] == item.get("subtable")), None)
    return {
        "form": tuple((key, key) for key in forms),
        "subtable": tuple((field["key"], field.get("label") or field["key"]) for field in tables),
        "column": tuple((column["key"], column.get("label") or column["key"])
                        for column in (table or {}).get("fields", [])),
    }


class Unreadable(ValueError):
    """What was typed cannot be the option's value; `code` names why (messages)."""

    def __init__(self, code: str) -> None:
        self.code = code
        super().__init__(code)


def parsed(widget: str, values: dict[str, str]) -> Any:
    """The option's value from the panel's inputs (`value`, or `en` and `zh` for a label);
    None removes the option."""
    if widget == "label":
        texts = {language: values.get(language, "").strip() for language in ("en", "zh")}
        return {language: text for language, text in texts.items() if text} or None
    text = values.get("value", "").strip()
    if widget == "check":
        return True if text in ("1", "on", "true") else None
    if text == "":
        return None
    if widget == "integer":
        try:
            return int(text)
        except ValueError:
            raise Unreadable("not_an_integer") from None
    if widget == "number":
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise Unreadable("not_a_number") from None
        if not number.is_finite():
            raise Unreadable("not_a_number")
        return number
    return text


def default_value(type_: str, text: str) -> Any:
    """A default typed in the panel, as the field's type holds it."""
    text = text.strip()
    if text == "":
        return None
    if type_ in ("number", "currency", "percent", "rating"):
        try:
            return Decimal(text)
        except InvalidOperation:
            raise Unreadable("not_a_number") from None
    if type_ == "boolean":
        return text.lower() in ("1", "true", "yes", "是")
    return text
