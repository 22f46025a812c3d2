"""API tokens: `loom_` + 40 random characters, shown once, stored as SHA-256.

A token's secret has 240 bits of entropy, so a fast hash is enough (no salt or scrypt needed:
nobody can brute-force the pre-image); lookups are by the hash's unique index.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.orm import Session

from crm_platform.auth.login import PrincipalFacts, principal_from
from crm_platform.auth.principal import Principal
from crm_platform.db import Database, utcnow
from crm_platform.errors import BadRequest, Unauthorized
from crm_platform.models import ApiToken, Tenant, User
from crm_platform.scoping import TenantScope
from crm_platform.services.identity.roles import role_keys_of, split_role_keys

PREFIX = "loom_"


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue_token(scope: TenantScope, user: User, name: str, created_by: int | None,
                expires_in_days: int | None = None) -> tuple[ApiToken, str]:
    """Create a token for `user`; returns the row and the secret (never stored)."""
    secret = PREFIX + secrets.token_urlsafe(30)
    expires_at = utcnow() + timedelta(days=expires_in_days) if expires_in_days else None
    token = scope.add(ApiToken(user_id=user.id, name=name, token_hash=hash_token(secret),
                               prefix=secret[:12], created_by_id=created_by,
                               expires_at=expires_at))
    scope.session.flush()
    return token, secret


def create_token(scope: TenantScope, actor: Principal,
                 body: dict[str, Any]) -> tuple[ApiToken, str]:
    """A tenant admin issues a token for any user of the tenant."""
    actor.require_tenant_admin()
    user = scope.reference(User, body["user_id"], "user_id", "user")
    return issue_token(scope, user, body["name"], actor.acting_user_id,
                       body.get("expires_in_days"))


def tokens_query(scope: TenantScope, actor: Principal,
                 user_id: int | None = None) -> Select[tuple[ApiToken]]:
    actor.require_tenant_admin()
    statement = scope.select(ApiToken)
    if user_id is not None:
        statement = statement.where(ApiToken.user_id == user_id)
    return statement


def get_token(scope: TenantScope, actor: Principal, token_id: int) -> ApiToken:
    actor.require_tenant_admin()
    return scope.get(ApiToken, token_id, "token")


def revoke_token(scope: TenantScope, actor: Principal, token_id: int) -> ApiToken:
    token = get_token(scope, actor, token_id)
    if token.revoked_at is None:
        token.revoked_at = utcnow()
    return token


def revoke_own_token(scope: TenantScope, actor: Principal) -> None:
    """Sign out an API client: the token it authenticated with stops working."""
    if actor.token_id is None:
        raise BadRequest("bad_request")
    token = scope.get(ApiToken, actor.token_id, "token")
    token.revoked_at = token.revoked_at or utcnow()


def principal_for_secret(session: Session, secret: str, touch_every: timedelta
                         ) -> tuple[Principal, bool]:
    """The caller behind a presented secret — the token, its user, their tenant and roles
    read in one statement (every API request starts here) — or Unauthorized; and whether
    the token's last use is due to be written (`touch`: at most once every
    `touch_every`, not on every request)."""
    if not secret.startswith(PREFIX) or len(secret) > 200:
        raise Unauthorized("invalid_token")
    row = session.execute(_BY_HASH, {"hash": hash_token(secret)}).first()
    now = utcnow()
    if row is None or row.revoked_at is not None or (
            row.expires_at is not None and row.expires_at <= now):
        raise Unauthorized("invalid_token")
    principal = principal_from(PrincipalFacts(
        row.user_id, row.tenant_id, row.email, row.locale, row.user_active,
        row.platform_admin, row.tenant_status, row.tenant_platform,
        split_role_keys(row.roles), row.department_id, row.timezone, row.name,
        row.tenant_name),
        "token", row.id)
    return principal, row.last_used_at is None or now - row.last_used_at >= touch_every


def touch(db: Database, principal: Principal) -> None:
    """Write the last use of the caller's token, in a transaction of its own: the row is
    not held locked for the rest of a long request (an upload, a batch) while the
    token's other requests wait to write the same."""
    with db.transaction() as session:
        session.execute(TenantScope(session, principal.tenant_id).update(
            ApiToken, ApiToken.id == principal.token_id).values(last_used_at=utcnow()))


_BY_HASH = (
    select(ApiToken.id, ApiToken.tenant_id, ApiToken.user_id, ApiToken.expires_at,
           ApiToken.revoked_at, ApiToken.last_used_at, User.email, User.locale,
           User.department_id, func.coalesce(User.timezone, Tenant.timezone).label("timezone"),
           User.is_active.label("user_active"), User.is_platform_admin.label("platform_admin"),
           Tenant.status.label("tenant_status"), Tenant.is_platform.label("tenant_platform"),
           role_keys_of(ApiToken, ApiToken.user_id).label("roles"), User.name,
           Tenant.name.label("tenant_name"))
    .join(ApiToken.user).join(ApiToken.tenant)
    .where(ApiToken.token_hash == bindparam("hash")))
