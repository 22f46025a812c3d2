"""`currency`: an exact amount of money in one currency (default 2 places)."""

from collections.abc import Mapping
from decimal import Decimal
from typing import Any, ClassVar

from form_engine.field_types.numbers import NUMBER_OPTIONS, NumberLike

SYMBOLS = {"CNY": "¥", "USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "HKD": "HK$"}


class Currency(NumberLike):
    name = "currency"
    widget = "currency"
    options: ClassVar[dict[str, Any]] = {
        **NUMBER_OPTIONS, "currency": {"type": "string", "pattern": "^[A-Z]{3}$"}}
    default_precision = 2
    decorations = ("HK$", "US$", "¥", "￥", "$", "€", "£", "元", "CNY", "RMB", "USD", "EUR")

    def display(self, field: Mapping[str, Any], value: Any, locale: str) -> str:
        if value is None:
            return ""
        code = field.get("currency", "CNY")
        places = self.precision(field)
        return f"{SYMBOLS.get(code, code + ' ')}{Decimal(value):,.{places}f}"
