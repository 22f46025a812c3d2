"""`date`: a calendar day, ISO 8601 in JSON (input also 2024/1/5 and 2024年1月5日)."""

from collections.abc import Iterator, Mapping
from datetime import date
from typing import Any, ClassVar

from form_engine.coercion import parse_date
from form_engine.errors import Problem
from form_engine.field_types.base import (
    DATES,
    Coercer,
    Constant,
    FieldType,
    TypeEnv,
    reject,
)

DATE_OPTIONS = {"min": {"type": "string", "format": "date"},
                "max": {"type": "string", "format": "date"}}


class Date(FieldType):
    name = "date"
    widget = "date"
    operators = DATES
    options: ClassVar[dict[str, Any]] = DATE_OPTIONS

    def check(self, field: Mapping[str, Any]) -> Iterator[Problem]:
        for option in ("min", "max"):
            if option in field:
                try:
                    date.fromisoformat(field[option])
                except ValueError:
                    yield Problem(option, "bad_date", {"value": field[option], "label": option})
        if "min" in field and "max" in field and field["min"] > field["max"]:
            yield Problem("min", "min_above_max", {"min": field["min"], "max": field["max"]})

    def coercer(self, field: Mapping[str, Any], lenient: bool, env: TypeEnv) -> Coercer:
        low = date.fromisoformat(field["min"]) if "min" in field else None
        high = date.fromisoformat(field["max"]) if "max" in field else None

        def coerce(value: Any) -> date:
            day = parse_date(value, lenient)
            if low is not None and day < low:
                raise reject("too_small", limit=low.isoformat())
            if high is not None and day > high:
                raise reject("too_large", limit=high.isoformat())
            return day

        return coerce

    def strict_source(self, field: Mapping[str, Any], constant: Constant) -> list[str] | None:
        lines = ["if v.__class__ is not str or len(v) != 10 or v[4] != '-' or v[7] != '-':",
                 "    return None",
                 "try:",
                 f"    v = {constant(date.fromisoformat)}(v)",
                 "except ValueError:",
                 "    return None"]
        for option, test in (("min", "<"), ("max", ">")):
            if option in field:
                limit = constant(date.fromisoformat(field[option]))
                lines.append(f"if v {test} {limit}: return None")
        return lines

    def json_schema(self, field: Mapping[str, Any]) -> dict[str, Any]:
        return {"type": "string", "format": "date",
                "pattern": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"}

    def to_json(self, value: Any) -> Any:
        return value.isoformat() if isinstance(value, date) else value

    def display(self, field: Mapping[str, Any], value: Any, locale: str) -> str:
        if value is None:
            return ""
        if locale == "zh":
            return f"{value.year}年{value.month}月{value.day}日"
        return value.isoformat()
