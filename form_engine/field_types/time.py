"""`time`: a time of day, HH:MM or HH:MM:SS."""

from collections.abc import Mapping
from datetime import time
from typing import Any

from form_engine.coercion import parse_time
from form_engine.field_types.base import ORDERED, Coercer, FieldType, TypeEnv


class Time(FieldType):
    name = "time"
    widget = "time"
    operators = ORDERED

    def coercer(self, field: Mapping[str, Any], lenient: bool, env: TypeEnv) -> Coercer:
        return lambda value: parse_time(value, lenient)

    def json_schema(self, field: Mapping[str, Any]) -> dict[str, Any]:
        return {"type": "string", "pattern": r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$"}

    def to_json(self, value: Any) -> Any:
        return value.isoformat(timespec="minutes" if not value.second else "seconds") if (
            isinstance(value, time)) else value

    def display(self, field: Mapping[str, Any], value: Any, locale: str) -> str:
        return "" if value is None else value.strftime("%H:%M")
