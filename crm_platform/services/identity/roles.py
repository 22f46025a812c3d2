"""Roles and who holds them. `admin` and `designer` are built in to every tenant."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, delete, func, select

from crm_platform.auth.principal import Principal
from crm_platform.errors import Conflict, invalid
from crm_platform.models import Role, User, UserRole
from crm_platform.scoping import TenantScope

ADMIN = "admin"
DESIGNER = "designer"
SYSTEM_ROLES = {
    ADMIN: ("Administrator", "Manages users, departments, roles, tokens and every app."),
    DESIGNER: ("Designer", "Builds forms, flows and views."),
}


def create_system_roles(scope: TenantScope) -> dict[str, Role]:
    roles = {}
    for key, (name, description) in SYSTEM_ROLES.items():
        roles[key] = scope.add(Role(key=key, name=name, description=description, is_system=True))
    scope.session.flush()
    return roles


def roles_query(scope: TenantScope, actor: Principal) -> Select[tuple[Role]]:
    actor.require_tenant_admin()
    return scope.select(Role)


def get_role(scope: TenantScope, actor: Principal, role_id: int) -> Role:
    actor.require_tenant_admin()
    return scope.get(Role, role_id, "role")


def create_role(scope: TenantScope, actor: Principal, body: dict[str, Any]) -> Role:
    actor.require_tenant_admin()
    if scope.session.scalars(scope.select(Role, Role.key == body["key"])).first():
        raise invalid("key", "taken", value=body["key"])
    role = scope.add(Role(key=body["key"], name=body["name"],
                          description=body.get("description", ""), is_system=False))
    scope.session.flush()
    return role


def update_role(scope: TenantScope, actor: Principal, role_id: int, body: dict[str, Any]) -> Role:
    role = get_role(scope, actor, role_id)
    if role.is_system:
        raise Conflict("system_role", value=role.key)
    for name in ("name", "description"):
        if name in body:
            setattr(role, name, body[name])
    return role


def delete_role(scope: TenantScope, actor: Principal, role_id: int) -> None:
    role = get_role(scope, actor, role_id)
    if role.is_system:
        raise Conflict("system_role", value=role.key)
    scope.session.execute(delete(UserRole).where(UserRole.role_id == role.id))
    scope.session.delete(role)


def set_user_roles(scope: TenantScope, user: User, role_ids: list[int], path: str) -> None:
    """Replace the user's roles; every id must be a role of this tenant."""
    roles = [scope.reference(Role, role_id, f"{path}[{index}]", "role")
             for index, role_id in enumerate(role_ids)]
    scope.session.execute(delete(UserRole).where(UserRole.user_id == user.id))
    for role in roles:
        scope.add(UserRole(user_id=user.id, role_id=role.id))
    scope.session.flush()
    scope.session.expire(user, ["roles"])


def active_admin_ids(scope: TenantScope) -> set[int]:
    statement = scope.filter(
        select(User.id).join(UserRole, UserRole.user_id == User.id)
        .join(Role, Role.id == UserRole.role_id), User
    ).where(Role.key == ADMIN, User.is_active.is_(True))
    return set(scope.session.scalars(statement))


def role_choices(scope: TenantScope, actor: Principal) -> list[tuple[str, str]]:
    """(key, name) of the tenant's roles, for a designer sharing something with some of
    them; nobody else is offered the choice."""
    if not (actor.is_tenant_admin or actor.has_role("designer")):
        return []
    return [(row.key, row.name) for row in scope.session.execute(
        scope.select(Role).with_only_columns(Role.key, Role.name).order_by(Role.name))]


def role_keys_of(owner: Any, user_id: Any) -> Any:
    """A user's role keys, comma-joined, as a scalar subquery of a statement about `owner`
    (a tenant table's entity) whose column `user_id` names the user (keys are
    identifiers: no comma in them)."""
    return (select(func.aggregate_strings(Role.key, ",")).select_from(UserRole)
            .join(Role, (Role.tenant_id == UserRole.tenant_id) & (Role.id == UserRole.role_id))
            .where(UserRole.tenant_id == owner.tenant_id, UserRole.user_id == user_id)
            .scalar_subquery())


def split_role_keys(joined: str | None) -> frozenset[str]:
    return frozenset(filter(None, (joined or "").split(",")))
