"""Reading what people type: numbers with thousands separators, dates in Chinese and slash
formats, yes/no in two languages. Used for form input and import ("input" mode); the JSON
API is strict ("json" mode) and takes only canonical values."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from form_engine.errors import CoercionError

TRUE_WORDS = frozenset({"true", "yes", "y", "1", "on", "是", "对", "真", "✓", "√"})
FALSE_WORDS = frozenset({"false", "no", "n", "0", "off", "否", "错", "假", "✗", "×"})

_FULL_WIDTH = str.maketrans("０１２３４５６７８９．，－＋：／", "0123456789.,-+:/")
_NUMBER = re.compile(r"^[+-]?(\d{1,3}(,\d{3})+|\d+)?(\.\d+)?$")
_WHOLE = re.compile(r"[0-9]{1,19}\Z")  # an id fits in 19 digits; longer is no number
_PLAIN_NUMBER = re.compile(r"[+-]?[0-9]+(\.[0-9]+)?\Z")
_GROUPED_NUMBER = re.compile(r"[+-]?[0-9]{1,3}(,[0-9]{3})+(\.[0-9]+)?\Z")  # 1,234.50
_DATE = re.compile(r"^\s*(\d{4})\s*(?:[-/.年])\s*(\d{1,2})\s*(?:[-/.月])\s*(\d{1,2})\s*日?\s*$")
# RFC 3339 date-time with an offset: what strict JSON (and the JSON Schema export) takes.
ISO_DATETIME = (r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?"
                r"(Z|[+-][0-9]{2}:[0-9]{2})$")
_ISO_DATETIME = re.compile(ISO_DATETIME)
_TIME = re.compile(r"^\s*(\d{1,2})[:：时點点](\d{2})(?:[:：分](\d{2}))?\s*秒?\s*$")


def normalize_text(value: str) -> str:
    return value.translate(_FULL_WIDTH).strip()


def parse_decimal(value: Any, lenient: bool) -> Decimal:
    """An exact decimal from a JSON number, or (lenient) from text like '1,234.50'."""
    if isinstance(value, bool):
        raise CoercionError("not_a_number", value=value)
    if isinstance(value, int | Decimal):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, str) and lenient:
        if _PLAIN_NUMBER.match(value):  # most cells: nothing to clean up
            return Decimal(value)
        if _GROUPED_NUMBER.match(value):  # the next most: thousands separators only
            return Decimal(value.replace(",", ""))
        text = normalize_text(value).replace(" ", "")
        if text and _NUMBER.match(text) and any(char.isdigit() for char in text):
            try:
                return Decimal(text.replace(",", ""))
            except InvalidOperation:
                pass
        raise CoercionError("not_a_number", value=value)
    raise CoercionError("not_a_number", value=value)


def whole_number(value: Any) -> Any:
    """Text that is a whole number ('3', ' 12 ', full-width '３') as an int; anything else
    as it was, for the caller to refuse. Only ASCII and full-width 0-9 count: '²' or '٣'
    are digits to Python but not numbers people type into a CRM; and at most 19 of them
    (the largest id), so no cell makes int() work on thousands of digits."""
    if isinstance(value, str):
        text = normalize_text(value)
        if _WHOLE.match(text):
            return int(text)
    return value


def rounded(value: Decimal, quantum: Decimal) -> Decimal | None:
    """Rounded half up to `quantum` (Decimal('0.01')); None when it has too many digits to
    round (10**40 at 2 places needs 43 digits, a decimal holds 28): a computed total or
    formula then stays blank instead of failing the save."""
    try:
        return value.quantize(quantum, rounding=ROUND_HALF_UP)
    except InvalidOperation:
        return None


def parse_bool(value: Any, lenient: bool) -> bool:
    if isinstance(value, bool):
        return value
    if lenient and isinstance(value, str | int) and not isinstance(value, bool):
        word = normalize_text(str(value)).lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
    raise CoercionError("not_a_boolean", value=value)


def parse_date(value: Any, lenient: bool) -> date:
    """ISO dates; lenient also 2024/1/5, 2024.1.5 and 2024年1月5日 (and date objects)."""
    if isinstance(value, datetime):
        if lenient:
            return value.date()
        raise CoercionError("bad_date", value=str(value))
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        text = value.strip()
        if len(text) == 10 and text[4] == "-" and text[7] == "-":
            try:
                return date.fromisoformat(text)
            except ValueError:
                pass
        elif lenient:
            match = _DATE.match(normalize_text(text))
            if match:
                try:
                    return date(*(int(part) for part in match.groups()))
                except ValueError:
                    pass
    raise CoercionError("bad_date", value=value)


def parse_datetime(value: Any, lenient: bool, default_tz: Any = UTC) -> datetime:
    """An aware datetime; naive input is taken in `default_tz` (the tenant's zone)."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        text = normalize_text(value) if lenient else value
        if not lenient and not _ISO_DATETIME.match(text):
            raise CoercionError("bad_datetime", value=value)
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            moment = None
            if lenient:
                moment = _lenient_datetime(text)
            if moment is None:
                raise CoercionError("bad_datetime", value=value) from None
    elif isinstance(value, date) and lenient:
        moment = datetime(value.year, value.month, value.day)
    else:
        raise CoercionError("bad_datetime", value=value)
    if moment.tzinfo is None:
        if not lenient:
            raise CoercionError("bad_datetime", value=value)
        moment = moment.replace(tzinfo=default_tz)
    return moment


def _lenient_datetime(text: str) -> datetime | None:
    day_part, _, time_part = text.partition(" ")
    match = _DATE.match(day_part)
    if not match:
        return None
    try:
        day = date(*(int(part) for part in match.groups()))
        moment = parse_time(time_part, True) if time_part else time()
    except (ValueError, CoercionError):
        return None
    return datetime.combine(day, moment)


def parse_time(value: Any, lenient: bool) -> time:
    if isinstance(value, time):
        return value
    if isinstance(value, str):
        text = value.strip()
        try:
            if len(text) in (5, 8):
                return time.fromisoformat(text)
        except ValueError:
            pass
        if lenient:
            match = _TIME.match(normalize_text(text))
            if match:
                hour, minute, second = match.groups()
                try:
                    return time(int(hour), int(minute), int(second or 0))
                except ValueError:
                    pass
    raise CoercionError("bad_time", value=value)


def decimal_places(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0
