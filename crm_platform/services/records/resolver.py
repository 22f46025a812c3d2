"""The platform's answers to the form engine's questions (`form_engine.context.Resolver`),
always inside one tenant and, for records, one app."""

from __future__ import annotations

from collections.abc import Collection
from decimal import Decimal
from typing import Any

from sqlalchemy import Numeric, String, func, literal_column, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.sql.expression import ColumnElement

from crm_platform.auth.principal import Principal
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


class PlatformResolver:
    """`actor`: whose eyes a lookup sees through — a record they may not read is as
    missing as one that does not exist (else a lookup would reveal which ids exist)."""

    def __init__(self, scope: TenantScope, form: Form | None = None,
                 actor: Principal | None = None) -> None:
        self.scope = scope
        self.form = form
        self.actor = actor

    def _target(self, key: str | None) -> Form | None:
        if self.form is None or key is None:
            return None
        return self.scope.session.scalars(
            self.scope.select(Form, Form.app_id == self.form.app_id, Form.key == key)).first()

    def _form_id(self, key: str | None) -> int | None:
        target = self._target(key)
        return target.id if target is not None else None

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
                       record_id: int | None, result: str = "number") -> Any:
        """`result` "date" / "datetime": the min/max of a date (date-time) column, as its
        ISO text (None when there is none) — compared as text, which orders ISO dates
        (and date-times, stored in UTC) as time does. Otherwise a number: only the
        column's numbers count (a date is not 2026, nor an error)."""
        form_id = self._form_id(form)
        if form_id is None or record_id is None:
            return 0 if function in ("count", "sum") else None
        linked = self.scope.select(Record).where(
            Record.form_id == form_id, Record.deleted_at.is_(None),
            data_field(link_field, "integer") == record_id)
        if function == "count":
            return self.scope.session.scalar(
                linked.with_only_columns(func.count())) or 0
        if column is None:
            return Decimal(0) if function == "sum" else None
        dialect = self.scope.session.get_bind().dialect.name
        if result in ("date", "datetime"):
            if function not in ("min", "max"):
                return None
            return self.scope.session.scalar(linked.with_only_columns(
                _AGGREGATES[function](_values_of(column, "string", dialect))))
        value = _values_of(column, "number", dialect)
        number = self.scope.session.scalar(
            linked.with_only_columns(_AGGREGATES[function](value).cast(Numeric(30, 10))))
        if number is None:
            return Decimal(0) if function == "sum" else None
        return Decimal(number).normalize() if not isinstance(number, Decimal) else (
            number.normalize())

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


__all__ = ["PlatformResolver"]
