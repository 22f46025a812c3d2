"""Money and numbers on the pages: formatted without Babel's per-call lookups, yet exactly
as Babel formats them, in every language Loom speaks."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest
from babel.numbers import format_currency, format_decimal

from crm_platform.web.formatting import BABEL_LOCALES, Formats

EDGES = ["0", "-0", "0.001", "-0.001", "0.005", "-0.005", "0.015", "999.995", "1234.5",
         "1234.50", "1E+3", "1.0E+2", "1E+20", "5E-7", "-1234567.891", "12.3456789"]


def values() -> list[Decimal]:
    rng = random.Random(7)
    return [Decimal(text) for text in EDGES] + [
        Decimal(rng.randrange(-10**12, 10**12)) / Decimal(10 ** rng.randrange(0, 7))
        for _ in range(1500)]


@pytest.mark.parametrize("language", sorted(BABEL_LOCALES))
def test_money_and_numbers_read_exactly_as_babel_writes_them(language):
    fmt, locale = Formats(language, "UTC"), BABEL_LOCALES[language]
    for value in values():
        assert fmt.number(value) == format_decimal(value, locale=locale,
                                                   decimal_quantization=False), value
        for currency in ("CNY", "USD", "JPY", "EUR", "KWD"):
            assert fmt.money(value, currency) == format_currency(value, currency,
                                                                 locale=locale), value


def test_what_babel_cannot_round_is_shown_whole_not_refused():
    huge = Decimal("123456789012345678901234567.5")  # more digits than a decimal rounds
    assert Formats("en", "UTC").money(huge, "CNY") == "CN¥123,456,789,012,345,678,901,234,567.5"
    assert Formats("zh", "UTC").number("abc") == ""
    assert Formats("en", "UTC").money(None, "CNY") == ""
