"""Users of a tenant: create, change, deactivate; managers and departments stay in-tenant
and acyclic; a tenant always keeps one active administrator."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select

from crm_platform.auth.passwords import hash_password
from crm_platform.auth.principal import Principal
from crm_platform.errors import Conflict, invalid
from crm_platform.models import Department, User
from crm_platform.scoping import TenantScope
from crm_platform.services.identity import roles as role_service
from crm_platform.services.identity.checks import (
    check_password,
    check_timezone,
    normalize_email,
)


def _email_is_free(scope: TenantScope, email: str, except_id: int | None = None) -> bool:
    existing = scope.session.scalars(scope.select(User, User.email == email)).first()
    return existing is None or existing.id == except_id


def _set_manager(scope: TenantScope, user: User, manager_id: int | None) -> None:
    if manager_id is None:
        user.manager_id = None
        return
    scope.lock_tenant()  # two concurrent changes must not build a cycle between them
    manager = scope.reference(User, manager_id, "manager_id", "user")
    seen = {user.id}
    cursor: User | None = manager
    while cursor is not None:
        if cursor.id in seen:
            raise invalid("manager_id", "creates_cycle", resource="user")
        seen.add(cursor.id)
        cursor = scope.find(User, cursor.manager_id) if cursor.manager_id else None
    user.manager_id = manager.id


def _apply(scope: TenantScope, user: User, body: dict[str, Any]) -> None:
    if "email" in body:
        email = normalize_email(body["email"])
        if not _email_is_free(scope, email, user.id):
            raise invalid("email", "taken", value=email)
        user.email = email
    if "name" in body:
        user.name = body["name"]
    if "locale" in body:
        user.locale = body["locale"]
    if "timezone" in body:
        user.timezone = (None if body["timezone"] is None
                         else check_timezone(body["timezone"]))
    if "password" in body:
        user.password_hash = hash_password(check_password(
            body["password"], "password", user.email or "", user.name or ""))
    if "department_id" in body:
        department_id = body["department_id"]
        user.department_id = (
            None if department_id is None
            else scope.reference(Department, department_id, "department_id", "department").id
        )
    if "manager_id" in body:
        _set_manager(scope, user, body["manager_id"])
    if "is_active" in body:
        user.is_active = body["is_active"]


def _guard_last_admin(scope: TenantScope, user: User) -> None:
    """Refuse a change that would leave the tenant with no active administrator."""
    scope.lock_tenant()  # two admins demoting each other at once must not both succeed
    scope.session.flush()
    if not role_service.active_admin_ids(scope):
        raise Conflict("last_admin")


def users_query(scope: TenantScope, actor: Principal, department_id: int | None = None,
                active: bool | None = None) -> Select[tuple[User]]:
    actor.require_tenant_admin()
    statement = scope.select(User)
    if department_id is not None:
        statement = statement.where(User.department_id == department_id)
    if active is not None:
        statement = statement.where(User.is_active.is_(active))
    return statement


def get_user(scope: TenantScope, actor: Principal, user_id: int) -> User:
    actor.require_tenant_admin()
    return scope.get(User, user_id, "user")


def create_user(scope: TenantScope, actor: Principal, body: dict[str, Any]) -> User:
    actor.require_tenant_admin()
    email = normalize_email(body["email"])
    if not _email_is_free(scope, email):
        raise invalid("email", "taken", value=email)
    user = scope.add(User(email=email, name=body.get("name") or email.split("@")[0],
                          locale=body.get("locale", "en")))
    scope.session.flush()  # gives the user an id for the manager-cycle check
    _apply(scope, user, {key: value for key, value in body.items() if key != "email"})
    if "roles" in body:
        role_service.set_user_roles(scope, user, body["roles"], "roles")
    scope.session.flush()
    return user


def update_user(scope: TenantScope, actor: Principal, user_id: int, body: dict[str, Any]) -> User:
    user = get_user(scope, actor, user_id)
    _apply(scope, user, body)
    if "roles" in body:
        role_service.set_user_roles(scope, user, body["roles"], "roles")
    if "roles" in body or body.get("is_active") is False:
        _guard_last_admin(scope, user)
    scope.session.flush()
    return user


def deactivate_user(scope: TenantScope, actor: Principal, user_id: int) -> User:
    """Users are never hard-deleted: their records, history and approvals keep the name."""
    return update_user(scope, actor, user_id, {"is_active": False})


def update_own_settings(scope: TenantScope, actor: Principal, body: dict[str, Any]) -> User:
    """What every user may change about themselves: their name, language and time zone
    (None: their tenant's)."""
    user = scope.get(User, actor.user_id, "user")
    _apply(scope, user, {key: body[key] for key in ("name", "locale", "timezone")
                         if key in body})
    scope.session.flush()
    return user
