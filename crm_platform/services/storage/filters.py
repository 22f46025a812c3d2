"""The safe filter language for records.

A filter is data, never SQL: a condition `{"field": "level", "op": "eq", "value": "a"}`,
or a group `{"and": [...]}` / `{"or": [...]}` (nested up to 5 levels, 50 conditions).
Fields are the form's keys or the system fields `id`, `owner`, `created_at`, `updated_at`;
each field type offers its own operators (`form_engine.field_types.*.operators`), values
are read by the field's own coercer, and every mistake is a 422 naming `filter…` paths.

`plan_filter` checks a filter and reads its values into a `Plan` (sql_plans): the shape of
the SQL and the values it binds. Nothing here builds SQL until the plan is rendered.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, and_, func, literal, not_, or_

from crm_platform.errors import FieldError, ValidationFailed, invalid
from crm_platform.models import Record
from crm_platform.scoping import MAX_ID
from crm_platform.services.storage.data_fields import data_field, sort_field
from crm_platform.services.storage.kinds import field_kind
from crm_platform.services.storage.sql_plans import Binder, Plan
from form_engine.coercion import parse_bool, parse_decimal, whole_number
from form_engine.compiled import CompiledField, CompiledForm
from form_engine.errors import CoercionError

MAX_DEPTH = 5
MAX_CONDITIONS = 50
SYSTEM_FIELDS = {"id": Record.id, "owner": Record.owner_id, "created_at": Record.created_at,
                 "updated_at": Record.updated_at}
RELATIVE = ("today", "this_week", "this_month", "last_n_days", "next_n_days")
_COMPARE = {"eq": "__eq__", "lt": "__lt__", "lte": "__le__", "gt": "__gt__", "gte": "__ge__"}
_SYSTEM_OPERATORS = ("eq", "ne", "lt", "lte", "gt", "gte", "in", "not_in", "between")


@dataclass(frozen=True)
class Column:
    """How a field is read in SQL, and how to order it with blanks last. `ref` names it
    without the form: (key, kind) — what a plan's shape holds."""

    key: str
    kind: str            # text | integer | number | boolean | list | object | system
    item: CompiledField | None = None

    @property
    def ref(self) -> tuple[str, str]:
        return (self.key, self.kind)

    def sortable(self, descending: bool) -> ColumnElement[Any]:
        return sortable(self.ref, descending)


def expression(ref: tuple[str, str]) -> ColumnElement[Any]:
    key, kind = ref
    if kind == "system":
        return SYSTEM_FIELDS[key]
    return data_field(key, kind if kind in ("text", "integer", "number", "boolean")
                      else "text")


def sortable(ref: tuple[str, str], descending: bool) -> ColumnElement[Any]:
    """The field as ORDER BY reads it: blanks last either way."""
    key, kind = ref
    if kind == "boolean":
        return func.coalesce(expression(ref), literal(not descending))
    if kind in ("text", "integer", "number"):
        # the expression the field's sort indexes are built on (data_fields)
        return sort_field(key, kind, descending)
    return expression(ref)


def column(form: CompiledForm, key: Any, path: str) -> Column:
    if key in SYSTEM_FIELDS:
        return Column(key, "system")
    item = form.by_key.get(key) if isinstance(key, str) else None
    if item is None or item.kind == "layout":
        raise invalid(path, "unknown_filter_field", value=key)
    return Column(key, field_kind(item), item)


def _value(col: Column, raw: Any, path: str) -> Any:
    """A filter value read as the field reads input, then as it is stored."""
    if col.item is None:
        if col.key in ("created_at", "updated_at"):
            try:
                moment = datetime.fromisoformat(str(raw))
            except ValueError as exc:
                raise invalid(path, "bad_filter_value", value=raw) from exc
            return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        if isinstance(raw, bool) or not isinstance(raw, int) or not -MAX_ID <= raw <= MAX_ID:
            raise invalid(path, "bad_filter_value", value=raw)  # ids are BIGINT
        return raw
    item = col.item
    coerce = item.lenient if item.kind == "value" else _COMPUTED.get(col.kind, _as_is)
    try:
        value = coerce(raw)
    except CoercionError as exc:
        raise invalid(path, "bad_filter_value", value=raw) from exc
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    return value


def _as_is(value: Any) -> Any:
    return value


def _computed_number(value: Any) -> Decimal:
    number = parse_decimal(value, lenient=True)
    if not number.is_finite():
        raise CoercionError("not_a_number", value=str(value))
    return number


def _computed_integer(value: Any) -> int:
    value = whole_number(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise CoercionError("not_an_integer")
    return value


def _computed_text(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise CoercionError("wrong_type", expected="text")
    return str(value)


# Computed fields (formulas, rollups, autonumbers) take no input, so no coercer of their
# own: a filter value is read as what they compute.
_COMPUTED = {"number": _computed_number, "integer": _computed_integer,
             "boolean": lambda value: parse_bool(value, lenient=True), "text": _computed_text}


def _relative_range(op: str, raw: Any, now: datetime, path: str) -> tuple[date, date]:
    today = now.date()
    if op == "today":
        return today, today
    if op == "this_week":
        start = today - timedelta(days=today.weekday())
        return start, start + timedelta(days=6)
    if op == "this_month":
        start = today.replace(day=1)
        following = (start + timedelta(days=32)).replace(day=1)
        return start, following - timedelta(days=1)
    if isinstance(raw, bool) or not isinstance(raw, int) or not 0 <= raw <= 36_500:
        raise invalid(path, "bad_filter_value", value=raw)
    if op == "last_n_days":
        return today - timedelta(days=raw), today
    return today, today + timedelta(days=raw)


def like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


# -- checking a filter into a plan ------------------------------------------------------
# A condition's shape is (its SQL form, the column's ref[, how many values]); its values
# come in the order the SQL binds them.
Shape = tuple[Any, ...]


def _condition(form: CompiledForm, node: dict[str, Any], path: str, now: datetime
               ) -> tuple[Shape, list[Any]]:
    unknown = set(node) - {"field", "op", "value"}
    if unknown:
        raise invalid(f"{path}.{sorted(unknown)[0]}", "unknown_field")
    col = column(form, node.get("field"), f"{path}.field")
    op = node.get("op")
    allowed = col.item.field_type.operators if col.item else _SYSTEM_OPERATORS
    if op not in allowed:
        raise invalid(f"{path}.op", "operator_not_allowed", value=op,
                      allowed=", ".join(allowed))
    ref = col.ref
    raw = node.get("value")
    if raw is None and op in ("eq", "ne"):  # equal to nothing: blank
        op = "is_empty" if op == "eq" else "not_empty"
    if op in ("is_empty", "not_empty"):
        return (op, ref), []
    if op in RELATIVE:
        low, high = _relative_range(op, raw, now, f"{path}.value")
        if col.item is not None and col.item.type == "datetime":
            start = datetime.combine(low, time(), now.tzinfo).astimezone(UTC).isoformat()
            end = datetime.combine(high + timedelta(days=1), time(),
                                   now.tzinfo).astimezone(UTC).isoformat()
            return ("from_until", ref), [start, end]
        return ("between", ref), [low.isoformat(), high.isoformat()]
    if col.kind == "list":  # a multiselect: its stored JSON list, read as text
        value = _value(col, [raw] if isinstance(raw, str) else raw, f"{path}.value")
        patterns = [f"%{like_escape(json.dumps(option, ensure_ascii=False))}%"
                    for option in value]
        holds = op in ("contains", "in")
        return ("holds_any" if holds else "holds_none", ref, len(patterns)), patterns
    if op in ("in", "not_in"):
        if not isinstance(raw, list) or not 1 <= len(raw) <= 500:
            raise invalid(f"{path}.value", "bad_filter_value", value=raw)
        values = [_value(col, item, f"{path}.value[{index}]") for index, item in enumerate(raw)]
        return (op, ref, len(values)), values
    if op == "between":
        if not isinstance(raw, list) or len(raw) != 2:
            raise invalid(f"{path}.value", "bad_filter_value", value=raw)
        return ("between", ref), [_value(col, raw[0], f"{path}.value[0]"),
                                  _value(col, raw[1], f"{path}.value[1]")]
    if op in ("contains", "starts_with"):
        if not isinstance(raw, str) or not raw or len(raw) > 200:
            raise invalid(f"{path}.value", "bad_filter_value", value=raw)
        pattern = like_escape(raw)
        return ("like", ref), [f"%{pattern}%" if op == "contains" else f"{pattern}%"]
    return (op, ref), [_value(col, raw, f"{path}.value")]


def _check(form: CompiledForm, node: Any, now: datetime, path: str, depth: int,
           budget: list[int], values: list[Any]) -> Shape:
    if not isinstance(node, dict):
        raise invalid(path, "bad_filter", detail="a condition or an and/or group")
    groups = [key for key in ("and", "or") if key in node]
    if groups:
        if len(node) != 1 or not isinstance(node[groups[0]], list) or not node[groups[0]]:
            raise invalid(path, "bad_filter", detail="and/or takes a non-empty list")
        if depth >= MAX_DEPTH:
            raise invalid(path, "filter_too_deep", limit=MAX_DEPTH)
        return (groups[0], tuple(
            _check(form, child, now, f"{path}.{groups[0]}[{index}]", depth + 1, budget,
                   values) for index, child in enumerate(node[groups[0]])))
    budget[0] -= 1
    if budget[0] < 0:
        raise invalid(path, "filter_too_large", limit=MAX_CONDITIONS)
    shape, own = _condition(form, node, path, now)
    values.extend(own)
    return shape


def plan_filter(form: CompiledForm, node: Any, now: datetime) -> Plan:
    """The filter checked against the form (422 naming the path of any mistake), as a
    plan: its SQL's shape and the values it binds."""
    values: list[Any] = []
    shape = _check(form, node, now, "filter", 0, [MAX_CONDITIONS], values)
    return Plan(render_filter, shape, tuple(values))


def related_filter_errors(definition: Any, compiled_of: Callable[[Any], CompiledForm | None],
                          prefix: str = "") -> list[FieldError]:
    """The mistakes of the filters of a definition's related rollups, each checked
    against the form it counts (`compiled_of(key)`; None: not known yet, so not checked),
    at paths like `fields[3].related.filter.and[0].op`."""
    errors = []
    fields = definition.get("fields", []) if isinstance(definition, dict) else []
    for index, field in enumerate(fields if isinstance(fields, list) else []):
        related = field.get("related") if isinstance(field, dict) and field.get(
            "type") == "rollup" else None
        if not isinstance(related, dict) or "filter" not in related:
            continue
        compiled = compiled_of(related.get("form"))
        if compiled is None:
            continue
        try:
            plan_filter(compiled, related["filter"], datetime.now(UTC))
        except ValidationFailed as failed:
            errors.extend(FieldError(f"{prefix}fields[{index}].related.{error.path}",
                                     error.code, error.params) for error in failed.fields)
    return errors


# -- rendering a plan ---------------------------------------------------------------------
def render_filter(shape: Shape, values: Iterator[Any], bind: Binder
                  ) -> ColumnElement[bool]:
    kind = shape[0]
    if kind in ("and", "or"):
        parts = [render_filter(child, values, bind) for child in shape[1]]
        return and_(*parts) if kind == "and" else or_(*parts)
    field = expression(shape[1])

    def value() -> Any:
        return bind(next(values), field.type)

    if kind == "is_empty":
        return field.is_(None)
    if kind == "not_empty":
        return field.is_not(None)
    if kind == "from_until":
        return and_(field >= value(), field < value())
    if kind == "between":
        low, high = value(), value()
        return and_(field.between(low, high), *_seekable(shape[1], "__ge__", low),
                    *_seekable(shape[1], "__le__", high))
    if kind in ("holds_any", "holds_none"):
        holds = or_(*(field.like(value(), escape="\\") for _ in range(shape[2])))
        return holds if kind == "holds_any" else or_(field.is_(None), not_(holds))
    if kind in ("in", "not_in"):
        items = [value() for _ in range(shape[2])]
        return field.in_(items) if kind == "in" else field.not_in(items)
    if kind == "like":
        return field.like(value(), escape="\\")
    if kind == "ne":
        return or_(field != value(), field.is_(None))
    bound = value()
    return and_(getattr(field, _COMPARE[kind])(bound),
                *_seekable(shape[1], _COMPARE[kind], bound))


_RANGES = frozenset({"__lt__", "__le__", "__gt__", "__ge__"})


def _seekable(ref: tuple[str, str], method: str, bound: Any) -> list[ColumnElement[bool]]:
    """A range on a field, also written on the expressions its two sort indexes are built
    on (blanks as the highest or lowest value), so that a page sorted by the field starts
    reading its index at the bound instead of scanning to it. Redundant for the answer:
    the plain condition above already decides which records match."""
    key, kind = ref
    if method not in _RANGES or kind not in ("text", "integer", "number"):
        return []
    return [getattr(sort_field(key, kind, descending), method)(bound)
            for descending in (False, True)]


def parse_filter(text: str | None) -> Any:
    if text is None:
        return None
    try:
        parsed = json.loads(text, parse_float=Decimal)
    except (ValueError, RecursionError) as exc:
        raise invalid("filter", "bad_filter", detail="not JSON") from exc
    if _holds_nul(parsed):
        raise invalid("filter", "nul_character")  # `"\u0000"`: no database stores it
    return parsed


def _holds_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(key) or _holds_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_holds_nul(item) for item in value)
    return False
