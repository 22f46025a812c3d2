"""Tenant administration of API tokens."""

from __future__ import annotations

from typing import Any

from crm_platform.api import api, render, schemas, scope_of
from crm_platform.api.operations import operation
from crm_platform.api.pagination import paginate
from crm_platform.auth.principal import Principal
from crm_platform.models import ApiToken
from crm_platform.services.identity import tokens as service

TAGS = ("Admin: API tokens",)
TOKEN_QUERY = {**schemas.PAGE_QUERY, "user_id": schemas.ID}


@api.get("/admin/tokens")
@operation("List API tokens (never their secrets)", tags=TAGS, query=TOKEN_QUERY,
           responses={200: schemas.page_of(schemas.TOKEN)})
def list_tokens(principal: Principal, query: dict[str, Any]):
    scope = scope_of(principal)
    statement = service.tokens_query(scope, principal, query.get("user_id"))
    return paginate(scope.session, statement, ApiToken, query, render.token)


@api.post("/admin/tokens")
@operation("Issue an API token for a user", tags=TAGS, body=schemas.TOKEN_CREATE,
           responses={201: schemas.TOKEN_WITH_SECRET},
           description="The secret is in `token` in this response only; store it now.")
def create_token(principal: Principal, body: dict[str, Any]):
    token, secret = service.create_token(scope_of(principal), principal, body)
    return {**render.token(token), "token": secret}, 201


@api.get("/admin/tokens/<int:token_id>")
@operation("Get an API token", tags=TAGS, responses={200: schemas.TOKEN})
def get_token(principal: Principal, token_id: int):
    return render.token(service.get_token(scope_of(principal), principal, token_id))


@api.delete("/admin/tokens/<int:token_id>")
@operation("Revoke an API token", tags=TAGS, responses={200: schemas.TOKEN})
def revoke_token(principal: Principal, token_id: int):
    return render.token(service.revoke_token(scope_of(principal), principal, token_id))
