"""`rollup`: sum / count / avg / min / max over a subtable column (`subtable`, `column`) or
over related records of another form that point here (`related: {form, link_field}`,
computed by the platform through the resolver) — all of them, or those a `filter` in the
platform's filter language picks (`{"field": "purchase_date", "op": "last_n_days",
"value": 365}`: purchases in the last year; a relative date keeps it current as days pass).

Its `result` is a number, or — for `min` and `max` over a date or date-time column (the
latest purchase, the last follow-up) — a `date` or `datetime`, presented, filtered and
stored as that column's values are (ISO text in JSON)."""

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, ClassVar

from form_engine.field_types.base import ORDERED, Coercer, FieldType, TypeEnv
from form_engine.field_types.lookup import KEY_PATTERN

FUNCTIONS = ("avg", "count", "max", "min", "sum")
RESULTS = ("date", "datetime", "number")
DATED = ("date", "datetime")           # results only `min` and `max` can have
RESULT_SCHEMAS = {
    "number": {"type": "number"},
    "date": {"type": "string", "format": "date"},
    "datetime": {"type": "string", "format": "date-time"},
}


def result_of(field: Mapping[str, Any]) -> str:
    """What a rollup's value is: `number` (a count, a total …), `date` or `datetime`."""
    result = field.get("result", "number")
    return result if result in DATED and field.get("function") in ("min", "max") else (
        "number")


def dated_value(result: str, value: Any) -> Any:
    """A min/max of a date (date-time) column as a `date` (aware `datetime`): from the
    value itself or its ISO text; None for anything else."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00")) if (
                result == "datetime" or len(value) > 10) else date.fromisoformat(value)
        except ValueError:
            return None
    if result == "date":
        return value.date() if isinstance(value, datetime) else (
            value if isinstance(value, date) else None)
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else None
    return None


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
                                   "link_field": {"type": "string", "pattern": KEY_PATTERN},
                                   "filter": {"type": "object", "minProperties": 1}}},
        "result": {"enum": list(RESULTS)},
        "precision": {"type": "integer", "minimum": 0, "maximum": 10},
    }
    required_options = ("function",)

    def coercer(self, field: Mapping[str, Any], lenient: bool, env: TypeEnv) -> Coercer:
        result = result_of(field)
        if result == "number":
            return lambda value: value
        return lambda value: None if value is None else dated_value(result, value)

    def json_schema(self, field: Mapping[str, Any]) -> dict[str, Any]:
        if field["function"] == "count":
            return {"type": "integer"}
        return dict(RESULT_SCHEMAS[result_of(field)])

    def to_json(self, value: Any) -> Any:
        return value.isoformat() if isinstance(value, date) else value

    def display(self, field: Mapping[str, Any], value: Any, locale: str) -> str:
        if value is None:
            return ""
        result = result_of(field)
        if result == "number" or dated_value(result, value) is None:
            return str(value)
        value = dated_value(result, value)
        if result == "datetime":
            return value.strftime("%Y-%m-%d %H:%M")
        return f"{value.year}年{value.month}月{value.day}日" if locale == "zh" else (
            value.isoformat())
