"""The expression function library: one table, alphabetized, each entry documented.

Functions are null-safe like the operators: an empty argument gives an empty result rather
than an error (`upper(None)` is `None`), except where the function is about emptiness.
Functions marked `contextual` receive the evaluation context first (the clock, the user).
"""

from __future__ import annotations

import calendar
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from form_engine.errors import ExpressionError
from form_engine.expressions.limits import MAX_STRING_LENGTH, check_decimal, to_number


@dataclass(frozen=True)
class Function:
    call: Callable[..., Any]
    signature: str
    min_args: int
    max_args: int | None
    category: str
    en: str
    zh: str
    contextual: bool = False


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _nullsafe(function: Callable[..., Any]) -> Callable[..., Any]:
    def call(*args: Any) -> Any:
        if None in args:  # the values an expression sees never equal None unless they are
            return None
        try:
            return function(*args)
        except (TypeError, ValueError, InvalidOperation, AttributeError, OverflowError) as exc:
            raise ExpressionError("bad_argument", function=function.__name__.strip("_"),
                                  detail=str(exc)[:100]) from exc

    call.__name__ = function.__name__
    return call


def _number(value: Any) -> Decimal:
    value = to_number(value)
    if isinstance(value, bool):
        return Decimal(int(value))
    if isinstance(value, int | Decimal):
        return check_decimal(Decimal(value))
    if isinstance(value, str):
        if len(value) > 100:
            raise ValueError("text too long to be a number")
        number = Decimal(value.replace(",", "").strip())
        if not number.is_finite():
            raise ValueError(f"{value!r} is not a number")
        return check_decimal(number)
    raise TypeError(f"{type(value).__name__} is not a number")


def _small_int(value: Any, limit: int = 1_000_000) -> int:
    """A whole-number argument (a count, days, months) within ±limit, cheaply."""
    number = _number(value)
    if abs(number) > limit:
        raise ValueError(f"{value} is outside ±{limit}")
    return int(number)


def _round(value: Any, places: Any = 0) -> Decimal:
    places = _small_int(places, 20)
    return _number(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def _floor(value: Any) -> Decimal:
    return _number(value).to_integral_value(rounding=ROUND_FLOOR)


def _ceil(value: Any) -> Decimal:
    return _number(value).to_integral_value(rounding=ROUND_CEILING)


def _column(rows: Any, key: Any = None) -> list[Any]:
    """Values of a subtable column (`rows, "qty"`), or the items of a plain list."""
    if not isinstance(rows, list | tuple):
        raise TypeError("expected a list or a subtable")
    if key is None:
        return [to_number(item) for item in rows]
    return [to_number(row.get(key)) if isinstance(row, dict) else None for row in rows]


def _present(values: list[Any]) -> list[Any]:
    return [value for value in values if value is not None and value != ""]


def _sum(rows: Any, key: Any = None) -> Decimal | int:
    """Like a spreadsheet: the sum of nothing (a blank subtable) is 0."""
    if rows is None:
        return Decimal(0)
    return sum((_number(v) for v in _present(_column(rows, key))), Decimal(0))


def _avg(rows: Any, key: Any = None) -> Decimal | None:
    values = [_number(v) for v in _present(_column(rows, key))]
    return sum(values, Decimal(0)) / len(values) if values else None


def _count(rows: Any, key: Any = None) -> int:
    if rows is None:
        return 0
    return len(_present(_column(rows, key))) if key is not None else len(rows)


def _extreme(pick: Callable[..., Any]) -> Callable[..., Any]:
    def call(*args: Any) -> Any:
        if len(args) == 2 and args[0] is None and isinstance(args[1], str):
            return None  # a column of a blank subtable
        if len(args) in (1, 2) and isinstance(args[0], list | tuple):
            values = _present(_column(*args))
        else:
            values = _present([to_number(a) for a in args])
        try:
            return pick(values) if values else None
        except TypeError as exc:
            raise ExpressionError("bad_argument", function=pick.__name__,
                                  detail=str(exc)[:100]) from exc

    return call


def _if(condition: Any, then: Any, otherwise: Any = None) -> Any:
    return then if condition else otherwise


def _coalesce(*values: Any) -> Any:
    return next((value for value in values if not _empty(value)), None)


def _concat(*values: Any) -> str:
    text = "".join("" if value is None else _text(value) for value in values)
    if len(text) > MAX_STRING_LENGTH:
        raise ExpressionError("result_too_long", limit=MAX_STRING_LENGTH)
    return text


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(check_decimal(value), "f")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        parts: list[str] = []
        size = 0
        for item in value:
            part = _text(item)
            size += len(part) + 2
            if size > MAX_STRING_LENGTH:
                raise ExpressionError("result_too_long", limit=MAX_STRING_LENGTH)
            parts.append(part)
        return ", ".join(parts)
    if isinstance(value, dict):
        raise TypeError("a row has no text; pick a column")
    text = str(value)
    if len(text) > MAX_STRING_LENGTH:
        raise ExpressionError("result_too_long", limit=MAX_STRING_LENGTH)
    return text


def _as_date(value: Any) -> date:
    if value.__class__ is date:
        return value  # type: ignore[no-any-return]
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        return date.fromisoformat(value[:10])
    raise TypeError(f"{type(value).__name__} is not a date")


def _add_days(value: Any, days: Any) -> date:
    base = value if isinstance(value, datetime) else _as_date(value)
    return base + timedelta(days=_small_int(days))


def _add_months(value: Any, months: Any) -> date:
    day = _as_date(value)
    index = day.year * 12 + day.month - 1 + _small_int(months, 100_000)
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _days_between(start: Any, end: Any) -> int:
    return (_as_date(end) - _as_date(start)).days


def _as_moment(value: Any) -> datetime:
    """A date-time (a date is its midnight; without a zone, UTC, as stored values are)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00")) if "T" in value or (
            len(value) > 10) else date.fromisoformat(value)
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _hours_between(start: Any, end: Any) -> int:
    return int((_as_moment(end) - _as_moment(start)).total_seconds() // 3600)


def _minutes_between(start: Any, end: Any) -> int:
    return int((_as_moment(end) - _as_moment(start)).total_seconds() // 60)


def _date(year: Any, month: Any, day: Any) -> date:
    return date(_small_int(year, 9999), _small_int(month, 12), _small_int(day, 31))


def _left(text: Any, count: Any) -> str:
    return _text(text)[: max(_small_int(count, MAX_STRING_LENGTH), 0)]


def _right(text: Any, count: Any) -> str:
    count = max(_small_int(count, MAX_STRING_LENGTH), 0)
    return _text(text)[-count:] if count else ""


def _mid(text: Any, start: Any, count: Any) -> str:
    start = max(_small_int(start, MAX_STRING_LENGTH), 1) - 1
    return _text(text)[start:start + max(_small_int(count, MAX_STRING_LENGTH), 0)]


def _replace(text: Any, old: Any, new: Any) -> str:
    text, old, new = _text(text), _text(old), _text(new)
    if old and text.count(old) * max(len(new) - len(old), 0) + len(text) > MAX_STRING_LENGTH:
        raise ExpressionError("result_too_long", limit=MAX_STRING_LENGTH)
    return text.replace(old, new) if old else text


def _today(context: Any) -> date:
    """Today in the tenant's time zone (in China the day starts at 00:00 +08:00)."""
    return context.now().astimezone(context.timezone).date()


def _now(context: Any) -> datetime:
    return context.now().astimezone(context.timezone)


def _len(value: Any) -> int:
    return 0 if value is None else len(value if isinstance(value, list | tuple) else _text(value))


F = Function
FUNCTIONS: dict[str, Function] = {
    "abs": F(_nullsafe(lambda x: abs(_number(x))), "abs(number)", 1, 1, "number",
             "Absolute value.", "绝对值。"),
    "add_days": F(_nullsafe(_add_days), "add_days(date, days)", 2, 2, "date",
                  "The date `days` later (negative: earlier).", "日期加上若干天（负数为减）。"),
    "add_months": F(_nullsafe(_add_months), "add_months(date, months)", 2, 2, "date",
                    "The same day `months` later, clipped to the month's end.",
                    "若干个月后的同一天（月末自动截断）。"),
    "avg": F(_nullsafe(_avg), "avg(rows, column)", 1, 2, "list",
             "Average of a subtable column (blanks ignored).", "子表某列的平均值（忽略空值）。"),
    "ceil": F(_nullsafe(_ceil), "ceil(number)", 1, 1, "number",
              "Round up to a whole number.", "向上取整。"),
    "coalesce": F(_coalesce, "coalesce(value, ...)", 1, None, "logic",
                  "The first value that is not empty.", "返回第一个非空值。"),
    "concat": F(_concat, "concat(value, ...)", 1, None, "text",
                "Join values into one text.", "把多个值拼接成文本。"),
    "contains": F(_nullsafe(lambda t, part: _text(part) in _text(t)), "contains(text, part)",
                  2, 2, "text", "True when `part` occurs in the text.", "文本中包含 part 时为真。"),
    "count": F(_count, "count(rows, column=None)", 1, 2, "list",
               "Number of rows, or of non-blank values in a column.", "行数，或某列非空值的个数。"),
    "date": F(_nullsafe(_date), "date(year, month, day)", 3, 3, "date",
              "A date from its parts.", "由年、月、日组成日期。"),
    "day": F(_nullsafe(lambda d: _as_date(d).day), "day(date)", 1, 1, "date",
             "Day of the month.", "日期中的日。"),
    "days_between": F(_nullsafe(_days_between), "days_between(start, end)", 2, 2, "date",
                      "Whole days from start to end.", "两个日期之间相差的天数。"),
    "ends_with": F(_nullsafe(lambda t, s: _text(t).endswith(_text(s))), "ends_with(text, end)",
                   2, 2, "text", "True when the text ends with `end`.", "文本以 end 结尾时为真。"),
    "floor": F(_nullsafe(_floor), "floor(number)", 1, 1, "number",
               "Round down to a whole number.", "向下取整。"),
    "hours_between": F(_nullsafe(_hours_between), "hours_between(start, end)", 2, 2, "date",
                       "Whole hours from start to end (date-times).",
                       "两个日期时间之间相差的整小时数。"),
    "if_": F(_if, "if_(condition, then, otherwise=None)", 2, 3, "logic",
             "`then` when the condition holds, else `otherwise`.",
             "条件成立取 then，否则取 otherwise。"),
    "is_empty": F(_empty, "is_empty(value)", 1, 1, "logic",
                  "True for a blank value or an empty list.", "值为空或列表为空时为真。"),
    "left": F(_nullsafe(_left), "left(text, count)", 2, 2, "text",
              "The first `count` characters.", "取前 count 个字符。"),
    "len": F(_len, "len(value)", 1, 1, "text",
             "Length of a text, or number of items in a list.", "文本长度或列表项数。"),
    "lower": F(_nullsafe(lambda t: _text(t).lower()), "lower(text)", 1, 1, "text",
               "Lower-case text.", "转为小写。"),
    "max": F(_extreme(max), "max(a, b, ...) | max(rows, column)", 1, None, "number",
             "Largest value (blanks ignored).", "最大值（忽略空值）。"),
    "mid": F(_nullsafe(_mid), "mid(text, start, count)", 3, 3, "text",
             "`count` characters from position `start` (1-based).",
             "从第 start 个字符起取 count 个。"),
    "min": F(_extreme(min), "min(a, b, ...) | min(rows, column)", 1, None, "number",
             "Smallest value (blanks ignored).", "最小值（忽略空值）。"),
    "minutes_between": F(_nullsafe(_minutes_between), "minutes_between(start, end)", 2, 2,
                         "date", "Whole minutes from start to end (date-times).",
                         "两个日期时间之间相差的整分钟数。"),
    "month": F(_nullsafe(lambda d: _as_date(d).month), "month(date)", 1, 1, "date",
               "Month of a date (1-12).", "日期中的月份（1-12）。"),
    "not_empty": F(lambda value: not _empty(value), "not_empty(value)", 1, 1, "logic",
                   "True when the value is filled in.", "值不为空时为真。"),
    "now": F(_now, "now()", 0, 0, "date", "The current date and time.", "当前日期时间。",
             contextual=True),
    "number": F(_nullsafe(_number), "number(value)", 1, 1, "number",
                "A number from text such as '1,234.50'.", "把 '1,234.50' 这样的文本转为数字。"),
    "replace": F(_nullsafe(_replace), "replace(text, old, new)", 3, 3, "text",
                 "Replace every `old` with `new`.", "把所有 old 替换为 new。"),
    "right": F(_nullsafe(_right), "right(text, count)", 2, 2, "text",
               "The last `count` characters.", "取后 count 个字符。"),
    "round": F(_nullsafe(_round), "round(number, places=0)", 1, 2, "number",
               "Round half up to `places` decimals.", "四舍五入到 places 位小数。"),
    "starts_with": F(_nullsafe(lambda t, s: _text(t).startswith(_text(s))),
                     "starts_with(text, start)", 2, 2, "text",
                     "True when the text starts with `start`.", "文本以 start 开头时为真。"),
    "sum": F(_sum, "sum(rows, column)", 1, 2, "list",
             "Total of a subtable column (blanks ignored).", "子表某列的合计（忽略空值）。"),
    "text": F(_text, "text(value)", 1, 1, "text", "A value as text.", "把值转为文本。"),
    "today": F(_today, "today()", 0, 0, "date", "Today's date.", "今天的日期。",
               contextual=True),
    "trim": F(_nullsafe(lambda t: _text(t).strip()), "trim(text)", 1, 1, "text",
              "Text without leading and trailing spaces.", "去掉首尾空格。"),
    "upper": F(_nullsafe(lambda t: _text(t).upper()), "upper(text)", 1, 1, "text",
               "Upper-case text.", "转为大写。"),
    "weekday": F(_nullsafe(lambda d: _as_date(d).isoweekday()), "weekday(date)", 1, 1, "date",
                 "Day of the week, Monday = 1 … Sunday = 7.", "星期几，周一为 1，周日为 7。"),
    "year": F(_nullsafe(lambda d: _as_date(d).year), "year(date)", 1, 1, "date",
              "Year of a date.", "日期中的年份。"),
}
