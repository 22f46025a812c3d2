"""Signing in for API clients, and who am I."""

from __future__ import annotations

from typing import Any

from flask import current_app, request

from crm_platform.api import api, render, schemas, scope_of
from crm_platform.api.operations import operation
from crm_platform.auth.login import authenticate, signed_in_user
from crm_platform.auth.principal import Principal
from crm_platform.db import database, request_session
from crm_platform.models import Tenant, User
from crm_platform.scoping import TenantScope
from crm_platform.services.identity.tokens import issue_token
from crm_platform.services.identity.tokens import revoke_own_token as revoke_own_token_service
from crm_platform.services.identity.users import update_own_settings

TAGS = ("Authentication",)


@api.post("/auth/token")
@operation("Exchange tenant, e-mail and password for an API token", tags=TAGS,
           body=schemas.AUTH_TOKEN_REQUEST, authenticated=False,
           responses={201: schemas.AUTH_TOKEN_RESPONSE},
           description="Repeated failures for one account or client answer 429 with Retry-After. "
                       "Platform administrators sign in with tenant `platform`.")
def request_token(body: dict[str, Any]):
    user_key = authenticate(database(), current_app.extensions["loom.throttler"],
                            body["tenant"], body["email"], body["password"], request.remote_addr)
    session = request_session()
    user = signed_in_user(session, user_key)
    token, secret = issue_token(TenantScope(session, user.tenant_id), user,
                                body.get("name", "API token"), user.id,
                                body.get("expires_in_days"))
    return {"token": secret, "id": token.id, "expires_at": render.iso(token.expires_at)}, 201


@api.delete("/auth/token")
@operation("Revoke the token this request is authenticated with", tags=TAGS,
           responses={204: None})
def revoke_own_token(principal: Principal):
    revoke_own_token_service(scope_of(principal), principal)
    return "", 204


@api.get("/me")
@operation("The signed-in user, their tenant and their rights", tags=TAGS,
           responses={200: schemas.ME})
def me(principal: Principal):
    scope = scope_of(principal)
    return _me(scope, principal, scope.get(User, principal.user_id, "user"))


@api.patch("/me")
@operation("Change your own name, language or time zone (null: the tenant's)", tags=TAGS,
           body=schemas.ME_UPDATE, responses={200: schemas.ME})
def update_me(principal: Principal, body: dict[str, Any]):
    scope = scope_of(principal)
    return _me(scope, principal, update_own_settings(scope, principal, body))


def _me(scope: TenantScope, principal: Principal, user: User) -> dict[str, Any]:
    tenant = scope.session.get(Tenant, principal.tenant_id)
    assert tenant is not None
    return {
        "user": render.user(user),
        "tenant": {"id": tenant.id, "slug": tenant.slug, "name": tenant.name},
        "is_platform_admin": principal.is_platform_admin,
        "is_tenant_admin": principal.is_tenant_admin,
    }
