"""`subtable`: line items, each row a small record with its own `fields` (errors at
`lines[2].qty`). The validator runs each row through the same pipeline as the form."""

from collections.abc import Mapping
from typing import Any, ClassVar

from form_engine.field_types.base import Coercer, FieldType, TypeEnv, reject

MAX_ROWS = 1000


class Subtable(FieldType):
    name = "subtable"
    widget = "subtable"
    operators = ("is_empty", "not_empty")
    in_subtable = False
    options: ClassVar[dict[str, Any]] = {
        "fields": {"type": "array", "items": {"$ref": "#/$defs/field"}, "minItems": 1,
                   "maxItems": 50},
        "min_rows": {"type": "integer", "minimum": 0, "maximum": MAX_ROWS},
        "max_rows": {"type": "integer", "minimum": 1, "maximum": MAX_ROWS},
    }
    required_options = ("fields",)

    def coercer(self, field: Mapping[str, Any], lenient: bool, env: TypeEnv) -> Coercer:
        """Only the container: a list of objects of an allowed length."""
        low, high = field.get("min_rows", 0), field.get("max_rows", MAX_ROWS)

        def coerce(value: Any) -> list[Any]:
            if not isinstance(value, list):
                raise reject("wrong_type", expected="list")
            if len(value) > high:
                raise reject("too_many_rows", limit=high)
            if len(value) < low:
                raise reject("too_few_rows", limit=low)
            return value

        return coerce

    def json_schema(self, field: Mapping[str, Any]) -> dict[str, Any]:
        raise NotImplementedError("subtables are exported by form_engine.schema_export")

    def display(self, field: Mapping[str, Any], value: Any, locale: str) -> str:
        count = len(value or [])
        return f"{count} 行" if locale == "zh" else f"{count} line(s)"
