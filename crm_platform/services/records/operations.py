"""Records: create, read, change, delete and restore, transfer and claim from the pool,
every write validated by the form engine against the form's published version and written
to the record's history.

Who may do what is decided here (with `record_access`), so the API, batches, imports and
exports all obey the same rules: a record outside the caller's read scope is the same 404
as one that never existed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from sqlalchemy import Select
from sqlalchemy.exc import IntegrityError

from crm_platform.auth.principal import Principal
from crm_platform.db import stable_json, utcnow, write_first
from crm_platform.errors import (
    Conflict,
    FieldError,
    Forbidden,
    LoomError,
    NotFound,
    ValidationFailed,
    engine_fields,
)
from crm_platform.models import Form, FormVersion, IdempotencyKey, Record, RecordHistory
from crm_platform.scoping import TenantScope
from crm_platform.services.forms import definitions as form_service
from crm_platform.services.records import changes as record_changes
from crm_platform.services.records.access import (
    Access,
    access_for,
    in_scope,
    read_plan,
)
from crm_platform.services.records.dated import ensure_current
from crm_platform.services.records.derived import refresh_related
from crm_platform.services.records.duplicates import check_duplicates, lock_unique_fields
from crm_platform.services.records.query import Listing
from crm_platform.services.records.resolver import PlatformResolver
from crm_platform.services.storage.json_values import json_ready
from form_engine.compiled import CompiledForm
from form_engine.context import ValidationContext
from form_engine.validation import ValidationResult, input_values, stored_values, validate
from form_engine.versions import upgrade


class PreconditionFailed(LoomError):
    status = 412
    code = "precondition_failed"


def guard_fields(access: Access, data: Mapping[str, Any], before: Mapping[str, Any] | None,
                  locale: str) -> None:
    """Hidden fields cannot be written; read-only ones cannot be changed (set, on create)."""
    problems = []
    for key, value in data.items():
        if key in access.hidden:
            problems.append(FieldError(f"data.{key}", "field_hidden", {"field": key}))
        elif key in access.readonly and (before is None or _comparable(
                json_ready(value)) != _comparable(before.get(key))):
            problems.append(FieldError(f"data.{key}", "field_read_only", {"field": key}))
    if problems:
        raise ValidationFailed(fields=problems, count=len(problems))


# Values stored as they are: nothing to convert (the common case, checked first).
def changes_between(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, Any]:
    keys = list(dict.fromkeys([*before, *after]))
    return {key: [before.get(key), after.get(key)] for key in keys
            if _comparable(before.get(key)) != _comparable(after.get(key))}


def _comparable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return value.normalize()
    if isinstance(value, float):
        return Decimal(repr(value)).normalize()
    if isinstance(value, list):
        return [_comparable(item) for item in value]
    if isinstance(value, dict):
        return {key: _comparable(item) for key, item in value.items()}
    return value


def validation_failed(result: Any, locale: str) -> ValidationFailed:
    fields = engine_fields(result.errors, locale, prefix="data")
    return ValidationFailed(fields=fields, count=len(fields))


def validation_context(scope: TenantScope, actor: Principal, form: Form, **options: Any
             ) -> ValidationContext:
    return ValidationContext(
        locale=actor.locale, resolver=PlatformResolver(scope, form, actor),
        user={"id": actor.user_id, "email": actor.email, "roles": sorted(actor.role_keys)},
        **options)


def evaluate(scope: TenantScope, actor: Principal, form: Form, compiled: CompiledForm,
             data: Any, mode: str) -> ValidationResult:
    """Live preview: visibility, formulas and errors for a (partial) record, nothing
    written."""
    return validate(compiled, data, validation_context(scope, actor, form, mode=mode))


def history_entry(scope: TenantScope, record: Record, action: str, actor: Principal,
             changes: Mapping[str, Any], comment: str | None = None) -> None:
    scope.add(RecordHistory(record_id=record.id, action=action, version=record.version,
                            form_version=record.form_version, actor_id=actor.acting_user_id,
                            changes=dict(changes), comment=comment))


def current_version(scope: TenantScope, form: Form) -> tuple[FormVersion, CompiledForm]:
    """The published version and its compiled form. The version's documents are read only
    when the process has not compiled it yet (every record request passes here)."""
    row = form_service.published_row(scope, form)
    return row, form_service.compiled(scope, row)


def create_record(scope: TenantScope, actor: Principal, form: Form,
                  data: Mapping[str, Any], confirm_duplicate: bool = False,
                  idempotency_key: str | None = None, mode: str = "json"
                  ) -> tuple[Record, bool]:
    """The new record and whether it was created now (False: an idempotent replay).
    `mode`: "json" reads values as the API sends them (exact types), "input" as a person
    types them into a page ("1,200.50", "2026/12/3", an option's label)."""
    access = access_for(scope, actor, form)
    if not access.can_create:
        raise Forbidden("record_create_forbidden")
    guard_fields(access, data, None, actor.locale)
    if idempotency_key is not None:
        replayed = _claim_idempotency_key(scope, actor, form, idempotency_key, data)
        if replayed is not None:
            return replayed, False
    record = _create(scope, actor, form, data, confirm_duplicate, mode)
    record_changes.announce(scope, actor, form, record, "created", None)
    if idempotency_key is not None:
        claim = scope.session.get(IdempotencyKey, (scope.tenant_id, form.id,
                                                   actor.acting_user_id or 0, idempotency_key))
        assert claim is not None
        claim.record_id = record.id
    return record, True


def create_by_system(scope: TenantScope, actor: Principal, app_id: int, form_key: str,
                     data: Mapping[str, Any]) -> Record:
    """A record an automation or a flow creates: validated and deduplicated like any, no
    permission check (the rule's author decided), owned by whoever caused it."""
    form = scope.session.scalars(scope.select(Form, Form.app_id == app_id,
                                              Form.key == form_key)).first()
    if form is None:
        raise NotFound("resource_not_found", resource="form", id=form_key)
    record = _create(scope, actor, form, data, confirm_duplicate=True)
    record_changes.announce(scope, actor, form, record, "created", None)
    return record


def _request_hash(data: Mapping[str, Any]) -> str:
    return hashlib.sha256(stable_json(data).encode()).hexdigest()


def _claim_idempotency_key(scope: TenantScope, actor: Principal, form: Form, key: str,
                           data: Mapping[str, Any]) -> Record | None:
    """Claim `key` for this create, or return the record a first request created with it.

    The claim is a row with the caller and the key as primary key: a concurrent retry
    waits on it (PostgreSQL) or is serialized (SQLite), then finds the first request's
    record. Keys are per caller, so a replay only ever returns the caller's own create.
    """
    digest = _request_hash(data)
    session = scope.session
    ident = (scope.tenant_id, form.id, actor.acting_user_id or 0, key)
    existing = session.get(IdempotencyKey, ident)
    if existing is None:
        write_first(session)  # SQLite: a savepoint opening the transaction would commit
        try:
            with session.begin_nested():
                session.add(IdempotencyKey(tenant_id=scope.tenant_id, form_id=form.id,
                                           actor_id=ident[2], key=key, request_hash=digest))
            return None
        except IntegrityError:
            existing = session.get(IdempotencyKey, ident, populate_existing=True)
            assert existing is not None
    if existing.request_hash != digest:
        raise Conflict("idempotency_mismatch")
    record = scope.find(Record, existing.record_id)
    if record is None:
        raise Conflict("changed_meanwhile")
    return record


def _create(scope: TenantScope, actor: Principal, form: Form, data: Mapping[str, Any],
            confirm_duplicate: bool, mode: str = "json") -> Record:
    version, compiled = current_version(scope, form)
    record = scope.add(Record(form_id=form.id, form_version=version.version, data={},
                              owner_id=actor.acting_user_id, created_by_id=actor.acting_user_id,
                              updated_by_id=actor.acting_user_id, version=1,
                              department_id=actor.department_id))
    scope.session.flush()  # the id, for related rollups and history
    result = validate(compiled, data, validation_context(scope, actor, form, record_id=record.id,
                                                         assign_numbers=True, mode=mode))
    if not result.ok:
        raise validation_failed(result, actor.locale)
    check_duplicates(scope, actor, form, compiled, json_ready(result.data), record.id,
                     confirm_duplicate)
    record.data = json_ready(result.data)
    history_entry(scope, record, "create", actor, changes_between({}, record.data))
    scope.session.flush()
    refresh_related(scope, form, [(None, record.data)])
    return record


def listing(scope: TenantScope, actor: Principal, form: Form, deleted: bool = False
            ) -> Listing:
    """The form's live (or deleted) records the actor may read, their date-dependent
    values worked out for today."""
    ensure_current(scope, form)
    readable = read_plan(scope, actor, access_for(scope, actor, form))
    return Listing(scope.tenant_id, form.id, deleted, (readable,))


def records_query(scope: TenantScope, actor: Principal, form: Form,
                  deleted: bool = False) -> Select[tuple[Record]]:
    return listing(scope, actor, form, deleted).select(scope)


def get_record(scope: TenantScope, actor: Principal, form: Form, record_id: int,
               deleted: bool = False) -> Record:
    """A record the actor may read; anything else is the same 404."""
    statement = records_query(scope, actor, form, deleted).where(Record.id == record_id)
    record = scope.session.scalars(statement).first() if isinstance(record_id, int) else None
    if record is None:
        raise NotFound("resource_not_found", resource="record", id=record_id)
    return record


def _check_version(record: Record, if_match: int | None) -> None:
    if if_match is not None and if_match != record.version:
        raise PreconditionFailed("stale_record", current=record.version, given=if_match)


def current_data(scope: TenantScope, form: Form, record: Record) -> dict[str, Any]:
    """The record's stored data in Python types, moved up to the form's current version."""
    version, compiled = current_version(scope, form)
    return stored_values(compiled, _upgraded(scope, form, record, version, compiled))


def _upgraded(scope: TenantScope, form: Form, record: Record, target: FormVersion,
              compiled: CompiledForm) -> dict[str, Any]:
    """The stored data moved version by version up to `target` (migrations applied)."""
    data = dict(record.data)
    number = record.form_version
    while number < target.version:
        old_row = form_service.version_row(scope, form, number)
        new_row = form_service.version_row(scope, form, number + 1)
        old_form = form_service.compiled(scope, old_row)
        new_form = compiled if new_row.id == target.id else form_service.compiled(scope,
                                                                                    new_row)
        data = upgrade(stored_values(old_form, data), old_form, new_form, new_row.migrations)
        number += 1
    return data


def update_record(scope: TenantScope, actor: Principal, form: Form, record_id: int,
                  patch: Mapping[str, Any], if_match: int | None = None,
                  confirm_duplicate: bool = False, mode: str = "json") -> Record:
    """Change the fields in `patch`; the others keep their values (PATCH semantics).
    `mode` as for `create_record`."""
    write_first(scope.session)  # SQLite: nothing may be written between check and write
    lock_unique_fields(scope, form, current_version(scope, form)[1], shared=True)
    record = locked_record(scope, actor, form, record_id, action="update")
    _check_version(record, if_match)
    if record.locked:
        raise Conflict("record_locked")  # pending approval: only the flow may change it
    guard_fields(access_for(scope, actor, form), patch, record.data, actor.locale)
    version, compiled, new_data = _patched(scope, actor, form, record, patch, mode=mode)
    check_duplicates(scope, actor, form, compiled, new_data, record.id, confirm_duplicate)
    changes = changes_between(record.data, new_data)
    if changes or record.form_version != version.version:
        _store(scope, actor, form, record, version.version, new_data, changes)
    scope.session.flush()
    return record


def _store(scope: TenantScope, actor: Principal, form: Form, record: Record,
           form_version: int, new_data: dict[str, Any], changes: dict[str, Any]) -> None:
    """Write a validated change: data, versions, history — then the form's rules."""
    before = record.data
    record.data = new_data
    record.form_version = form_version
    record.version += 1
    record.updated_by_id = actor.acting_user_id
    record.updated_at = utcnow()
    history_entry(scope, record, "update", actor, changes)
    if changes:
        scope.session.flush()
        refresh_related(scope, form, [(before, new_data)])
        record_changes.announce(scope, actor, form, record, "updated", before)


def system_update(scope: TenantScope, actor: Principal, form: Form, record: Record,
                  values: Mapping[str, Any]) -> Record:
    """A change the system makes (a flow's approver editing a field, a flow's action): no
    permission or read-only checks, a locked record too; still validated, still history."""
    version, _compiled, new_data = _patched(scope, actor, form, record, values, system=True)
    changes = changes_between(record.data, new_data)
    if changes:
        _store(scope, actor, form, record, version.version, new_data, changes)
    return record


def _patched(scope: TenantScope, actor: Principal, form: Form, record: Record,
             patch: Mapping[str, Any], **options: Any
             ) -> tuple[FormVersion, CompiledForm, dict[str, Any]]:
    """The record's data moved to the form's current version with `patch` applied,
    checked by the form engine (ValidationFailed naming each problem), as it is stored."""
    version, compiled = current_version(scope, form)
    stored = _upgraded(scope, form, record, version, compiled)
    candidate = {**input_values(compiled, stored), **patch}
    result = validate(compiled, candidate, validation_context(
        scope, actor, form, record_id=record.id, existing=stored_values(compiled, stored),
        **options))
    if not result.ok:
        raise validation_failed(result, actor.locale)
    return version, compiled, json_ready(result.data)


def locked_record(scope: TenantScope, actor: Principal, form: Form, record_id: int,
                  action: str, deleted: bool = False) -> Record:
    """The record, row-locked for this transaction (concurrent writers queue up); 404 when
    the actor cannot see it, 403 when they can see it but not `action` it."""
    statement = records_query(scope, actor, form, deleted).where(Record.id == record_id)
    record = scope.session.scalars(statement.with_for_update()).first() if isinstance(
        record_id, int) else None
    if record is None:
        raise NotFound("resource_not_found", resource="record", id=record_id)
    access = access_for(scope, actor, form)
    allowed = access.update if action == "update" else access.delete
    if not in_scope(scope, actor, allowed, record):
        raise Forbidden(f"record_{action}_forbidden")
    return record


def delete_record(scope: TenantScope, actor: Principal, form: Form, record_id: int,
                  if_match: int | None = None) -> Record:
    """Move to the recycle bin (nothing is erased; restore brings it back)."""
    record = locked_record(scope, actor, form, record_id, action="delete")
    _check_version(record, if_match)
    if record.locked:
        raise Conflict("record_locked")
    record.deleted_at = utcnow()
    record.version += 1
    history_entry(scope, record, "delete", actor, {})
    scope.session.flush()
    refresh_related(scope, form, [(record.data, None)])
    record_changes.announce(scope, actor, form, record, "deleted", record.data)
    return record


def restore_record(scope: TenantScope, actor: Principal, form: Form, record_id: int) -> Record:
    record = locked_record(scope, actor, form, record_id, action="delete", deleted=True)
    record.deleted_at = None
    record.version += 1
    history_entry(scope, record, "restore", actor, {})
    scope.session.flush()
    refresh_related(scope, form, [(None, record.data)])
    return record


def access(scope: TenantScope, actor: Principal, form: Form) -> Access:
    """The actor's rights on the form's records (what to show, what to refuse)."""
    return access_for(scope, actor, form)


def history_query(scope: TenantScope, record: Record) -> Select[tuple[RecordHistory]]:
    return scope.select(RecordHistory, RecordHistory.record_id == record.id)

