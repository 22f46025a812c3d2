"""Signing in (password → user) and turning a user into the request's principal."""

from __future__ import annotations

import hashlib
from typing import NamedTuple

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from crm_platform.auth.passwords import verify_password
from crm_platform.auth.principal import Principal
from crm_platform.auth.throttle import LoginThrottler, throttle_keys
from crm_platform.db import Database
from crm_platform.errors import Forbidden, Unauthorized
from crm_platform.models import Tenant, TenantStatus, User
from crm_platform.scoping import TenantScope
from crm_platform.services.identity.roles import ADMIN, role_keys_of, split_role_keys
from crm_platform.services.identity.tenants import tenant_by_slug

MAX_CREDENTIAL_LENGTH = 1024


def _clean(value: str) -> str | None:
    """Credentials as compared; None when no account could ever match them."""
    value = value.strip().lower()
    if not value or len(value) > MAX_CREDENTIAL_LENGTH or "\x00" in value:
        return None
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates
        return None
    return value


def authenticate(db: Database, throttler: LoginThrottler, tenant_slug: str, email: str,
                 password: str, client: str | None) -> tuple[int, int]:
    """The key (tenant id, user id) of the user with these credentials; failures are
    counted and throttled (429).

    Unknown tenant, unknown e-mail and wrong password give the same answer in the same time,
    so sign-in reveals nothing about which tenants or accounts exist. No database connection
    is held while the password hash is checked.
    """
    slug, address = _clean(tenant_slug), _clean(email)
    keys = throttle_keys(slug or tenant_slug[:100], address or email[:300], client)
    throttler.claim(keys)
    password_hash, user_id = None, None
    if slug is not None and address is not None:
        with db.transaction() as session:
            tenant = tenant_by_slug(session, slug)
            if tenant is not None:
                scope = TenantScope(session, tenant.id)
                user = session.scalars(scope.select(User, User.email == address)).first()
                if user is not None:
                    password_hash, user_id = user.password_hash, (tenant.id, user.id)
    if not verify_password(password_hash, password) or user_id is None:
        raise Unauthorized("invalid_credentials")
    throttler.succeeded(keys)
    return user_id


def signed_in_user(session: Session, user_key: tuple[int, int]) -> User:
    """The user `authenticate` returned, refused if their tenant or account is disabled."""
    user = session.get(User, user_key)
    assert user is not None
    tenant = session.get(Tenant, user.tenant_id)
    assert tenant is not None
    check_can_act(tenant, user)
    return user


def check_can_act(tenant: Tenant, user: User) -> None:
    """A suspended tenant's users, and deactivated users, are refused everywhere."""
    _refuse_disabled(tenant.status, user.is_active)


def _refuse_disabled(tenant_status: str, user_active: bool) -> None:
    if tenant_status != TenantStatus.ACTIVE:
        raise Forbidden("tenant_suspended")
    if not user_active:
        raise Forbidden("user_inactive")


def session_fingerprint(user_id: int, password_hash: str | None) -> str:
    """Changes when the password does, so a password change signs out other sessions."""
    return hashlib.sha256(f"{user_id}:{password_hash}".encode()).hexdigest()[:24]


def session_principal(session: Session, tenant_id: int, user_id: int, fingerprint: str
                      ) -> Principal | None:
    """The caller behind a web session — the user, their tenant and roles read in one
    statement (every page starts here) — or None when the user is gone or changed their
    password since signing in; Forbidden when they or their tenant are disabled."""
    row = session.execute(TenantScope(session, tenant_id).filter(_SESSION_USER, User),
                          {"user": user_id}).first()
    if row is None or session_fingerprint(row.id, row.password_hash) != fingerprint:
        return None
    return principal_from(PrincipalFacts(
        row.id, row.tenant_id, row.email, row.locale, row.is_active, row.is_platform_admin,
        row.tenant_status, row.tenant_platform, split_role_keys(row.roles), row.department_id,
        row.timezone, row.name, row.tenant_name), "session")


def principal_for(session: Session, user: User, via: str, token_id: int | None = None
                  ) -> Principal:
    tenant = session.get(Tenant, user.tenant_id)
    assert tenant is not None
    return principal_from(PrincipalFacts(
        user.id, tenant.id, user.email, user.locale, user.is_active, user.is_platform_admin,
        tenant.status, tenant.is_platform, frozenset(role.key for role in user.roles),
        user.department_id, user.timezone or tenant.timezone, user.name, tenant.name), via,
        token_id)


class PrincipalFacts(NamedTuple):
    """What a principal is made of, as one row can hold it (tokens.py reads it so)."""

    user_id: int
    tenant_id: int
    email: str
    locale: str
    user_active: bool
    platform_admin: bool
    tenant_status: str
    tenant_platform: bool
    roles: frozenset[str]
    department_id: int | None
    timezone: str  # the user's own, else their tenant's
    name: str | None  # for the page header
    tenant_name: str


def principal_from(facts: PrincipalFacts, via: str, token_id: int | None = None
                   ) -> Principal:
    """The caller, refused if their tenant is suspended or they are deactivated."""
    _refuse_disabled(facts.tenant_status, facts.user_active)
    return Principal(
        user_id=facts.user_id, tenant_id=facts.tenant_id, email=facts.email,
        locale=facts.locale, is_platform_admin=facts.platform_admin and facts.tenant_platform,
        # The platform tenant has no tenant administrators: nobody there may manage users.
        is_tenant_admin=ADMIN in facts.roles and not facts.tenant_platform,
        role_keys=facts.roles, via=via, token_id=token_id, department_id=facts.department_id,
        timezone=facts.timezone, name=facts.name or facts.email, tenant_name=facts.tenant_name,
    )


_SESSION_USER = (
    select(User.id, User.tenant_id, User.email, User.name, User.password_hash, User.locale,
           User.department_id, func.coalesce(User.timezone, Tenant.timezone).label("timezone"),
           User.is_active, User.is_platform_admin, Tenant.status.label("tenant_status"),
           Tenant.is_platform.label("tenant_platform"), Tenant.name.label("tenant_name"),
           role_keys_of(User, User.id).label("roles"))
    .join(User.tenant)
    .where(User.id == bindparam("user")))
