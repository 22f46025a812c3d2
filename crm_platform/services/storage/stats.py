"""Counts over a form's live records, for publishing (`form_engine.versions.RecordStats`):
how many records a change would touch."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select

from crm_platform.models import Form, Record
from crm_platform.scoping import TenantScope


class FormRecordStats:
    def __init__(self, scope: TenantScope, form: Form) -> None:
        self.scope = scope
        self.form = form

    def _live(self):  # type: ignore[no-untyped-def]
        return self.scope.select(Record, Record.form_id == self.form.id,
                                 Record.deleted_at.is_(None))

    def total(self) -> int:
        return self.scope.session.scalar(self._live().with_only_columns(func.count())) or 0

    def with_value(self, key: str) -> int:
        """Records holding a value for `key` (blanks are stored as null or left out)."""
        statement = self._live().where(Record.data[key].as_string().is_not(None))
        return self.scope.session.scalar(statement.with_only_columns(func.count())) or 0

    def sharing(self, key: str) -> int:
        """Records whose `key` holds the same value as another record's."""
        value = Record.data[key].as_string()
        groups = self._live().where(value.is_not(None)).with_only_columns(
            func.count().label("n")).group_by(value).having(func.count() > 1).subquery()
        return self.scope.session.scalar(select(func.coalesce(func.sum(groups.c.n), 0))) or 0

    def with_option(self, key: str, values: Iterable[str]) -> int:
        """Records whose `key` is one of `values` (or, for a multiselect, contains one)."""
        wanted = set(values)
        statement = self._live().where(Record.data[key].as_string().is_not(None))
        count = 0
        for data in self.scope.session.scalars(statement.with_only_columns(Record.data)):
            value = data.get(key)
            if value in wanted or (isinstance(value, list) and wanted.intersection(value)):
                count += 1
        return count
