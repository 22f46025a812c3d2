"""The safe query language for records: filters, sort, search, projection, keyset pages.

A filter is data, never SQL: a condition `{"field": "level", "op": "eq", "value": "a"}`,
or a group `{"and": [...]}` / `{"or": [...]}` (nested up to 5 levels, 50 conditions).
Fields are the form's keys or the system fields `id`, `owner`, `created_at`, `updated_at`;
each field type offers its own operators (`form_engine.field_types.*.operators`), values
are read by the field's own coercer, and every mistake is a 422 naming `filter…` paths.
Sorting (`sort=-amount,name`) pages by keyset, so page 1000 costs what page 1 does; blank
values sort last. Counts stop at a cap (exact up to it, "more than" beyond).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    func,
    literal,
    literal_column,
    not_,
    or_,
    select,
)

from crm_platform.errors import FieldError, ValidationFailed, invalid
from crm_platform.models import Record
from crm_platform.services.data_fields import DataField, SearchDocument, data_field, sort_field
from form_engine.compiler import CompiledField, CompiledForm
from form_engine.errors import CoercionError
from form_engine.field_types import REFERENCE_TYPES

MAX_DEPTH = 5
MAX_CONDITIONS = 50
COUNT_CAP = 10_000
SYSTEM_FIELDS = {"id": Record.id, "owner": Record.owner_id, "created_at": Record.created_at,
                 "updated_at": Record.updated_at}
_TEXT = frozenset({"text", "textarea", "email", "phone", "url", "select", "autonumber",
                   "date", "datetime", "time"})
_INTEGERS = REFERENCE_TYPES | {"rating"}
_NUMBERS = frozenset({"number", "currency", "percent", "rollup"})
_RELATIVE = ("today", "this_week", "this_month", "last_n_days", "next_n_days")


@dataclass(frozen=True)
class Column:
    """How a field is read in SQL, and how to order it with blanks last."""

    expression: ColumnElement[Any]
    kind: str            # text | integer | number | boolean | list | object | system
    item: CompiledField | None

    def sortable(self, descending: bool) -> ColumnElement[Any]:
        if self.kind == "boolean":
            return func.coalesce(self.expression, literal(not descending))
        if self.kind in ("text", "integer", "number") and isinstance(self.expression,
                                                                     DataField):
            # the expression the field's sort indexes are built on (data_fields)
            return sort_field(self.expression.key, self.expression.kind, descending)
        return self.expression


def field_kind(item: CompiledField) -> str:
    """How a field compares in SQL: text, integer, number, boolean, list or object."""
    if item.type == "formula":
        result = item.spec.get("result", "number")
        return {"number": "number", "boolean": "boolean"}.get(result, "text")
    if item.type in _TEXT:
        return "text"
    if item.type in _INTEGERS:
        return "integer"
    if item.type in _NUMBERS:
        return "number"
    if item.type == "boolean":
        return "boolean"
    if item.type == "multiselect":
        return "list"
    return "object"


def column(form: CompiledForm, key: Any, path: str) -> Column:
    if key in SYSTEM_FIELDS:
        return Column(SYSTEM_FIELDS[key], "system", None)
    item = form.by_key.get(key) if isinstance(key, str) else None
    if item is None or item.kind == "layout":
        raise invalid(path, "unknown_filter_field", value=key)
    kind = field_kind(item)
    sql_kind = kind if kind in ("text", "integer", "number", "boolean") else "text"
    return Column(data_field(key, sql_kind), kind, item)


def _value(col: Column, raw: Any, path: str) -> Any:
    """A filter value read as the field reads input, then as it is stored."""
    if col.item is None:
        if col.expression is Record.created_at or col.expression is Record.updated_at:
            try:
                moment = datetime.fromisoformat(str(raw))
            except ValueError as exc:
                raise invalid(path, "bad_filter_value", value=raw) from exc
            return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise invalid(path, "bad_filter_value", value=raw)
        return raw
    item = col.item
    coerce = item.lenient if item.kind == "value" else (lambda value: value)
    try:
        value = coerce(raw)
    except CoercionError as exc:
        raise invalid(path, "bad_filter_value", value=raw) from exc
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    return value


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


def _condition(form: CompiledForm, node: dict[str, Any], path: str, now: datetime
               ) -> ColumnElement[bool]:
    unknown = set(node) - {"field", "op", "value"}
    if unknown:
        raise invalid(f"{path}.{sorted(unknown)[0]}", "unknown_field")
    col = column(form, node.get("field"), f"{path}.field")
    op = node.get("op")
    allowed = col.item.field_type.operators if col.item else (
        "eq", "ne", "lt", "lte", "gt", "gte", "in", "not_in", "between")
    if op not in allowed:
        raise invalid(f"{path}.op", "operator_not_allowed", value=op,
                      allowed=", ".join(allowed))
    expression = col.expression
    raw = node.get("value")
    if op == "is_empty":
        return expression.is_(None)
    if op == "not_empty":
        return expression.is_not(None)
    if op in _RELATIVE:
        low, high = _relative_range(op, raw, now, f"{path}.value")
        if col.item is not None and col.item.type == "datetime":
            start = datetime.combine(low, time(), now.tzinfo).astimezone(UTC).isoformat()
            end = datetime.combine(high + timedelta(days=1), time(),
                                   now.tzinfo).astimezone(UTC).isoformat()
            return and_(expression >= start, expression < end)
        return expression.between(low.isoformat(), high.isoformat())
    if col.kind == "list":
        value = _value(col, [raw] if isinstance(raw, str) else raw, f"{path}.value")
        if op in ("contains", "in"):
            return _contains_any(col, value)
        return or_(expression.is_(None), not_(_contains_any(col, value)))
    if op in ("in", "not_in"):
        if not isinstance(raw, list) or not 1 <= len(raw) <= 500:
            raise invalid(f"{path}.value", "bad_filter_value", value=raw)
        values = [_value(col, item, f"{path}.value[{index}]") for index, item in enumerate(raw)]
        return expression.in_(values) if op == "in" else expression.not_in(values)
    if op == "between":
        if not isinstance(raw, list) or len(raw) != 2:
            raise invalid(f"{path}.value", "bad_filter_value", value=raw)
        return expression.between(_value(col, raw[0], f"{path}.value[0]"),
                                  _value(col, raw[1], f"{path}.value[1]"))
    if op in ("contains", "starts_with"):
        if not isinstance(raw, str) or not raw or len(raw) > 200:
            raise invalid(f"{path}.value", "bad_filter_value", value=raw)
        pattern = _like_escape(raw)
        pattern = f"%{pattern}%" if op == "contains" else f"{pattern}%"
        return expression.like(pattern, escape="\\")
    value = _value(col, raw, f"{path}.value")
    if op == "eq":
        return expression == value
    if op == "ne":
        return or_(expression != value, expression.is_(None))
    return {"lt": lambda: expression < value, "lte": lambda: expression <= value,
            "gt": lambda: expression > value, "gte": lambda: expression >= value}[op]()


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _contains_any(col: Column, values: list[str]) -> ColumnElement[bool]:
    """A multiselect holds one of `values` (its stored JSON list, read as text)."""
    stored = col.expression
    return or_(*(stored.like(f'%{_like_escape(json.dumps(value, ensure_ascii=False))}%',
                             escape="\\")
                 for value in values))


def build_filter(form: CompiledForm, node: Any, now: datetime, path: str = "filter",
                 depth: int = 0, budget: list[int] | None = None) -> ColumnElement[bool]:
    budget = budget if budget is not None else [MAX_CONDITIONS]
    if not isinstance(node, dict):
        raise invalid(path, "bad_filter", detail="a condition or an and/or group")
    groups = [key for key in ("and", "or") if key in node]
    if groups:
        if len(node) != 1 or not isinstance(node[groups[0]], list) or not node[groups[0]]:
            raise invalid(path, "bad_filter", detail="and/or takes a non-empty list")
        if depth >= MAX_DEPTH:
            raise invalid(path, "filter_too_deep", limit=MAX_DEPTH)
        parts = [build_filter(form, child, now, f"{path}.{groups[0]}[{index}]", depth + 1,
                              budget) for index, child in enumerate(node[groups[0]])]
        return and_(*parts) if groups[0] == "and" else or_(*parts)
    budget[0] -= 1
    if budget[0] < 0:
        raise invalid(path, "filter_too_large", limit=MAX_CONDITIONS)
    return _condition(form, node, path, now)


def parse_filter(text: str | None) -> Any:
    if text is None:
        return None
    try:
        return json.loads(text, parse_float=Decimal)
    except (ValueError, RecursionError) as exc:
        raise invalid("filter", "bad_filter", detail="not JSON") from exc


def parse_sort(form: CompiledForm, text: str | None) -> list[tuple[str, bool, Column]]:
    keys: list[tuple[str, bool, Column]] = []
    for index, part in enumerate((text or "").split(",")):
        part = part.strip()
        if not part:
            continue
        descending = part.startswith("-")
        key = part.lstrip("-+")
        col = column(form, key, f"sort[{index}]")
        if col.kind in ("list", "object"):
            raise invalid(f"sort[{index}]", "not_sortable", value=key)
        keys.append((key, descending, col))
    if len(keys) > 3:
        raise invalid("sort", "too_many_items", limit=3)
    return keys


def _encode(values: list[Any]) -> str:
    plain = [str(v) if isinstance(v, Decimal) else v.isoformat() if isinstance(v, datetime)
             else v for v in values]
    return base64.urlsafe_b64encode(json.dumps(plain).encode()).decode().rstrip("=")


def _decode(cursor: str, size: int) -> list[Any]:
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError) as exc:
        raise invalid("cursor", "bad_cursor") from exc
    if not isinstance(values, list) or len(values) != size:
        raise invalid("cursor", "bad_cursor")
    return values


def _typed(col: Column, value: Any) -> Any:
    if value is None:
        return None
    if col.kind == "number":
        return Decimal(str(value))
    if col.expression is Record.created_at or col.expression is Record.updated_at:
        return datetime.fromisoformat(value)
    return value


# What a page reads of each record: its columns, as plain rows.
_PAGE_COLUMNS = (Record.id, Record.form_version, Record.version, Record.owner_id,
                 Record.department_id, Record.state, Record.locked, Record.created_at,
                 Record.updated_at, Record.created_by_id, Record.updated_by_id,
                 Record.deleted_at, Record.data)


def page(session: Any, statement: Select[Any], sort: list[tuple[str, bool, Column]],
         limit: int, cursor: str | None) -> tuple[list[Any], str | None]:
    """One keyset page of `statement` ordered by `sort`, then id: rows with the record's
    columns as attributes (`id`, `data`, `version` …). A page is only shown, so it is read
    as plain rows on the session's connection — no ORM objects, no identity map, no
    autoflush (nothing is pending in a request that only reads)."""
    ordering = [col.sortable(descending) for _key, descending, col in sort]
    directions = [descending for _key, descending, _col in sort]
    if cursor is not None:
        values = _decode(cursor, len(ordering) + 1)
        try:
            typed = [_typed(col, value) for (_k, _d, col), value in zip(sort, values,
                                                                        strict=False)]
            last_id = int(values[-1])
        except (ValueError, TypeError, ArithmeticError) as exc:
            raise invalid("cursor", "bad_cursor") from exc
        after = Record.id > last_id
        for expression, descending, value in reversed(list(zip(ordering, directions, typed,
                                                               strict=True))):
            beyond = expression < value if descending else expression > value
            after = or_(beyond, and_(expression == value, after))
        statement = statement.where(after)
    order = [expression.desc() if descending else expression.asc()
             for expression, descending in zip(ordering, directions, strict=True)]
    rows = list(session.connection().execute(
        statement.with_only_columns(*_PAGE_COLUMNS, *ordering).order_by(*order, Record.id)
        .limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = None
    if more and rows:
        last = rows[-1]
        next_cursor = _encode([*list(last[len(_PAGE_COLUMNS):]), last.id])
    return rows, next_cursor


_SEARCHED_TYPES = ("text", "textarea", "email", "phone", "autonumber", "select", "url")
# Words for PostgreSQL full-text search: letters and digits (Unicode), nothing tsquery reads
# as syntax. Han, kana and hangul are not split into words by the parser: LIKE finds them.
_WORD = re.compile(r"\w+")
_NOT_SPLIT = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\uf900-\ufaff]")


def without(form: CompiledForm, hidden: Iterable[str]) -> CompiledForm:
    """The form as a caller with these hidden fields sees it: to filters, sorts, searches
    and projections a hidden field does not exist."""
    hidden = frozenset(hidden)
    if not hidden:
        return form
    fields = tuple(item for item in form.fields if item.key not in hidden)
    return replace(form, fields=fields, by_key={item.key: item for item in fields},
                   inputs=tuple(item for item in form.inputs if item.key not in hidden))


def search_keys(form: CompiledForm) -> tuple[str, ...]:
    return tuple(item.key for item in form.fields if item.type in _SEARCHED_TYPES)


def search(form: CompiledForm, text: str, dialect: str = "sqlite") -> ColumnElement[bool]:
    """Records with `text` in their text fields. PostgreSQL: full text — every word of the
    query starts a word of the record (`acm bei` finds "Acme, Beijing"), through the form's
    GIN index; Chinese, and digits alone (part of a phone number), by substring. SQLite:
    substring, case-insensitive."""
    if len(text) > 200:
        raise invalid("search", "too_long", limit=200)
    keys = search_keys(form)
    if not keys:
        return literal(False)
    words = [word.lower() for word in _WORD.findall(text)]
    if dialect == "postgresql" and words and not _NOT_SPLIT.search(text) and not all(
            word.isdigit() for word in words):
        query = " & ".join(f"{word}:*" for word in words[:20])
        return SearchDocument(keys).op("@@")(func.to_tsquery(literal_column(
            "'simple'::regconfig"), query))
    pattern = f"%{_like_escape(text.lower())}%"
    return or_(*(func.lower(data_field(key, "text")).like(pattern, escape="\\")
                 for key in keys))


def count(session: Any, statement: Select[Any]) -> tuple[int, bool]:
    """Exact up to COUNT_CAP; beyond it, (COUNT_CAP, False) — never an unbounded scan."""
    capped = statement.with_only_columns(Record.id).order_by(None).limit(COUNT_CAP + 1)
    total = session.scalar(select(func.count()).select_from(capped.subquery())) or 0
    return (min(total, COUNT_CAP), total <= COUNT_CAP)


def project(data: dict[str, Any], fields: list[str] | None) -> dict[str, Any]:
    """Only the fields asked for — each of them, null when the record has no value."""
    return data if fields is None else {key: data.get(key) for key in fields}


def parse_fields(form: CompiledForm, text: str | None) -> list[str] | None:
    if text is None:
        return None
    keys = [key.strip() for key in text.split(",") if key.strip()]
    problems = [FieldError(f"fields[{index}]", "unknown_filter_field", {"value": key})
                for index, key in enumerate(keys) if key not in form.by_key]
    if problems:
        raise ValidationFailed(fields=problems, count=len(problems))
    return keys
