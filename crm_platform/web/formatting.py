"""Dates, times, numbers and money on the pages, in the reader's language and time zone,
by Babel (CLDR): `2026年12月2日 08:30` for a Chinese reader in Shanghai, `Dec 2, 2026
12:30 AM` for an English one in UTC; `¥1,234.50` / `CN¥1,234.50`."""

from __future__ import annotations

from contextlib import suppress
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from functools import cache, lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_time
from babel.numbers import (
    format_currency,
    format_decimal,
    get_currency_precision,
    get_currency_symbol,
    get_decimal_symbol,
    get_group_symbol,
)

BABEL_LOCALES = {"en": Locale.parse("en"), "zh": Locale.parse("zh_Hans_CN")}


class Formats:
    """One reader's formats; templates get it as `fmt`. A list page formats a thousand
    values: the patterns are looked up once per process, and days are remembered."""

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
        return (f"{_day(local.date(), 'medium', self.locale)} "
                f"{format_time(local, 'short', locale=self.locale)}")

    def date(self, value: date | str | None, width: str = "medium") -> str:
        if value is None or value == "":
            return ""
        day = date.fromisoformat(value[:10]) if isinstance(value, str) else value
        return _day(day, width, self.locale)

    def number(self, value: Any) -> str:
        """All the digits the value has (none dropped, none added), grouped."""
        number = _decimal(value)
        if number is None:
            return ""
        return _patterns(self.locale, None).apply(number)

    def money(self, value: Any, currency: str) -> str:
        """Rounded to the currency's digits, with its symbol in the reader's language."""
        number = _decimal(value)
        if number is None:
            return ""
        return _patterns(self.locale, currency).apply(number)


class _Pattern:
    """Babel's standard decimal or currency pattern of one language, applied without
    Babel's lookups on every call (a list page formats a thousand values). Exact for the
    patterns grouped by threes that Loom's languages have, as a test checks against
    Babel; any other pattern, and any value this does not handle, goes to Babel."""

    def __init__(self, locale: Locale, currency: str | None) -> None:
        self.locale, self.currency = locale, currency
        pattern = (locale.currency_formats["standard"] if currency
                   else locale.decimal_formats[None])
        symbol = get_currency_symbol(currency, locale) if currency else ""
        affixes = (*pattern.prefix, *pattern.suffix)
        self.fast = (pattern.grouping == (3, 3) and pattern.int_prec[0] == 1
                     and not pattern.exp_prec and "@" not in pattern.pattern
                     and not any("'" in part for part in affixes))
        self.prefix = tuple(part.replace("¤", symbol) for part in pattern.prefix)
        self.suffix = tuple(part.replace("¤", symbol) for part in pattern.suffix)
        self.step = Decimal(1).scaleb(-get_currency_precision(currency)) if currency else None
        self.symbols = str.maketrans({",": get_group_symbol(locale),
                                      ".": get_decimal_symbol(locale)})

    def apply(self, value: Decimal) -> str:
        if not (self.fast and value.is_finite()):
            return self._babel(value)
        shown = abs(value)
        if self.step is not None:
            with suppress(InvalidOperation):  # more digits than a decimal holds: shown whole
                shown = shown.quantize(self.step, ROUND_HALF_EVEN)
        text = format(shown, ",f")
        if self.step is None and "." in text:
            text = text.rstrip("0").rstrip(".")
        negative = int(value.is_signed())  # as Babel: -0 keeps its sign
        return f"{self.prefix[negative]}{text.translate(self.symbols)}{self.suffix[negative]}"

    def _babel(self, value: Decimal) -> str:
        if self.currency:
            return format_currency(value, self.currency, locale=self.locale)
        return format_decimal(value, locale=self.locale, decimal_quantization=False)


@lru_cache(maxsize=8192)
def _day(day: date, width: str, locale: Locale) -> str:
    """A day as the language writes it; a list repeats days, and so do its pages."""
    return format_date(day, width, locale=locale)


@cache
def _patterns(locale: Locale, currency: str | None) -> _Pattern:
    return _Pattern(locale, currency)


def _decimal(value: Any) -> Decimal | None:
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None
