"""Tenants, created and suspended by platform administrators, and the platform tenant that
holds those administrators."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_platform.auth.passwords import hash_password
from crm_platform.auth.principal import Principal
from crm_platform.errors import Conflict, NotFound, ValidationFailed, invalid
from crm_platform.models import Tenant, TenantStatus, User
from crm_platform.scoping import TenantScope, is_valid_id
from crm_platform.services.identity import roles as role_service
from crm_platform.services.identity.checks import (
    check_password,
    check_slug,
    check_timezone,
    normalize_email,
)
from crm_platform.services.identity.users import create_user

PLATFORM_SLUG = "platform"


def tenant_by_slug(session: Session, slug: str) -> Tenant | None:
    return session.scalars(select(Tenant).where(Tenant.slug == slug)).first()


def create_tenant(session: Session, body: dict[str, Any]) -> tuple[Tenant, User]:
    """A tenant with its built-in roles and first administrator (used by API and CLI)."""
    slug = check_slug(body["slug"])
    if tenant_by_slug(session, slug) is not None:
        raise invalid("slug", "taken", value=slug)
    locale = body.get("default_locale", "en")
    tenant = Tenant(slug=slug, name=body["name"], default_locale=locale,
                    default_region=body.get("default_region", "CN"),
                    timezone=check_timezone(body.get("timezone", "Asia/Shanghai")))
    session.add(tenant)
    session.flush()
    scope = TenantScope(session, tenant.id)
    roles = role_service.create_system_roles(scope)
    admin = {"locale": locale, **body["admin"], "roles": [roles[role_service.ADMIN].id]}
    try:
        user = create_user(scope, Principal.console(tenant.id), admin)
    except ValidationFailed as error:
        raise error.under("admin") from None
    return tenant, user


def create_tenant_as(session: Session, actor: Principal,
                     body: dict[str, Any]) -> tuple[Tenant, User]:
    actor.require_platform_admin()
    return create_tenant(session, body)


def get_tenant(session: Session, actor: Principal, tenant_id: int) -> Tenant:
    actor.require_platform_admin()
    tenant = session.get(Tenant, tenant_id) if is_valid_id(tenant_id) else None
    if tenant is None or tenant.is_platform:
        raise NotFound("resource_not_found", resource="tenant", id=tenant_id)
    return tenant


def update_tenant(session: Session, actor: Principal, tenant_id: int,
                  body: dict[str, Any]) -> Tenant:
    """Rename, change defaults, suspend (`status: suspended`) or reactivate a tenant."""
    tenant = get_tenant(session, actor, tenant_id)
    if "timezone" in body:
        tenant.timezone = check_timezone(body["timezone"])
    for name in ("name", "default_locale", "default_region"):
        if name in body:
            setattr(tenant, name, body[name])
    if "status" in body:
        tenant.status = TenantStatus(body["status"])
    return tenant


def own_settings(scope: TenantScope, actor: Principal) -> Tenant:
    """The caller's own tenant, for its administrators to read and change."""
    actor.require_tenant_admin()
    tenant = scope.session.get(Tenant, scope.tenant_id)
    assert tenant is not None
    return tenant


def update_own_settings(scope: TenantScope, actor: Principal, body: dict[str, Any]) -> Tenant:
    tenant = own_settings(scope, actor)
    if "timezone" in body:
        tenant.timezone = check_timezone(body["timezone"])
    for name in ("default_locale", "default_region", "show_duplicate_owner"):
        if name in body:
            setattr(tenant, name, body[name])
    return tenant


def tenants_query(actor: Principal):
    actor.require_platform_admin()
    return select(Tenant).where(Tenant.is_platform.is_(False))


def ensure_platform_tenant(session: Session) -> Tenant:
    tenant = tenant_by_slug(session, PLATFORM_SLUG)
    if tenant is None:
        tenant = Tenant(slug=PLATFORM_SLUG, name="Loom platform", is_platform=True)
        session.add(tenant)
        session.flush()
        role_service.create_system_roles(TenantScope(session, tenant.id))
    if not tenant.is_platform:
        raise Conflict("reserved", field="slug", value=PLATFORM_SLUG)
    return tenant


def create_platform_admin(session: Session, email: str, password: str,
                          name: str | None = None) -> User:
    """Bootstrap (CLI): a platform administrator; re-running resets the password."""
    tenant = ensure_platform_tenant(session)
    scope = TenantScope(session, tenant.id)
    email = normalize_email(email)
    user = session.scalars(scope.select(User, User.email == email)).first()
    if user is None:
        user = scope.add(User(email=email, name=name or email.split("@")[0]))
    user.password_hash = hash_password(check_password(password, "password", email))
    user.is_platform_admin = True
    user.is_active = True
    session.flush()
    return user
