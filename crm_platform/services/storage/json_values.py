"""Values as records store them in JSON: dates and times as ISO text (date-times in UTC, so
filters and sorts compare text), decimals exact, everything else as it is."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

_STORED_AS_IS = frozenset({str, int, float, bool, Decimal, type(None)})


def json_ready(value: Any) -> Any:
    """Values as they are stored: dates as ISO text, decimals exact."""
    kind = type(value)
    if kind in _STORED_AS_IS:
        return value
    if kind is dict:
        return {key: item if type(item) in _STORED_AS_IS else json_ready(item)
                for key, item in value.items()}
    if isinstance(value, dict):
        return {key: json_ready(item) for key, item in value.items()}
    if isinstance(value, list):
        return [json_ready(item) for item in value]
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()  # one zone: filters and sorts compare text
    if isinstance(value, date | time):
        return value.isoformat()
    return value
