"""`formula`: a read-only value computed from other fields by an expression, with a typed
`result` (number, text, date, datetime or boolean) and, for numbers, a `precision`."""

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar

from form_engine.coercion import rounded
from form_engine.field_types.base import ORDERED, Coercer, Constant, FieldType, TypeEnv

RESULT_SCHEMAS = {
    "number": {"type": "number"},
    "text": {"type": "string"},
    "date": {"type": "string", "format": "date"},
    "datetime": {"type": "string", "format": "date-time"},
    "boolean": {"type": "boolean"},
}


class Formula(FieldType):
    name = "formula"
    kind = "computed"
    widget = "computed"
    operators = ORDERED
    options: ClassVar[dict[str, Any]] = {
        "expression": {"type": "string", "minLength": 1, "maxLength": 2000},
        "result": {"enum": sorted(RESULT_SCHEMAS)},
        "precision": {"type": "integer", "minimum": 0, "maximum": 10},
    }
    required_options = ("expression",)

    def coercer(self, field: Mapping[str, Any], lenient: bool, env: TypeEnv) -> Coercer:
        """Shapes a computed result into the declared type (None when it cannot be)."""
        result = field.get("result", "number")
        places = field.get("precision")
        quantum = None if places is None else Decimal(1).scaleb(-places)

        def shape(value: Any) -> Any:
            if value is None:
                return None
            if result == "number":
                if value.__class__ is not Decimal:
                    if isinstance(value, bool) or not isinstance(value, int | Decimal):
                        return None
                    value = Decimal(value)
                if quantum is not None:
                    return rounded(value, quantum)
                return value
            if result == "text":
                return value if isinstance(value, str) else str(value)
            if result == "boolean":
                return bool(value)
            if result == "date":
                return value.date() if isinstance(value, datetime) else (
                    value if isinstance(value, date) else None)
            if result == "datetime":
                return value if isinstance(value, datetime) else None
            return value

        return shape

    def strict_source(self, field: Mapping[str, Any], constant: Constant) -> list[str] | None:
        """A decimal result is rounded in place; anything else goes through the shaper."""
        if field.get("result", "number") != "number":
            return None
        places = field.get("precision")
        exact = "v" if places is None else (
            f"{constant(rounded)}(v, {constant(Decimal(1).scaleb(-places))})")
        shaper = constant(self.coercer(field, False, TypeEnv()))
        return [f"v = {exact} if v.__class__ is {constant(Decimal)} else {shaper}(v)"]

    def json_schema(self, field: Mapping[str, Any]) -> dict[str, Any]:
        return dict(RESULT_SCHEMAS[field.get("result", "number")])

    def to_json(self, value: Any) -> Any:
        return value.isoformat() if isinstance(value, date) else value
