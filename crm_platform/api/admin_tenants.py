"""Platform administration of tenants."""

from __future__ import annotations

from typing import Any

from crm_platform.api import api, render, schemas
from crm_platform.api.operations import operation
from crm_platform.api.pagination import paginate
from crm_platform.auth.principal import Principal
from crm_platform.db import request_session
from crm_platform.models import Tenant
from crm_platform.services.identity import tenants as service

TAGS = ("Platform: tenants",)


@api.post("/admin/tenants")
@operation("Create a tenant with its first administrator", tags=TAGS,
           body=schemas.TENANT_CREATE, responses={201: schemas.TENANT})
def create_tenant(principal: Principal, body: dict[str, Any]):
    tenant, _admin = service.create_tenant_as(request_session(), principal, body)
    return render.tenant(tenant), 201


@api.get("/admin/tenants")
@operation("List tenants", tags=TAGS, query=schemas.PAGE_QUERY,
           responses={200: schemas.page_of(schemas.TENANT)})
def list_tenants(principal: Principal, query: dict[str, Any]):
    return paginate(request_session(), service.tenants_query(principal), Tenant, query,
                    render.tenant)


@api.get("/admin/tenants/<int:tenant_id>")
@operation("Get a tenant", tags=TAGS, responses={200: schemas.TENANT})
def get_tenant(principal: Principal, tenant_id: int):
    return render.tenant(service.get_tenant(request_session(), principal, tenant_id))


@api.patch("/admin/tenants/<int:tenant_id>")
@operation("Rename, suspend or reactivate a tenant", tags=TAGS, body=schemas.TENANT_UPDATE,
           responses={200: schemas.TENANT},
           description="A suspended tenant's users cannot sign in and its tokens are refused.")
def update_tenant(principal: Principal, tenant_id: int, body: dict[str, Any]):
    return render.tenant(service.update_tenant(request_session(), principal, tenant_id, body))
