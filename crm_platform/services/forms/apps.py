"""Apps: the containers of forms, flows and views that templates install and export."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select

from crm_platform.auth.principal import Principal
from crm_platform.errors import NotFound, invalid
from crm_platform.models import App
from crm_platform.scoping import TenantScope


def apps_query(scope: TenantScope, actor: Principal) -> Select[tuple[App]]:
    """Every member of a tenant sees its apps (records inside have their own permissions)."""
    return scope.select(App)


def app_by_key(scope: TenantScope, key: str) -> App:
    app = scope.session.scalars(scope.select(App, App.key == key)).first()
    if app is None:
        raise NotFound("resource_not_found", resource="app", id=key)
    return app


def create_app_record(scope: TenantScope, actor: Principal, body: dict[str, Any]) -> App:
    actor.require_designer()
    if scope.session.scalars(scope.select(App, App.key == body["key"])).first() is not None:
        raise invalid("key", "taken", value=body["key"])
    app = scope.add(App(key=body["key"], name=body["name"], description=body.get("description"),
                        created_by_id=actor.acting_user_id))
    scope.session.flush()
    return app
