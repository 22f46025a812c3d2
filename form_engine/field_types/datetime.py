"""`datetime`: a moment, ISO 8601 with an offset in JSON; naive input is read in the
tenant's time zone."""

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from form_engine.coercion import ISO_DATETIME, parse_datetime
from form_engine.field_types.base import DATES, Coercer, FieldType, TypeEnv


class DateTime(FieldType):
    name = "datetime"
    widget = "datetime"
    operators = DATES

    def coercer(self, field: Mapping[str, Any], lenient: bool, env: TypeEnv) -> Coercer:
        return lambda value: parse_datetime(value, lenient, env.timezone)

    def json_schema(self, field: Mapping[str, Any]) -> dict[str, Any]:
        return {"type": "string", "format": "date-time", "pattern": ISO_DATETIME}

    def to_json(self, value: Any) -> Any:
        return value.isoformat() if isinstance(value, datetime) else value

    def display(self, field: Mapping[str, Any], value: Any, locale: str) -> str:
        return "" if value is None else value.strftime("%Y-%m-%d %H:%M")
