"""The platform's answers to the form engine's questions (`form_engine.context.Resolver`),
always inside one tenant and, for records, one app."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Numeric, String, bindparam, func, literal_column, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.sql.expression import ColumnElement

from crm_platform.auth.principal import Principal
from crm_platform.db import stable_json
from crm_platform.errors import ValidationFailed
from crm_platform.models import Department, Form, Record, Sequence, User
from crm_platform.scoping import TenantScope, is_valid_id
from crm_platform.services.records.access import access_for, read_plan
from crm_platform.services.storage.data_fields import data_field

_AGGREGATES = {"sum": func.sum, "avg": func.avg, "min": func.min, "max": func.max}


def _values_of(column: str, json_type: str, dialect: str) -> ColumnElement[Any]:
    """A data field's values of one JSON type, "number" or "string" (text compared byte
    by byte); any other value reads as NULL, so an aggregate skips it."""
    data_field(column, "text")   # the key is checked before it is written into SQL
    if dialect == "postgresql":
        test = f"jsonb_typeof(data -> '{column}') = '{json_type}'"
        value = (f"CAST(data ->> '{column}' AS NUMERIC)" if json_type == "number"
                 else f"(data ->> '{column}') COLLATE \"C\"")
    else:
        test = (f"json_type(data, '$.{column}') IN ('integer', 'real')"
                if json_type == "number" else f"json_type(data, '$.{column}') = 'text'")
        value = f"json_extract(data, '$.{column}')"
    return literal_column(f"(CASE WHEN {test} THEN {value} END)",
                          Numeric(30, 10) if json_type == "number" else String())


def related_filter(scope: TenantScope, target: Form, where: Mapping[str, Any],
                   now: datetime | None) -> ColumnElement[bool] | None:
    """A related rollup's filter as SQL over `target`'s published fields; None when it
    no longer fits them (a field was removed or changed type since it was checked)."""
    from crm_platform.services.forms import definitions as form_service
    from crm_platform.services.storage.filters import plan_filter

    if target.published_version is None:
        return None
    compiled = form_service.compiled(scope, form_service.published_row(scope, target))
    try:
        plan = plan_filter(compiled, where, now or form_service.now_in(scope))
    except ValidationFailed:
        return None
    return plan.clause()


def _shaped(function: str, result: str, value: Any) -> Any:
    """An aggregate as the rollup gives it: a count (0 when nothing links here), a date's
    ISO text, or an exact number (a sum of nothing is 0)."""
    if function == "count":
        return value or 0
    if result in ("date", "datetime"):
        return value
    if value is None:
        return Decimal(0) if function == "sum" else None
    return Decimal(value).normalize() if not isinstance(value, Decimal) else value.normalize()


class PlatformResolver:
    """`actor`: whose eyes a lookup sees through — a record they may not read is as
    missing as one that does not exist (else a lookup would reveal which ids exist)."""

    def __init__(self, scope: TenantScope, form: Form | None = None,
                 actor: Principal | None = None) -> None:
        self.scope = scope
        self.form = form
        self.actor = actor
        self._targets: dict[str, Form | None] = {}

    def _target(self, key: str | None) -> Form | None:
        """The app's form `key` (asked once per resolver: a record's roll-ups and lookups
        often name the same form)."""
        if self.form is None or key is None:
            return None
        if key not in self._targets:
            self._targets[key] = self.scope.session.scalars(self.scope.select(
                Form, Form.app_id == self.form.app_id, Form.key == key)).first()
        return self._targets[key]

    def missing_references(self, target: str, form: str | None, ids: Collection[int]
                           ) -> Collection[int]:
        wanted = {value for value in ids if is_valid_id(value)}
        if target == "user":
            statement = self.scope.select(User).with_only_columns(User.id).where(
                User.id.in_(wanted), User.is_active.is_(True))
        elif target == "department":
            statement = self.scope.select(Department).with_only_columns(Department.id).where(
                Department.id.in_(wanted))
        else:
            target = self._target(form)
            if target is None:
                return set(ids)
            statement = self.scope.select(Record).with_only_columns(Record.id).where(
                Record.form_id == target.id, Record.id.in_(wanted),
                Record.deleted_at.is_(None))
            if self.actor is not None:
                readable = access_for(self.scope, self.actor, target)   # the pool too
                statement = statement.where(read_plan(self.scope, self.actor, readable)
                                            .clause())
        return set(ids) - set(self.scope.session.scalars(statement))

    def related_rollup(self, form: str, link_field: str, column: str | None, function: str,
                       record_id: int | None, result: str = "number",
                       where: Mapping[str, Any] | None = None,
                       now: datetime | None = None) -> Any:
        """`result` "date" / "datetime": the min/max of a date (date-time) column, as its
        ISO text (None when there is none) — compared as text, which orders ISO dates
        (and date-times, stored in UTC) as time does. Otherwise a number: only the
        column's numbers count (a date is not 2026, nor an error). `where`: only the
        records this filter picks (`filters.plan_filter` over the related form)."""
        if record_id is None:
            return 0 if function in ("count", "sum") else None
        return self.related_rollups(form, link_field, column, function, [record_id], result,
                                    where, now)[record_id]

    def related_rollups(self, form: str, link_field: str, column: str | None,
                        function: str, record_ids: list[int], result: str = "number",
                        where: Mapping[str, Any] | None = None,
                        now: datetime | None = None) -> dict[int, Any]:
        """`related_rollup` for each of `record_ids`, in one query grouped by the link."""
        target = self._target(form)
        if target is None:
            return dict.fromkeys(record_ids, 0 if function in ("count", "sum") else None)
        parent = data_field(link_field, "integer")
        linked = self.scope.select(Record).where(   # the form literal: its indexes are partial
            Record.form_id == bindparam(None, target.id, literal_execute=True),
            Record.deleted_at.is_(None), parent.in_(list(record_ids)))
        if where is not None:
            picked = related_filter(self.scope, target, where, now)
            if picked is None:   # the related form changed under the filter: unknown
                return dict.fromkeys(record_ids)
            linked = linked.where(picked)
        dialect = self.scope.session.get_bind().dialect.name
        if function == "count":
            aggregate: ColumnElement[Any] = func.count()
        elif column is None:
            return dict.fromkeys(record_ids, Decimal(0) if function == "sum" else None)
        elif result in ("date", "datetime"):
            if function not in ("min", "max"):
                return dict.fromkeys(record_ids)
            aggregate = _AGGREGATES[function](_values_of(column, "string", dialect))
        else:
            aggregate = _AGGREGATES[function](_values_of(column, "number", dialect)).cast(
                Numeric(30, 10))
        found = dict(self.scope.session.execute(
            linked.with_only_columns(parent, aggregate).group_by(parent)).all())
        return {record_id: _shaped(function, result, found.get(record_id))
                for record_id in record_ids}

    def next_sequence(self, field_key: str, period: str) -> int:
        """The next autonumber: an atomic increment that concurrent creates queue on."""
        assert self.form is not None
        session = self.scope.session
        insert = pg_insert if session.get_bind().dialect.name == "postgresql" else (
            sqlite_insert)
        session.execute(insert(Sequence).values(
            tenant_id=self.scope.tenant_id, form_id=self.form.id, field_key=field_key,
            period=period, value=0).on_conflict_do_nothing())
        statement = self.scope.filter(update(Sequence), Sequence).where(
            Sequence.form_id == self.form.id, Sequence.field_key == field_key,
            Sequence.period == period)
        return session.scalar(statement.values(value=Sequence.value + 1)
                              .returning(Sequence.value))


class PageResolver:
    """A resolver for working out a page of records at once (a refresh): each related
    rollup is asked once for every record of the page — one query per rollup, not one
    per rollup and record — and the rest goes to the platform's resolver."""

    def __init__(self, base: PlatformResolver, record_ids: list[int]) -> None:
        self.base, self.record_ids = base, list(record_ids)
        self._page = set(self.record_ids)
        self._answers: dict[tuple[Any, ...], dict[int, Any]] = {}

    def missing_references(self, target: str, form: str | None, ids: Collection[int]
                           ) -> Collection[int]:
        return self.base.missing_references(target, form, ids)

    def next_sequence(self, field_key: str, period: str) -> int:
        return self.base.next_sequence(field_key, period)

    def related_rollup(self, form: str, link_field: str, column: str | None, function: str,
                       record_id: int | None, result: str = "number",
                       where: Mapping[str, Any] | None = None,
                       now: datetime | None = None) -> Any:
        if record_id not in self._page:
            return self.base.related_rollup(form, link_field, column, function, record_id,
                                            result, where, now)
        # relative dates in a filter depend on the day (and zone), not the moment
        key = (form, link_field, column, function, result, stable_json(where),
               None if now is None else (now.date(), now.utcoffset()))
        if key not in self._answers:
            self._answers[key] = self.base.related_rollups(
                form, link_field, column, function, self.record_ids, result, where, now)
        return self._answers[key][record_id]


__all__ = ["PageResolver", "PlatformResolver"]
