"""Signing in (password → user) and turning a user into the request's principal."""

from __future__ import annotations

import hashlib

from sqlalchemy.orm import Session

from crm_platform.auth.passwords import verify_password
from crm_platform.auth.principal import Principal
from crm_platform.auth.throttle import LoginThrottler, throttle_keys
from crm_platform.errors import Forbidden, Unauthorized
from crm_platform.models import Tenant, User
from crm_platform.scoping import TenantScope
from crm_platform.services.roles import ADMIN, role_keys_of
from crm_platform.services.tenants import tenant_by_slug


def authenticate(session: Session, throttler: LoginThrottler, tenant_slug: str, email: str,
                 password: str, client: str | None) -> User:
    """The user for these credentials; failures are counted and throttled (429).

    Unknown tenant, unknown e-mail and wrong password all give the same answer in the same
    time, so sign-in reveals nothing about which tenants or accounts exist.
    """
    keys = throttle_keys(tenant_slug, email, client)
    throttler.check(keys)
    tenant = tenant_by_slug(session, tenant_slug)
    user = None
    if tenant is not None:
        scope = TenantScope(session, tenant.id)
        user = session.scalars(scope.select(User, User.email == email.strip().lower())).first()
    if not verify_password(user.password_hash if user else None, password) or user is None:
        throttler.record_failure(keys)
        raise Unauthorized("invalid_credentials")
    throttler.record_success(keys)
    assert tenant is not None
    check_can_act(tenant, user)
    return user


def check_can_act(tenant: Tenant, user: User) -> None:
    """A suspended tenant's users, and deactivated users, are refused everywhere."""
    if not tenant.is_active:
        raise Forbidden("tenant_suspended")
    if not user.is_active:
        raise Forbidden("user_inactive")


def session_fingerprint(user: User) -> str:
    """Changes when the password does, so a password change signs out other sessions."""
    return hashlib.sha256(f"{user.id}:{user.password_hash}".encode()).hexdigest()[:24]


def principal_for(session: Session, user: User, via: str, token_id: int | None = None
                  ) -> Principal:
    tenant = session.get(Tenant, user.tenant_id)
    assert tenant is not None
    check_can_act(tenant, user)
    roles = role_keys_of(TenantScope(session, tenant.id), user.id)
    return Principal(
        user_id=user.id, tenant_id=tenant.id, email=user.email, locale=user.locale,
        is_platform_admin=user.is_platform_admin and tenant.is_platform,
        is_tenant_admin=ADMIN in roles, role_keys=roles, via=via, token_id=token_id,
    )
