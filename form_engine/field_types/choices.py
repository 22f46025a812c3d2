"""Shared behaviour of select and multiselect: options with value, label and colour."""

from collections.abc import Iterator, Mapping
from typing import Any

from form_engine.errors import Problem
from form_engine.messages import label_text

OPTION_SCHEMA = {
    "type": "object",
    "properties": {
        "value": {"type": "string", "minLength": 1, "maxLength": 100},
        "label": {"$ref": "#/$defs/label"},
        "colour": {"type": "string", "pattern": "^#[0-9a-fA-F]{6}$"},
    },
    "required": ["value"],
    "additionalProperties": False,
}
OPTIONS = {"options": {"type": "array", "items": OPTION_SCHEMA, "minItems": 1,
                       "maxItems": 1000}}


def check_options(field: Mapping[str, Any]) -> Iterator[Problem]:
    seen: set[str] = set()
    for index, option in enumerate(field.get("options", [])):
        if option["value"] in seen:
            yield Problem(f"options[{index}].value", "duplicate_option",
                          {"value": option["value"]})
        seen.add(option["value"])


def option_values(field: Mapping[str, Any]) -> list[str]:
    return [option["value"] for option in field["options"]]


def resolver(field: Mapping[str, Any], lenient: bool) -> dict[str, str]:
    """What may be typed for each option: its value, and (lenient) its labels."""
    table = {option["value"]: option["value"] for option in field["options"]}
    if lenient:
        for option in field["options"]:
            label = option.get("label")
            texts = label.values() if isinstance(label, Mapping) else [label] if label else []
            for text in texts:
                table.setdefault(str(text).strip(), option["value"])
    return table


def option_label(field: Mapping[str, Any], value: Any, locale: str) -> str:
    for option in field["options"]:
        if option["value"] == value:
            return label_text(option.get("label") or value, locale)
    return str(value)
