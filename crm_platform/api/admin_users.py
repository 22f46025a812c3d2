"""Tenant administration of users."""

from __future__ import annotations

from typing import Any

from crm_platform.api import api, render, schemas, scope_of
from crm_platform.api.operations import operation
from crm_platform.api.pagination import paginate
from crm_platform.auth.principal import Principal
from crm_platform.models import User
from crm_platform.services.identity import users as service

TAGS = ("Admin: users",)
USER_QUERY = {
    **schemas.PAGE_QUERY,
    "department_id": schemas.ID,
    "active": {"type": "boolean"},
}


@api.get("/admin/users")
@operation("List users", tags=TAGS, query=USER_QUERY,
           responses={200: schemas.page_of(schemas.USER)})
def list_users(principal: Principal, query: dict[str, Any]):
    scope = scope_of(principal)
    statement = service.users_query(scope, principal, query.get("department_id"),
                                    query.get("active"))
    return paginate(scope.session, statement, User, query, render.user)


@api.post("/admin/users")
@operation("Create a user", tags=TAGS, body=schemas.USER_CREATE,
           responses={201: schemas.USER},
           description="`roles` is a list of role ids. Without a password the user cannot sign "
                       "in until one is set.")
def create_user(principal: Principal, body: dict[str, Any]):
    return render.user(service.create_user(scope_of(principal), principal, body)), 201


@api.get("/admin/users/<int:user_id>")
@operation("Get a user", tags=TAGS, responses={200: schemas.USER})
def get_user(principal: Principal, user_id: int):
    return render.user(service.get_user(scope_of(principal), principal, user_id))


@api.patch("/admin/users/<int:user_id>")
@operation("Change a user (name, e-mail, password, locale, manager, department, roles, active)",
           tags=TAGS, body=schemas.USER_UPDATE, responses={200: schemas.USER})
def update_user(principal: Principal, user_id: int, body: dict[str, Any]):
    return render.user(service.update_user(scope_of(principal), principal, user_id, body))


@api.delete("/admin/users/<int:user_id>")
@operation("Deactivate a user", tags=TAGS, responses={200: schemas.USER},
           description="Users are deactivated, never erased: their history keeps their name.")
def deactivate_user(principal: Principal, user_id: int):
    return render.user(service.deactivate_user(scope_of(principal), principal, user_id))
