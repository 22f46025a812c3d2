"""Duplicate checks on write: `unique` fields (hard) and the form's dedup keys (soft, the
caller may confirm), e.g. "same phone = same customer".

A duplicate is always caught — the company does not want two customers with one phone —
but the caller learns of the other record only what they may read: one they can read is
named by its id; of one they cannot, they are told only that it exists and whom to ask —
its owner by name when the tenant shows owners (`show_duplicate_owner`), else an
administrator — never its id or its values."""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Mapping
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Numeric, any_, bindparam, func, select
from sqlalchemy.dialects.postgresql import ARRAY

from crm_platform.auth.principal import Principal
from crm_platform.errors import Conflict, FieldError
from crm_platform.i18n import ADMINISTRATOR
from crm_platform.models import Form, Record, Tenant, User
from crm_platform.scoping import TenantScope
from crm_platform.services.records.access import access_for, read_plan
from crm_platform.services.storage.data_fields import data_field
from form_engine.compiled import CompiledForm


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


def _lock_key(*parts: Any) -> int:
    """A signed 64-bit advisory-lock key for `parts` (PostgreSQL's lock ids are bigint)."""
    digest = hashlib.blake2b(repr(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def lock_unique_values(scope: TenantScope, form: Form, compiled: CompiledForm,
                       data: Mapping[str, Any]) -> None:
    """Serialize writers of the same value of a `unique` field (PostgreSQL).

    Two concurrent creates with one phone would each find no other record and both
    commit. Each writer therefore takes, before it looks, a transaction lock on the value
    (and a shared one on the field, which a whole import takes exclusively): the second
    waits for the first to commit, then finds its record — the same 409 as ever. SQLite
    lets one writer in at a time, and a record is written before it is checked."""
    if scope.session.get_bind().dialect.name != "postgresql":
        return
    for item in compiled.fields:
        value = data.get(item.key)
        if not item.spec.get("unique") or value is None or isinstance(value, list | dict):
            continue
        field = _lock_key(scope.tenant_id, form.id, item.key)
        scope.session.execute(select(func.pg_advisory_xact_lock_shared(field)))
        scope.session.execute(select(func.pg_advisory_xact_lock(
            _lock_key(scope.tenant_id, form.id, item.key, _kind(value), str(value)))))


def lock_unique_fields(scope: TenantScope, form: Form, compiled: CompiledForm,
                       shared: bool = False) -> None:
    """An import's lock: every `unique` field of the form, exclusively, for the whole
    import — no other writer adds a value while its rows are checked and written. A change
    of one record takes them `shared` before it locks the record, so that it and an
    import always take the two in the same order (never waiting on each other)."""
    if scope.session.get_bind().dialect.name != "postgresql":
        return
    lock = func.pg_advisory_xact_lock_shared if shared else func.pg_advisory_xact_lock
    for item in compiled.fields:
        if item.spec.get("unique"):
            scope.session.execute(select(lock(_lock_key(scope.tenant_id, form.id,
                                                        item.key))))


def who_to_ask(scope: TenantScope, owner_id: int | None) -> str:
    """Whom a caller may ask about a record they cannot see: its owner's name if the
    tenant shows it, else `ADMINISTRATOR` (the messages then say: an administrator)."""
    tenant = scope.session.get(Tenant, scope.tenant_id)
    if tenant is None or not tenant.show_duplicate_owner or owner_id is None:
        return ADMINISTRATOR
    owner = scope.find(User, owner_id)
    return owner.name if owner is not None and owner.name else ADMINISTRATOR


def readable_ids(scope: TenantScope, actor: Principal, form: Form,
                 ids: Collection[int]) -> set[int]:
    """Those of `ids` (records of `form`) that `actor` may read."""
    access = access_for(scope, actor, form)
    if access.read == "all" or not ids:
        return set(ids) if access.read == "all" else set()
    if access.read == "none" and not access.pool:
        return set()
    return set(scope.session.scalars(scope.select(
        Record, Record.id.in_(list(ids)), read_plan(scope, actor, access).clause())
        .with_only_columns(Record.id)))


def check_duplicates(scope: TenantScope, actor: Principal, form: Form,
                     compiled: CompiledForm, data: Mapping[str, Any], exclude: int | None,
                     confirmed: bool) -> None:
    """409 naming the existing record: always for a `unique` field, for a dedup key unless
    the caller confirmed that the new record is not the same one. A record the caller may
    not read is not named (see the module)."""
    lock_unique_values(scope, form, compiled, data)
    found_unique = [(item.key, _match(scope, form, data, [item.key], exclude))
                    for item in compiled.fields if item.spec.get("unique")]
    found_unique = [(key, found) for key, found in found_unique if found is not None]
    if found_unique:
        seen = readable_ids(scope, actor, form, {found.id for _key, found in found_unique})
        fields = [field for key, found in found_unique
                  for field in duplicate_fields(scope, [key], True, found, found.id in seen)]
        first = next((found.id for _key, found in found_unique if found.id in seen), None)
        if first is None:
            raise Conflict("duplicate_record_unseen", fields=fields)
        raise Conflict("duplicate_record", fields=fields, record=first)
    if confirmed:
        return
    for keys in compiled.definition.get("dedup", []):
        found = _match(scope, form, data, list(keys), exclude)
        if found is not None:
            raise duplicate_conflict(scope, list(keys), False, found, found.id in readable_ids(
                scope, actor, form, {found.id}))


def duplicate_fields(scope: TenantScope, keys: list[str], unique: bool, found: Record,
                     readable: bool) -> list[FieldError]:
    """The field errors of a match with record `found` on `keys`: naming it when the
    caller may read it, else saying whom to ask."""
    if readable:
        code = "not_unique" if unique else "duplicate_of"
        return [FieldError(f"data.{key}", code, {"record": found.id, "field": key})
                for key in keys]
    code, owner = ("not_unique_unseen" if unique else "duplicate_of_unseen",
                   who_to_ask(scope, found.owner_id))
    return [FieldError(f"data.{key}", code, {"field": key, "owner": owner}) for key in keys]


def duplicate_conflict(scope: TenantScope, keys: list[str], unique: bool, found: Record,
                       readable: bool) -> Conflict:
    """The 409 of a match with record `found`: a `unique` field (hard) or a dedup key
    (soft: the caller may confirm)."""
    fields = duplicate_fields(scope, keys, unique, found, readable)
    if unique:
        return (Conflict("duplicate_record", fields=fields, record=found.id) if readable
                else Conflict("duplicate_record_unseen", fields=fields))
    if readable:
        return Conflict("possible_duplicate", record=found.id, keys=", ".join(keys),
                        fields=fields)
    return Conflict("possible_duplicate_unseen", keys=", ".join(keys), fields=fields)
