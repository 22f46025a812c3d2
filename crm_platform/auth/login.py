"""Signing in (password → user) and turning a user into the request's principal."""

from __future__ import annotations

import hashlib

from sqlalchemy.orm import Session

from crm_platform.auth.passwords import verify_password
from crm_platform.auth.principal import Principal
from crm_platform.auth.throttle import LoginThrottler, throttle_keys
from crm_platform.db import Database
from crm_platform.errors import Forbidden, Unauthorized
from crm_platform.models import Tenant, User
from crm_platform.scoping import TenantScope
from crm_platform.services.roles import ADMIN, role_keys_of
from crm_platform.services.tenants import tenant_by_slug

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
        # The platform tenant has no tenant administrators: nobody there may manage users.
        is_tenant_admin=ADMIN in roles and not tenant.is_platform,
        role_keys=roles, via=via, token_id=token_id,
    )
