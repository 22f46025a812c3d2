"""Departments: a tree per tenant, each with an optional head."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select

from crm_platform.auth.principal import Principal
from crm_platform.errors import Conflict, invalid
from crm_platform.models import Department, Record, User
from crm_platform.scoping import TenantScope


def _set_parent(scope: TenantScope, department: Department, parent_id: int | None) -> None:
    if parent_id is None:
        department.parent_id = None
        return
    scope.lock_tenant()  # two concurrent moves must not build a cycle between them
    parent = scope.reference(Department, parent_id, "parent_id", "department")
    seen: set[int] = set()
    cursor: Department | None = parent
    while cursor is not None and cursor.id not in seen:
        if cursor.id == department.id:
            raise invalid("parent_id", "creates_cycle", resource="department")
        seen.add(cursor.id)
        cursor = scope.find(Department, cursor.parent_id) if cursor.parent_id else None
    department.parent_id = parent.id


def _apply(scope: TenantScope, department: Department, body: dict[str, Any]) -> None:
    if "name" in body:
        department.name = body["name"]
    if "parent_id" in body:
        _set_parent(scope, department, body["parent_id"])
    if "head_id" in body:
        head_id = body["head_id"]
        department.head_id = (
            None if head_id is None else scope.reference(User, head_id, "head_id", "user").id
        )


def departments_query(scope: TenantScope, actor: Principal,
                      parent_id: int | None = None) -> Select[tuple[Department]]:
    actor.require_tenant_admin()
    statement = scope.select(Department)
    if parent_id is not None:
        statement = statement.where(Department.parent_id == parent_id)
    return statement


def get_department(scope: TenantScope, actor: Principal, department_id: int) -> Department:
    actor.require_tenant_admin()
    return scope.get(Department, department_id, "department")


def create_department(scope: TenantScope, actor: Principal, body: dict[str, Any]) -> Department:
    actor.require_tenant_admin()
    department = scope.add(Department(name=body["name"]))
    scope.session.flush()
    _apply(scope, department, body)
    scope.session.flush()
    return department


def update_department(scope: TenantScope, actor: Principal, department_id: int,
                      body: dict[str, Any]) -> Department:
    department = get_department(scope, actor, department_id)
    _apply(scope, department, body)
    scope.session.flush()
    return department


def delete_department(scope: TenantScope, actor: Principal, department_id: int) -> None:
    """Only an empty department (no sub-departments, no members) may be deleted."""
    department = get_department(scope, actor, department_id)
    children = scope.count(Department, Department.parent_id == department.id)
    members = scope.count(User, User.department_id == department.id)
    if children or members:
        raise Conflict("department_not_empty", children=children, members=members)
    # Records keep no department that no longer exists (on PostgreSQL the key holds the
    # tenant, which cannot be set to null by the database: models/keys.py).
    scope.session.execute(scope.update(Record, Record.department_id == department.id)
                          .values(department_id=None))
    scope.session.delete(department)

