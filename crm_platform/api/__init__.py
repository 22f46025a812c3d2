"""The REST API under /api/v1: one module per resource, all registered on one blueprint."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask
from werkzeug.routing import IntegerConverter

from crm_platform.auth.principal import Principal
from crm_platform.db import request_session
from crm_platform.models import Form
from crm_platform.scoping import MAX_ID, TenantScope

api = Blueprint("api", __name__, url_prefix="/api/v1")


def scope_of(principal: Principal) -> TenantScope:
    """The caller's tenant scope over the request session."""
    return TenantScope(request_session(), principal.tenant_id)


def form_of(principal: Principal, app: str, form: str) -> tuple[TenantScope, Form]:
    """The caller's scope and the form `form` of app `app` (404 for both when missing)."""
    from crm_platform.services.forms.definitions import form_in_app

    scope = scope_of(principal)
    return scope, form_in_app(scope, app, form)


class BoundedInt(IntegerConverter):
    """`<int:…>` in every route: 0 … 2^63 - 1 (BIGINT). A longer number names no row, so
    the route does not match (404) and no number wider than its column reaches the
    database."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def init_app(app: Flask) -> None:
    app.url_map.converters["int"] = BoundedInt  # before any route is bound to the map
    from crm_platform.api import (  # noqa: F401  (modules register their routes)
        admin_departments,
        admin_outbox,
        admin_roles,
        admin_settings,
        admin_tenants,
        admin_timers,
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
        templates,
        views,
    )

    app.register_blueprint(api)
