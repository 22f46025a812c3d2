"""Tenant administration of roles."""

from __future__ import annotations

from typing import Any

from crm_platform.api import api, render, schemas, scope_of
from crm_platform.api.operations import operation
from crm_platform.api.pagination import paginate
from crm_platform.auth.principal import Principal
from crm_platform.models import Role
from crm_platform.services.identity import roles as service

TAGS = ("Admin: roles",)


@api.get("/admin/roles")
@operation("List roles", tags=TAGS, query=schemas.PAGE_QUERY,
           responses={200: schemas.page_of(schemas.ROLE)})
def list_roles(principal: Principal, query: dict[str, Any]):
    scope = scope_of(principal)
    return paginate(scope.session, service.roles_query(scope, principal), Role, query,
                    render.role)


@api.post("/admin/roles")
@operation("Create a role", tags=TAGS, body=schemas.ROLE_CREATE, responses={201: schemas.ROLE})
def create_role(principal: Principal, body: dict[str, Any]):
    return render.role(service.create_role(scope_of(principal), principal, body)), 201


@api.get("/admin/roles/<int:role_id>")
@operation("Get a role", tags=TAGS, responses={200: schemas.ROLE})
def get_role(principal: Principal, role_id: int):
    return render.role(service.get_role(scope_of(principal), principal, role_id))


@api.patch("/admin/roles/<int:role_id>")
@operation("Rename a role", tags=TAGS, body=schemas.ROLE_UPDATE, responses={200: schemas.ROLE})
def update_role(principal: Principal, role_id: int, body: dict[str, Any]):
    return render.role(service.update_role(scope_of(principal), principal, role_id, body))


@api.delete("/admin/roles/<int:role_id>")
@operation("Delete a role (its holders lose it)", tags=TAGS, responses={204: None})
def delete_role(principal: Principal, role_id: int):
    service.delete_role(scope_of(principal), principal, role_id)
    return "", 204
