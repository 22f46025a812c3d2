"""Dates, times, numbers and money on the pages, in the reader's language and time zone,
by Babel (CLDR): `2026年12月2日 08:30` for a Chinese reader in Shanghai, `Dec 2, 2026
12:30 AM` for an English one in UTC; `¥1,234.50` / `CN¥1,234.50`."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_time
from babel.numbers import format_currency, format_decimal

BABEL_LOCALES = {"en": Locale.parse("en"), "zh": Locale.parse("zh_Hans_CN")}


class Formats:
    """One reader's formats; templates get it as `fmt`."""

    def __init__(self, locale: str, timezone: str) -> None:
        self.locale = BABEL_LOCALES.get(locale, BABEL_LOCALES["en"])
        try:
            self.zone = ZoneInfo(timezone)
        except (KeyError, ValueError):
            self.zone = ZoneInfo("UTC")

    def datetime(self, value: datetime | str | None) -> str:
        """The date in full and the time to the minute, in the reader's zone."""
        if value is None or value == "":
            return ""
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)  # stored times are UTC
        local = value.astimezone(self.zone)
        return (f"{format_date(local, 'medium', locale=self.locale)} "
                f"{format_time(local, 'short', locale=self.locale)}")

    def date(self, value: date | str | None, width: str = "medium") -> str:
        if value is None or value == "":
            return ""
        if isinstance(value, str):
            value = date.fromisoformat(value[:10])
        return format_date(value, width, locale=self.locale)

    def number(self, value: Any) -> str:
        number = _decimal(value)
        return "" if number is None else format_decimal(number, locale=self.locale,
                                                        decimal_quantization=False)

    def money(self, value: Any, currency: str) -> str:
        number = _decimal(value)
        return "" if number is None else format_currency(number, currency, locale=self.locale)


def _decimal(value: Any) -> Decimal | None:
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None
