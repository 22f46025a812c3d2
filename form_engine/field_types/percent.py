"""`percent`: a percentage stored as its number (12.5 means 12.5 %)."""

from collections.abc import Mapping
from typing import Any

from form_engine.field_types.numbers import NumberLike


class Percent(NumberLike):
    name = "percent"
    widget = "percent"
    default_precision = 2
    decorations = ("%", "％")

    def display(self, field: Mapping[str, Any], value: Any, locale: str) -> str:
        text = super().display(field, value, locale)
        return f"{text} %" if text else ""
