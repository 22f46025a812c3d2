"""The REST API under /api/v1: one module per resource, all registered on one blueprint."""

from __future__ import annotations

from flask import Blueprint, Flask

from crm_platform.auth.principal import Principal
from crm_platform.db import request_session
from crm_platform.scoping import TenantScope

api = Blueprint("api", __name__, url_prefix="/api/v1")


def scope_of(principal: Principal) -> TenantScope:
    """The caller's tenant scope over the request session."""
    return TenantScope(request_session(), principal.tenant_id)


def init_app(app: Flask) -> None:
    from crm_platform.api import (  # noqa: F401  (modules register their routes)
        admin_departments,
        admin_roles,
        admin_tenants,
        admin_tokens,
        admin_users,
        app_openapi,
        apps,
        auth,
        form_permissions,
        forms,
        imports,
        openapi,
        records,
    )

    app.register_blueprint(api)
