"""The REST API under /api/v1: one module per resource, all registered on one blueprint."""

from __future__ import annotations

from flask import Blueprint, Flask

from crm_platform.auth.principal import Principal
from crm_platform.db import request_session
from crm_platform.models import Form
from crm_platform.scoping import TenantScope

api = Blueprint("api", __name__, url_prefix="/api/v1")


def scope_of(principal: Principal) -> TenantScope:
    """The caller's tenant scope over the request session."""
    return TenantScope(request_session(), principal.tenant_id)


def form_of(principal: Principal, app: str, form: str) -> tuple[TenantScope, Form]:
    """The caller's scope and the form `form` of app `app` (404 for both when missing)."""
    from crm_platform.services import apps as app_service
    from crm_platform.services import forms as form_service

    scope = scope_of(principal)
    return scope, form_service.form_by_key(scope, app_service.app_by_key(scope, app), form)


def init_app(app: Flask) -> None:
    from crm_platform.api import (  # noqa: F401  (modules register their routes)
        admin_departments,
        admin_outbox,
        admin_roles,
        admin_tenants,
        admin_tokens,
        admin_users,
        app_openapi,
        approvals,
        apps,
        auth,
        flows,
        form_permissions,
        forms,
        imports,
        openapi,
        records,
    )

    app.register_blueprint(api)
