"""`boolean`: yes or no (input also accepts 是/否, yes/no, true/false, 1/0)."""

from collections.abc import Mapping
from typing import Any

from form_engine.coercion import parse_bool
from form_engine.field_types.base import Coercer, Constant, FieldType, TypeEnv

WORDS = {"en": ("Yes", "No"), "zh": ("是", "否")}


class Boolean(FieldType):
    name = "boolean"
    widget = "boolean"
    operators = ("eq", "ne", "is_empty", "not_empty")

    def coercer(self, field: Mapping[str, Any], lenient: bool, env: TypeEnv) -> Coercer:
        return lambda value: parse_bool(value, lenient)

    def strict_source(self, field: Mapping[str, Any], constant: Constant) -> list[str] | None:
        return ["if v.__class__ is not bool: return None"]

    def json_schema(self, field: Mapping[str, Any]) -> dict[str, Any]:
        return {"type": "boolean"}

    def display(self, field: Mapping[str, Any], value: Any, locale: str) -> str:
        if value is None:
            return ""
        yes, no = WORDS.get(locale, WORDS["en"])
        return yes if value else no
