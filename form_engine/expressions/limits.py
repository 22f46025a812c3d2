"""The sandbox's hard limits and the bounded, null-safe operators built on them.

Every operator here either finishes quickly or raises `ExpressionError`: exponentiation is
bounded by the size of its result (simpleeval's own limit lets `999999**999999` run for
seconds), repeated strings and lists by their length, integers by their bit length. Empty
values propagate: `None + 1` is `None`, `None > 1` is `False` — a form with blank fields
never crashes a formula or a rule.
"""

from __future__ import annotations

import ast
import math
import operator
from datetime import date, datetime, timedelta
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from form_engine.errors import ExpressionError

MAX_SOURCE_LENGTH = 2000        # characters in one expression
MAX_NESTING = 30                # brackets inside brackets, and AST depth / 3
MAX_NODES = 400                 # AST nodes in one expression
MAX_STRING_LENGTH = 100_000     # characters in any string an expression builds
MAX_LIST_LENGTH = 10_000        # items in any list an expression builds
MAX_INT_BITS = 3400             # about 1000 decimal digits
MAX_POWER_DIGITS = 1000         # decimal digits of a power's result
MAX_DECIMAL_EXPONENT = 100      # decimals stay within 1e-100 .. 1e100


def check_decimal(value: Decimal) -> Decimal:
    """A finite decimal of sane magnitude: converting it to int or text stays cheap."""
    if not value.is_finite():
        raise ExpressionError("number_too_large")
    if value and not -MAX_DECIMAL_EXPONENT <= value.adjusted() <= MAX_DECIMAL_EXPONENT:
        raise ExpressionError("number_too_large")
    return value


def to_number(value: Any) -> Any:
    """Floats never enter the sandbox: they become exact decimals."""
    if isinstance(value, float):
        return check_decimal(Decimal(repr(value)))
    return value


def cells(value: Any, budget: int = MAX_LIST_LENGTH) -> int:
    """How many items a (nested) list holds, counting repeats; stops past `budget`."""
    total = 0
    stack = [value]
    while stack:
        current = stack.pop()
        if isinstance(current, list | tuple):
            total += len(current)
            if total > budget:
                return total
            stack.extend(item for item in current if isinstance(item, list | tuple))
    return total


def _check_size(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value.bit_length() > MAX_INT_BITS:
        raise ExpressionError("number_too_large")
    if isinstance(value, Decimal):
        return check_decimal(value)
    if isinstance(value, str) and len(value) > MAX_STRING_LENGTH:
        raise ExpressionError("result_too_long", limit=MAX_STRING_LENGTH)
    if isinstance(value, list | tuple) and cells(value) > MAX_LIST_LENGTH:
        raise ExpressionError("result_too_long", limit=MAX_LIST_LENGTH)
    return value


# Exactly these classes (a bool is not a number here): the common case of a formula.
_EXACT_NUMBERS = frozenset({int, Decimal})


def _arith(name: str, function: Any, numbers: Any = None) -> Any:
    """A bounded, null-safe operator; `numbers` is the plain operation, used directly when
    both sides are ints or decimals (what `function` would do for them, minus the checks
    that only other types need)."""

    def apply(left: Any, right: Any) -> Any:
        if left is None or right is None:
            return None
        try:
            if numbers is not None and (left.__class__ in _EXACT_NUMBERS
                                        and right.__class__ in _EXACT_NUMBERS):
                # `_check_size` for numbers, written out: this is every formula's hot path
                value = numbers(left, right)
                if value.__class__ is Decimal:
                    if value.is_finite() and (not value or -MAX_DECIMAL_EXPONENT
                                              <= value.adjusted() <= MAX_DECIMAL_EXPONENT):
                        return value
                    raise ExpressionError("number_too_large")
                if value.__class__ is int and value.bit_length() > MAX_INT_BITS:
                    raise ExpressionError("number_too_large")
                return value  # an int, or None (division by zero)
            return _check_size(function(to_number(left), to_number(right)))
        except ExpressionError:
            raise
        except TypeError as exc:
            raise ExpressionError("type_mismatch", operator=name,
                                  left=type(left).__name__, right=type(right).__name__) from exc
        except ArithmeticError as exc:
            raise ExpressionError("arithmetic_error", detail=type(exc).__name__) from exc

    return apply


def _divide_numbers(left: Any, right: Any) -> Any:
    if not right:
        return None
    return (left if left.__class__ is Decimal else Decimal(left)) / right


def _divide(left: Any, right: Any) -> Any:
    if right == 0:
        return None  # like a spreadsheet's blank, not a crash
    if isinstance(left, int | Decimal) and isinstance(right, int | Decimal):
        return Decimal(left) / Decimal(right)
    return left / right


def _floored(left: Any, right: Any) -> tuple[Any, Any]:
    """Quotient and remainder rounded toward minus infinity, for ints and decimals alike
    (Decimal's own // and % truncate toward zero: -7.0 % 3 would be -1, not 2)."""
    if isinstance(left, bool) or isinstance(right, bool) or not (
            isinstance(left, int | Decimal) and isinstance(right, int | Decimal)):
        raise TypeError("needs numbers")
    if isinstance(left, int) and isinstance(right, int):
        return divmod(left, right)
    quotient = (Decimal(left) / Decimal(right)).to_integral_value(rounding=ROUND_FLOOR)
    return quotient, Decimal(left) - Decimal(right) * quotient


def _floor_divide(left: Any, right: Any) -> Any:
    return None if right == 0 else _floored(left, right)[0]


def _modulo(left: Any, right: Any) -> Any:
    return None if right == 0 else _floored(left, right)[1]


def _power(base: Any, exponent: Any) -> Any:
    if not isinstance(base, int | Decimal) or not isinstance(exponent, int | Decimal):
        raise TypeError("power needs numbers")
    magnitude = abs(base)
    if magnitude > 1 and exponent > 0:
        digits = math.log10(magnitude) * float(exponent)
        if digits > MAX_POWER_DIGITS:
            raise ExpressionError("power_too_large", limit=MAX_POWER_DIGITS)
    if magnitude < 1 and magnitude != 0 and exponent < 0:
        digits = -math.log10(magnitude) * float(-exponent)
        if digits > MAX_POWER_DIGITS:
            raise ExpressionError("power_too_large", limit=MAX_POWER_DIGITS)
    if abs(exponent) > 10_000:
        raise ExpressionError("power_too_large", limit=MAX_POWER_DIGITS)
    if isinstance(base, int) and isinstance(exponent, int) and exponent >= 0:
        return base ** exponent
    if base == 0 and exponent < 0:
        return None
    return Decimal(base) ** Decimal(exponent)  # exact to 28 digits, never a float


def _multiply(left: Any, right: Any) -> Any:
    for sequence, count in ((left, right), (right, left)):
        if isinstance(sequence, str | list | tuple) and isinstance(count, int):
            limit = MAX_STRING_LENGTH if isinstance(sequence, str) else MAX_LIST_LENGTH
            if len(sequence) * count > limit:
                raise ExpressionError("result_too_long", limit=limit)
    return left * right


def _is_day(value: Any) -> bool:
    return isinstance(value, date) and not isinstance(value, datetime)


def _whole_days(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise TypeError("days must be a number")
    if abs(value) > 1_000_000:
        raise ExpressionError("number_too_large")
    return int(value)


def _subtract(left: Any, right: Any) -> Any:
    """Numbers as usual; date - date is whole days; date - n is n days earlier."""
    if _is_day(left) and _is_day(right):
        return (left - right).days
    if isinstance(left, date) and not isinstance(right, date):
        return left - timedelta(days=_whole_days(right))
    return left - right


def _add(left: Any, right: Any) -> Any:
    if isinstance(left, date) and not isinstance(right, date):
        return left + timedelta(days=_whole_days(right))
    if isinstance(right, date) and not isinstance(left, date):
        return right + timedelta(days=_whole_days(left))
    if isinstance(left, str | list | tuple) and isinstance(right, str | list | tuple):
        limit = MAX_STRING_LENGTH if isinstance(left, str) else MAX_LIST_LENGTH
        if len(left) + len(right) > limit:
            raise ExpressionError("result_too_long", limit=limit)
    return left + right


def _as_moment(text: str, like: date) -> Any:
    """ISO text read as a date (a date-time) to compare with `like`; the text itself when
    it is not one. Dates are ISO text in stored JSON, so `due == today()` and
    `due >= '2026-01-01'` mean the same whichever form the value arrives in."""
    try:
        if isinstance(like, datetime):
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
            if moment.tzinfo is None and like.tzinfo is not None:
                moment = moment.replace(tzinfo=like.tzinfo)
            return moment
        return date.fromisoformat(text[:10]) if len(text) >= 10 else text
    except ValueError:
        return text


def _aligned(left: Any, right: Any) -> tuple[Any, Any]:
    if left.__class__ is str and isinstance(right, date):
        return _as_moment(left, right), right
    if right.__class__ is str and isinstance(left, date):
        return left, _as_moment(right, left)
    return left, right


def _ordering(name: str, function: Any) -> Any:
    def compare(left: Any, right: Any) -> bool:
        if left is None or right is None:
            return False
        if left.__class__ in _EXACT_NUMBERS and right.__class__ in _EXACT_NUMBERS:
            return function(left, right)  # type: ignore[no-any-return]
        left, right = _aligned(left, right)
        try:
            return function(to_number(left), to_number(right))
        except TypeError as exc:
            raise ExpressionError("type_mismatch", operator=name,
                                  left=type(left).__name__, right=type(right).__name__) from exc

    return compare


def _contains(item: Any, container: Any) -> bool:
    if container is None:
        return False
    if isinstance(container, str) and not isinstance(item, str):
        return False
    try:
        return item in container
    except TypeError:
        return False


def _not_contains(item: Any, container: Any) -> bool:
    return not _contains(item, container)


def _negate(value: Any) -> Any:
    if value is None:
        return None
    if not isinstance(value, int | Decimal) or isinstance(value, bool):
        raise ExpressionError("type_mismatch", operator="-", left=type(value).__name__,
                              right="")
    return -value


def _equal(left: Any, right: Any) -> bool:
    left, right = _aligned(left, right)
    return to_number(left) == to_number(right)


def _not_equal(left: Any, right: Any) -> bool:
    return not _equal(left, right)


OPERATORS: dict[type, Any] = {
    # arithmetic
    ast.Add: _arith("+", _add, operator.add),
    ast.Sub: _arith("-", _subtract, operator.sub),
    ast.Mult: _arith("*", _multiply, operator.mul),
    ast.Div: _arith("/", _divide, _divide_numbers),
    ast.FloorDiv: _arith("//", _floor_divide),
    ast.Mod: _arith("%", _modulo),
    ast.Pow: _arith("**", _power),
    ast.USub: _negate,
    ast.UAdd: lambda value: value,
    ast.Not: operator.not_,
    # comparison
    ast.Eq: _equal,
    ast.NotEq: _not_equal,
    ast.Lt: _ordering("<", operator.lt),
    ast.LtE: _ordering("<=", operator.le),
    ast.Gt: _ordering(">", operator.gt),
    ast.GtE: _ordering(">=", operator.ge),
    ast.In: _contains,
    ast.NotIn: _not_contains,
}
