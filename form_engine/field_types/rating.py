"""`rating`: whole stars from 1 to `max` (default 5)."""

from collections.abc import Mapping
from typing import Any, ClassVar

from form_engine.coercion import whole_number
from form_engine.field_types.base import (
    ORDERED,
    Coercer,
    Constant,
    FieldType,
    TypeEnv,
    reject,
)

STARS = frozenset("★☆")


class Rating(FieldType):
    name = "rating"
    widget = "rating"
    operators = ORDERED
    options: ClassVar[dict[str, Any]] = {"max": {"type": "integer", "minimum": 1, "maximum": 10}}

    def coercer(self, field: Mapping[str, Any], lenient: bool, env: TypeEnv) -> Coercer:
        top = field.get("max", 5)

        def coerce(value: Any) -> int:
            if lenient and isinstance(value, str) and value.strip() and set(
                    value.strip()) <= STARS:
                value = value.count("★")  # as displayed and exported: ★★★★☆ is 4
            if lenient:
                value = whole_number(value)
            if not isinstance(value, int) or isinstance(value, bool):
                raise reject("not_an_integer")
            if value < 1:
                raise reject("too_small", limit=1)
            if value > top:
                raise reject("too_large", limit=top)
            return value

        return coerce

    def strict_source(self, field: Mapping[str, Any], constant: Constant) -> list[str] | None:
        return [f"if v.__class__ is not int or not 1 <= v <= {field.get('max', 5)}: return None"]

    def json_schema(self, field: Mapping[str, Any]) -> dict[str, Any]:
        return {"type": "integer", "minimum": 1, "maximum": field.get("max", 5)}

    def display(self, field: Mapping[str, Any], value: Any, locale: str) -> str:
        return "" if value is None else "★" * int(value) + "☆" * (field.get("max", 5) - int(value))
