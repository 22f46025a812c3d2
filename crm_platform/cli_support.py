"""What the CLI does inside a transaction, kept apart from click so tests can call it.

The console goes through the same request schemas and services as the API, acting as
`Principal.console`, so a tenant or user the CLI creates is one the API would accept.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from crm_platform.api import schemas
from crm_platform.auth.principal import Principal
from crm_platform.demo import Person, prepare_demo_apps
from crm_platform.errors import NotFound, invalid
from crm_platform.models import Role, Tenant, User
from crm_platform.schema_checks import check_against
from crm_platform.scoping import TenantScope
from crm_platform.services.identity.tenants import create_tenant, tenant_by_slug
from crm_platform.services.identity.users import create_user


def create_tenant_from_console(session: Session, body: dict[str, Any]) -> tuple[Tenant, User]:
    check_against(schemas.TENANT_CREATE, body)
    return create_tenant(session, body)


def create_user_in_tenant(session: Session, tenant_slug: str, body: dict[str, Any],
                          role_keys: tuple[str, ...]) -> User:
    """A user of a tenant, with roles named by key."""
    tenant = tenant_by_slug(session, tenant_slug)
    if tenant is None or tenant.is_platform:
        raise NotFound("resource_not_found", resource="tenant", id=tenant_slug)
    scope = TenantScope(session, tenant.id)
    role_ids = []
    for index, key in enumerate(role_keys):
        role = session.scalars(scope.select(Role, Role.key == key)).first()
        if role is None:
            raise invalid(f"role[{index}]", "no_such_reference", resource="role", value=key)
        role_ids.append(role.id)
    body = {**body, "roles": role_ids}
    check_against(schemas.USER_CREATE, body)
    return create_user(scope, Principal.console(tenant.id), body)


def prepare_demo(session: Session, slug: str, email: str, password: str,
                 say: Callable[[str], None] = lambda _text: None
                 ) -> tuple[bool, list[Person]]:
    """The demo tenant, its administrator, its people and its template apps
    (`crm_platform.demo`): whether the tenant was made now, and the people made now (none
    when they were there)."""
    tenant = tenant_by_slug(session, slug)
    created = tenant is None
    if tenant is None:
        tenant, _admin = create_tenant(session, {"slug": slug, "name": "Demo Co.", "admin": {
            "email": email, "password": password, "name": "Demo Admin"}})
        session.flush()
    return created, prepare_demo_apps(session, tenant, password, say)
