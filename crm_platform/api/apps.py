"""Apps: the containers of a tenant's forms, flows and views."""

from __future__ import annotations

from typing import Any

from crm_platform.api import api, render, schemas, scope_of
from crm_platform.api.operations import operation
from crm_platform.api.pagination import paginate
from crm_platform.auth.principal import Principal
from crm_platform.models import App
from crm_platform.services.forms import apps as service

TAGS = ("Apps and forms",)


@api.get("/apps")
@operation("List apps", tags=TAGS, query=schemas.PAGE_QUERY,
           responses={200: schemas.page_of(schemas.APP)})
def list_apps(principal: Principal, query: dict[str, Any]):
    scope = scope_of(principal)
    return paginate(scope.session, service.apps_query(scope, principal), App, query, render.app)


@api.post("/apps")
@operation("Create an app", tags=TAGS, body=schemas.APP_CREATE, responses={201: schemas.APP},
           description="Tenant administrators and designers only.")
def create_app(principal: Principal, body: dict[str, Any]):
    return render.app(service.create_app_record(scope_of(principal), principal, body)), 201


@api.get("/apps/<app>")
@operation("Get an app", tags=TAGS, responses={200: schemas.APP})
def get_app(principal: Principal, app: str):
    return render.app(service.app_by_key(scope_of(principal), app))
