"""`rollup`: sum / count / avg / min / max over a subtable column (`subtable`, `column`) or
over related records of another form that point here (`related: {form, link_field}`,
computed by the platform through the resolver)."""

from collections.abc import Mapping
from typing import Any, ClassVar

from form_engine.field_types.base import ORDERED, Coercer, FieldType, TypeEnv
from form_engine.field_types.lookup import KEY_PATTERN

FUNCTIONS = ("avg", "count", "max", "min", "sum")


class Rollup(FieldType):
    name = "rollup"
    kind = "computed"
    widget = "computed"
    operators = ORDERED
    in_subtable = False
    options: ClassVar[dict[str, Any]] = {
        "function": {"enum": list(FUNCTIONS)},
        "subtable": {"type": "string", "pattern": KEY_PATTERN},
        "column": {"type": "string", "pattern": KEY_PATTERN},
        "related": {"type": "object", "additionalProperties": False,
                    "required": ["form", "link_field"],
                    "properties": {"form": {"type": "string", "pattern": KEY_PATTERN},
                                   "link_field": {"type": "string", "pattern": KEY_PATTERN}}},
        "precision": {"type": "integer", "minimum": 0, "maximum": 10},
    }
    required_options = ("function",)

    def coercer(self, field: Mapping[str, Any], lenient: bool, env: TypeEnv) -> Coercer:
        return lambda value: value

    def json_schema(self, field: Mapping[str, Any]) -> dict[str, Any]:
        return {"type": "integer"} if field["function"] == "count" else {"type": "number"}
