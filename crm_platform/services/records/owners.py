"""Who owns a record: handing it to another user, and claiming it from the pool.

A new owner brings their department; the change is a new version with its history entry,
and it is announced (`assigned`) so the form's rules can react — the sales core restarts a
claimed customer's 30-day pool clock.
"""

from __future__ import annotations

from crm_platform.auth.principal import Principal
from crm_platform.db import utcnow, write_first
from crm_platform.errors import Conflict, FieldError, Forbidden, NotFound, ValidationFailed
from crm_platform.models import Form, Record, User
from crm_platform.scoping import TenantScope
from crm_platform.services.records import changes as record_changes
from crm_platform.services.records.access import access_for, claimed_from_pool
from crm_platform.services.records.operations import (
    changes_between,
    get_record,
    history_entry,
    locked_record,
)


def transfer_record(scope: TenantScope, actor: Principal, form: Form, record_id: int,
                    owner_id: int) -> Record:
    """Hand a record to another user (e.g. a salesperson leaving); their department follows."""
    record = locked_record(scope, actor, form, record_id, action="update")
    owner = scope.reference(User, owner_id, "owner", "user")
    if not owner.is_active:
        raise ValidationFailed(fields=[FieldError("owner", "user_inactive_owner", {})],
                               count=1)
    return _hand_over(scope, actor, form, record, owner.id, owner.department_id, "transfer")


def _hand_over(scope: TenantScope, actor: Principal, form: Form, record: Record,
               owner_id: int | None, department_id: int | None, action: str) -> Record:
    """A new owner and department, a new version, the `action` in the history; the
    form's `assigned` rules run (a claimer's pool clock starts again)."""
    before = {"owner": record.owner_id, "department": record.department_id}
    record.owner_id, record.department_id = owner_id, department_id
    record.version += 1
    record.updated_by_id = actor.acting_user_id
    record.updated_at = utcnow()
    history_entry(scope, record, action, actor, changes_between(
        before, {"owner": owner_id, "department": department_id}))
    record_changes.announce(scope, actor, form, record, "assigned", dict(record.data))
    return record


def claim_record(scope: TenantScope, actor: Principal, form: Form, record_id: int) -> Record:
    """Take a record from the pool (nobody owns it): the caller owns it, their department
    follows. Of two claiming at once, the second waits for the row and finds it taken."""
    write_first(scope.session)  # SQLite: claims queue up instead of failing as "locked"
    access = access_for(scope, actor, form)
    try:
        record = get_record(scope, actor, form, record_id)
    except NotFound:
        if access.pool and claimed_from_pool(scope, form, record_id):
            raise Conflict("already_claimed") from None
        raise
    if not access.pool or actor.acting_user_id is None:
        raise Forbidden("record_claim_forbidden")
    # Locked by id alone: filtered by the read scope, PostgreSQL would drop the row once
    # another claim committed (404) instead of showing it claimed (409).
    if scope.session.scalars(scope.select(Record, Record.id == record.id,
                                          Record.deleted_at.is_(None)).with_for_update()
                             .execution_options(populate_existing=True)).first() is None:
        raise NotFound("resource_not_found", resource="record", id=record_id)
    if record.owner_id is not None:
        raise Conflict("already_claimed")
    return _hand_over(scope, actor, form, record, actor.acting_user_id, actor.department_id,
                      "claim")
