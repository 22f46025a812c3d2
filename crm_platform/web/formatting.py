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
    """One reader's formats; templates get it as `fmt`. Made per request, it remembers what
    it formatted: a list repeats its dates, small numbers and stages a great deal."""

    def __init__(self, locale: str, timezone: str) -> None:
        self._seen: dict[tuple[str, Any, str], str] = {}
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
        key = ("date", str(value), width)
        if key not in self._seen:
            day = date.fromisoformat(value[:10]) if isinstance(value, str) else value
            self._seen[key] = format_date(day, width, locale=self.locale)
        return self._seen[key]

    def number(self, value: Any) -> str:
        number = _decimal(value)
        if number is None:
            return ""
        key = ("number", number, "")
        if key not in self._seen:
            self._seen[key] = format_decimal(number, locale=self.locale,
                                             decimal_quantization=False)
        return self._seen[key]

    def money(self, value: Any, currency: str) -> str:
        number = _decimal(value)
        if number is None:
            return ""
        key = ("money", number, currency)
        if key not in self._seen:
            self._seen[key] = format_currency(number, currency, locale=self.locale)
        return self._seen[key]


def _decimal(value: Any) -> Decimal | None:
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None
