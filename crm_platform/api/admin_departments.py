"""Tenant administration of departments (a tree with a head each)."""

from __future__ import annotations

from typing import Any

from crm_platform.api import api, render, schemas, scope_of
from crm_platform.api.operations import operation
from crm_platform.api.pagination import paginate
from crm_platform.auth.principal import Principal
from crm_platform.models import Department
from crm_platform.services.identity import departments as service

TAGS = ("Admin: departments",)
DEPARTMENT_QUERY = {**schemas.PAGE_QUERY, "parent_id": schemas.ID}


@api.get("/admin/departments")
@operation("List departments", tags=TAGS, query=DEPARTMENT_QUERY,
           responses={200: schemas.page_of(schemas.DEPARTMENT)})
def list_departments(principal: Principal, query: dict[str, Any]):
    scope = scope_of(principal)
    statement = service.departments_query(scope, principal, query.get("parent_id"))
    return paginate(scope.session, statement, Department, query, render.department)


@api.post("/admin/departments")
@operation("Create a department", tags=TAGS, body=schemas.DEPARTMENT_CREATE,
           responses={201: schemas.DEPARTMENT})
def create_department(principal: Principal, body: dict[str, Any]):
    department = service.create_department(scope_of(principal), principal, body)
    return render.department(department), 201


@api.get("/admin/departments/<int:department_id>")
@operation("Get a department", tags=TAGS, responses={200: schemas.DEPARTMENT})
def get_department(principal: Principal, department_id: int):
    return render.department(service.get_department(scope_of(principal), principal,
                                                    department_id))


@api.patch("/admin/departments/<int:department_id>")
@operation("Rename, move or change the head of a department", tags=TAGS,
           body=schemas.DEPARTMENT_UPDATE, responses={200: schemas.DEPARTMENT})
def update_department(principal: Principal, department_id: int, body: dict[str, Any]):
    department = service.update_department(scope_of(principal), principal, department_id, body)
    return render.department(department)


@api.delete("/admin/departments/<int:department_id>")
@operation("Delete an empty department", tags=TAGS, responses={204: None})
def delete_department(principal: Principal, department_id: int):
    service.delete_department(scope_of(principal), principal, department_id)
    return "", 204
