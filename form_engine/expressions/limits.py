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
from decimal import Decimal
from typing import Any

from form_engine.errors import ExpressionError

MAX_SOURCE_LENGTH = 2000        # characters in one expression
MAX_NESTING = 30                # brackets inside brackets, and AST depth / 3
MAX_NODES = 400                 # AST nodes in one expression
MAX_STRING_LENGTH = 100_000     # characters in any string an expression builds
MAX_LIST_LENGTH = 10_000        # items in any list an expression builds
MAX_INT_BITS = 3400             # about 1000 decimal digits
MAX_POWER_DIGITS = 1000         # decimal digits of a power's result


def to_number(value: Any) -> Any:
    """Floats never enter the sandbox: they become exact decimals."""
    return Decimal(repr(value)) if isinstance(value, float) else value


def _check_size(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value.bit_length() > MAX_INT_BITS:
        raise ExpressionError("number_too_large")
    if isinstance(value, str) and len(value) > MAX_STRING_LENGTH:
        raise ExpressionError("result_too_long", limit=MAX_STRING_LENGTH)
    if isinstance(value, list | tuple) and len(value) > MAX_LIST_LENGTH:
        raise ExpressionError("result_too_long", limit=MAX_LIST_LENGTH)
    return value


def _arith(name: str, function: Any) -> Any:
    def apply(left: Any, right: Any) -> Any:
        if left is None or right is None:
            return None
        try:
            return _check_size(function(to_number(left), to_number(right)))
        except ExpressionError:
            raise
        except TypeError as exc:
            raise ExpressionError("type_mismatch", operator=name,
                                  left=type(left).__name__, right=type(right).__name__) from exc
        except ArithmeticError as exc:
            raise ExpressionError("arithmetic_error", detail=type(exc).__name__) from exc

    return apply


def _divide(left: Any, right: Any) -> Any:
    if right == 0:
        return None  # like a spreadsheet's blank, not a crash
    if isinstance(left, int | Decimal) and isinstance(right, int | Decimal):
        return Decimal(left) / Decimal(right)
    return left / right


def _floor_divide(left: Any, right: Any) -> Any:
    return None if right == 0 else left // right


def _modulo(left: Any, right: Any) -> Any:
    if isinstance(left, str):
        raise TypeError("string formatting is not part of the language")
    return None if right == 0 else left % right


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
    return base ** exponent


def _multiply(left: Any, right: Any) -> Any:
    for sequence, count in ((left, right), (right, left)):
        if isinstance(sequence, str | list | tuple) and isinstance(count, int):
            limit = MAX_STRING_LENGTH if isinstance(sequence, str) else MAX_LIST_LENGTH
            if len(sequence) * count > limit:
                raise ExpressionError("result_too_long", limit=limit)
    return left * right


def _add(left: Any, right: Any) -> Any:
    if isinstance(left, str | list | tuple) and isinstance(right, str | list | tuple):
        limit = MAX_STRING_LENGTH if isinstance(left, str) else MAX_LIST_LENGTH
        if len(left) + len(right) > limit:
            raise ExpressionError("result_too_long", limit=limit)
    return left + right


def _ordering(name: str, function: Any) -> Any:
    def compare(left: Any, right: Any) -> bool:
        if left is None or right is None:
            return False
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
    return to_number(left) == to_number(right)


def _not_equal(left: Any, right: Any) -> bool:
    return to_number(left) != to_number(right)


OPERATORS: dict[type, Any] = {
    # arithmetic
    ast.Add: _arith("+", _add),
    ast.Sub: _arith("-", operator.sub),
    ast.Mult: _arith("*", _multiply),
    ast.Div: _arith("/", _divide),
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
