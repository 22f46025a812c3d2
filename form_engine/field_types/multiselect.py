"""`multiselect`: several of the options, in the order given, without repeats (import
also accepts one cell of values separated by commas, semicolons or 、)."""

import re
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar

from form_engine.errors import Problem
from form_engine.field_types.base import Coercer, FieldType, TypeEnv, check_min_max, reject
from form_engine.field_types.choices import (
    OPTIONS,
    check_options,
    option_label,
    option_values,
    resolver,
)

_SEPARATORS = re.compile(r"[,;，；、\n]")


class Multiselect(FieldType):
    name = "multiselect"
    widget = "multiselect"
    operators = ("contains", "not_contains", "is_empty", "not_empty", "in")
    options: ClassVar[dict[str, Any]] = {
        **OPTIONS,
        "min_items": {"type": "integer", "minimum": 0},
        "max_items": {"type": "integer", "minimum": 1},
    }
    required_options = ("options",)

    def check(self, field: Mapping[str, Any]) -> Iterator[Problem]:
        yield from check_options(field)
        yield from check_min_max(field, "min_items", "max_items")

    def coercer(self, field: Mapping[str, Any], lenient: bool, env: TypeEnv) -> Coercer:
        table = resolver(field, lenient)
        low, high = field.get("min_items", 0), field.get("max_items", len(field["options"]))

        def coerce(value: Any) -> list[str]:
            if lenient and isinstance(value, str):
                value = [part.strip() for part in _SEPARATORS.split(value) if part.strip()]
            if not isinstance(value, list):
                raise reject("wrong_type", expected="list")
            chosen: list[str] = []
            for item in value:
                found = table.get(item.strip() if lenient else item) if isinstance(
                    item, str) else None
                if found is None:
                    raise reject("not_an_option", value=item)
                if found in chosen:
                    raise reject("duplicate_items", value=item)
                chosen.append(found)
            if len(chosen) < low:
                raise reject("too_few_items", limit=low)
            if len(chosen) > high:
                raise reject("too_many_items", limit=high)
            return chosen

        return coerce

    def json_schema(self, field: Mapping[str, Any]) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": "array", "items": {"enum": option_values(field)},
                                  "uniqueItems": True,
                                  "maxItems": field.get("max_items", len(field["options"]))}
        if field.get("min_items"):
            schema["minItems"] = field["min_items"]
        return schema

    def display(self, field: Mapping[str, Any], value: Any, locale: str) -> str:
        separator = "、" if locale == "zh" else ", "
        return separator.join(option_label(field, item, locale) for item in value or [])
