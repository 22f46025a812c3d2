"""Who may do what with the records of a form: role × form permissions with scopes
(own / department / department_tree / all), field-level hidden / read-only, and the
customer pool.

One policy, used by every path that touches records (API, batch, and later import and
export). Tenant administrators and designers may do everything. A form nobody configured
lets every member create records and see and change their own. Once a form has
permissions, a member gets the union of their roles' rights: the widest scope of any role,
and a field is hidden (or read-only) only if it is for every one of their roles.

The pool is the records nobody owns (an automation released them, their owner left). A
role with `pool` reads them besides its read scope and may claim one; it may change or
delete a pool record only once it has claimed it, so update and delete scopes never
reach the pool.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, false, true

from crm_platform.auth.principal import Principal
from crm_platform.models import (
    Department,
    Form,
    FormPermission,
    Record,
    RecordHistory,
    User,
    UserRole,
)
from crm_platform.scoping import TenantScope
from crm_platform.services.storage.sql_plans import Binder, Plan

SCOPES = ("none", "own", "department", "department_tree", "all")


@dataclass(frozen=True)
class Access:
    can_create: bool
    read: str
    update: str
    delete: str
    hidden: frozenset[str] = frozenset()
    readonly: frozenset[str] = frozenset()
    pool: bool = False


FULL = Access(True, "all", "all", "all", pool=True)
UNCONFIGURED = Access(True, "own", "own", "own")
NOTHING = Access(False, "none", "none", "none")


def _wider(first: str, second: str) -> str:
    return first if SCOPES.index(first) >= SCOPES.index(second) else second


def access_for(scope: TenantScope, actor: Principal, form: Form) -> Access:
    if _sees_everything(actor):
        return FULL
    configured = list(scope.session.scalars(scope.select(FormPermission,
                                                         FormPermission.form_id == form.id)))
    if not configured:
        return UNCONFIGURED
    return _combined([row for row in configured if row.role_id in _role_ids(scope, actor)])


def access_to_forms(scope: TenantScope, actor: Principal, form_ids: Iterable[int]
                    ) -> dict[int, Access]:
    """`access_for` of many forms at once, in two statements (menus, the home page)."""
    form_ids = list(dict.fromkeys(form_ids))
    if _sees_everything(actor):
        return dict.fromkeys(form_ids, FULL)
    configured: dict[int, list[FormPermission]] = {}
    for row in scope.session.scalars(scope.select(
            FormPermission, FormPermission.form_id.in_(form_ids))):
        configured.setdefault(row.form_id, []).append(row)
    role_ids = _role_ids(scope, actor) if configured else set()
    return {form_id: _combined([row for row in configured[form_id] if row.role_id in role_ids])
            if form_id in configured else UNCONFIGURED for form_id in form_ids}


def _sees_everything(actor: Principal) -> bool:
    return actor.is_tenant_admin or actor.has_role("designer") or actor.via == "console"


def _role_ids(scope: TenantScope, actor: Principal) -> set[int]:
    return set(scope.session.scalars(
        scope.select(UserRole, UserRole.user_id == actor.user_id)
        .with_only_columns(UserRole.role_id)))


def _combined(mine: list[FormPermission]) -> Access:
    """The widest of the caller's roles' rights; a field stays hidden (read-only) only
    when every one of them hides it (makes it read-only)."""
    if not mine:
        return NOTHING
    access = NOTHING
    hidden: set[str] | None = None
    readonly: set[str] | None = None
    for row in mine:
        access = Access(access.can_create or row.can_create, _wider(access.read, row.read_scope),
                        _wider(access.update, row.update_scope),
                        _wider(access.delete, row.delete_scope),
                        pool=access.pool or bool(row.pool))
        hidden = set(row.hidden_fields) if hidden is None else hidden & set(row.hidden_fields)
        readonly = set(row.readonly_fields) if readonly is None else readonly & set(
            row.readonly_fields)
    return Access(access.can_create, access.read, access.update, access.delete,
                  frozenset(hidden or ()), frozenset(readonly or ()), access.pool)


def hidden_from_any_role(scope: TenantScope, form: Form) -> frozenset[str]:
    """Every field some role hides on the form: what someone who has no role there (an
    approver from another department) must not see unless a flow's node shows it."""
    hidden: set[str] = set()
    for fields in scope.session.scalars(scope.select(
            FormPermission, FormPermission.form_id == form.id).with_only_columns(
            FormPermission.hidden_fields)):
        hidden.update(fields or ())
    return frozenset(hidden)


def _department_tree(scope: TenantScope, root: int) -> set[int]:
    children: dict[int | None, list[int]] = {}
    for department_id, parent_id in scope.session.execute(
            scope.select(Department).with_only_columns(Department.id, Department.parent_id)):
        children.setdefault(parent_id, []).append(department_id)
    found, stack = set(), [root]
    while stack:
        current = stack.pop()
        if current not in found:
            found.add(current)
            stack.extend(children.get(current, []))
    return found


def _departments(scope: TenantScope, actor: Principal, kind: str) -> set[int]:
    user = scope.find(User, actor.user_id)
    if user is None or user.department_id is None:
        return set()
    if kind == "department":
        return {user.department_id}
    return _department_tree(scope, user.department_id)


def scope_plan(scope: TenantScope, actor: Principal, kind: str, pool: bool = False) -> Plan:
    """The records a scope covers, as a plan (sql_plans): the caller and their departments
    are bound values, so every caller with the same kind of scope shares one SQL. `pool`
    (reads only) adds the records nobody owns."""
    if kind == "all":
        return Plan(_render_scope, ("all",))
    if kind == "none":
        return Plan(_render_scope, ("pool",) if pool else ("none",))
    if kind == "own":
        return Plan(_render_scope, ("own", 0, pool), (actor.user_id,))
    departments = sorted(_departments(scope, actor, kind))
    return Plan(_render_scope, ("own", len(departments), pool), (actor.user_id, *departments))


def _render_scope(shape: tuple[Any, ...], values: Iterator[Any], bind: Binder
                  ) -> ColumnElement[bool]:
    if shape[0] == "all":
        return true()
    if shape[0] == "none":
        return false()
    if shape[0] == "pool":
        return Record.owner_id.is_(None)
    covered = Record.owner_id == bind(next(values), Record.owner_id.type)
    if shape[1]:
        covered = covered | Record.department_id.in_(
            [bind(next(values), Record.department_id.type) for _ in range(shape[1])])
    return covered | Record.owner_id.is_(None) if shape[2] else covered


def read_plan(scope: TenantScope, actor: Principal, access: Access) -> Plan:
    """The records `access` may read: its read scope, and the pool when it has it."""
    return scope_plan(scope, actor, access.read, access.pool)


def scope_condition(scope: TenantScope, actor: Principal, kind: str, pool: bool = False
                    ) -> ColumnElement[bool]:
    """The records a scope covers, as a SQL condition."""
    return scope_plan(scope, actor, kind, pool).clause()


def in_scope(scope: TenantScope, actor: Principal, kind: str, record: Record,
             pool: bool = False) -> bool:
    """Whether `record` is in the scope; `pool` (reads only) counts unowned records in."""
    if kind == "all" or (pool and record.owner_id is None):
        return True
    if kind == "none":
        return False
    if record.owner_id == actor.user_id:
        return True
    return kind != "own" and record.department_id in _departments(scope, actor, kind)


def may_read(scope: TenantScope, actor: Principal, access: Access, record: Record) -> bool:
    """Whether `access` reads `record` (its read scope, or the pool)."""
    return in_scope(scope, actor, access.read, record, access.pool)


def claimed_from_pool(scope: TenantScope, form: Form, record_id: int) -> bool:
    """Whether the record was claimed from the pool and has an owner since: what a late
    claimer, who no longer sees it, is told (409, not 404). They learn no more than that a
    record they could see in the pool was taken."""
    record = scope.find(Record, record_id)
    if record is None or record.form_id != form.id or record.deleted_at is not None or (
            record.owner_id is None):
        return False
    last = scope.session.scalars(scope.select(
        RecordHistory, RecordHistory.record_id == record.id,
        RecordHistory.action.in_(("claim", "release")))
        .with_only_columns(RecordHistory.action)
        .order_by(RecordHistory.id.desc()).limit(1)).first()
    return last == "claim"


def visible_data(data: dict[str, Any], access: Access) -> dict[str, Any]:
    if not access.hidden:
        return data
    return {key: value for key, value in data.items() if key not in access.hidden}


__all__ = ["FULL", "NOTHING", "SCOPES", "UNCONFIGURED", "Access", "access_for",
           "claimed_from_pool", "hidden_from_any_role", "in_scope", "may_read", "read_plan",
           "scope_condition", "scope_plan", "visible_data"]
