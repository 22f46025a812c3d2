"""Duplicate checks on write: `unique` fields (hard) and the form's dedup keys (soft, the
caller may confirm), e.g. "same phone = same customer"."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Numeric, any_, bindparam, select
from sqlalchemy.dialects.postgresql import ARRAY

from crm_platform.errors import Conflict, FieldError
from crm_platform.models import Form, Record
from crm_platform.scoping import TenantScope
from crm_platform.services.data_fields import data_field
from form_engine.compiler import CompiledForm


def _kind(value: Any) -> str:
    """How the stored JSON value is read in SQL (the indexed expression's type)."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    return "number" if isinstance(value, Decimal) else "text"


def _equals(key: str, value: Any) -> ColumnElement[bool]:
    """`data[key] == value` typed as the stored JSON value is."""
    kind = _kind(value)
    return data_field(key, kind) == (value if kind != "text" else str(value))


def match_keys(scope: TenantScope, form: Form, keys: list[str],
               wanted: set[tuple[Any, ...]]) -> dict[tuple[Any, ...], int]:
    """Of the `keys` value tuples in `wanted`, those a live record of the form already has:
    tuple -> that record's id (the oldest). One query per 500 values of the first key."""
    found: dict[tuple[Any, ...], int] = {}
    if not keys or not wanted:
        return found
    by_kind: dict[str, set[Any]] = {}
    for values in wanted:
        by_kind.setdefault(_kind(values[0]), set()).add(values[0])
    postgres = scope.session.get_bind().dialect.name == "postgresql"
    for kind, firsts in by_kind.items():
        ordered = sorted(firsts, key=str)
        field = data_field(keys[0], kind)
        # PostgreSQL: one array parameter, not 500 (each would be parsed and bound);
        # numbers as plain NUMERIC, which holds every value a number field allows
        array = ARRAY(Numeric() if kind == "number" else field.type)
        for start in range(0, len(ordered), 500):
            batch = ordered[start:start + 500]
            wanted_first = (field == any_(bindparam(None, batch, type_=array))
                            if postgres else field.in_(batch))
            statement = scope.filter(select(Record.id, Record.data), Record).where(
                Record.form_id == bindparam(None, form.id, literal_execute=True),
                Record.deleted_at.is_(None), wanted_first).order_by(Record.id)
            for record_id, data in scope.session.execute(statement):
                values = tuple(data.get(key) for key in keys)
                if values in wanted:
                    found.setdefault(values, record_id)
    return found


def _match(scope: TenantScope, form: Form, data: Mapping[str, Any], keys: list[str],
           exclude: int | None) -> Record | None:
    values = [data.get(key) for key in keys]
    if any(value is None or isinstance(value, list | dict) for value in values):
        return None  # blank or structured values never count as duplicates
    statement = scope.select(Record, Record.form_id == bindparam(None, form.id,
                                                                 literal_execute=True),
                             Record.deleted_at.is_(None),
                             *(_equals(key, value) for key, value in zip(keys, values,
                                                                         strict=True)))
    if exclude is not None:
        statement = statement.where(Record.id != exclude)
    return scope.session.scalars(statement.order_by(Record.id).limit(1)).first()


def check_duplicates(scope: TenantScope, form: Form, compiled: CompiledForm,
                     data: Mapping[str, Any], exclude: int | None, confirmed: bool) -> None:
    """409 naming the existing record: always for a `unique` field, for a dedup key unless
    the caller confirmed that the new record is not the same one."""
    fields: list[FieldError] = []
    existing_id = None
    for item in compiled.fields:
        if item.spec.get("unique"):
            found = _match(scope, form, data, [item.key], exclude)
            if found is not None:
                existing_id = existing_id or found.id
                fields.append(FieldError(f"data.{item.key}", "not_unique",
                                         {"record": found.id, "field": item.key}))
    if fields:
        raise Conflict("duplicate_record", fields=fields, record=existing_id)
    if confirmed:
        return
    for keys in compiled.definition.get("dedup", []):
        found = _match(scope, form, data, list(keys), exclude)
        if found is not None:
            raise Conflict("possible_duplicate", record=found.id, keys=", ".join(keys),
                           fields=[FieldError(f"data.{key}", "duplicate_of",
                                              {"record": found.id, "field": key})
                                   for key in keys])
