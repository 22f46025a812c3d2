"""The start page: my apps, what waits for me, what I changed lately."""

from __future__ import annotations

from flask import render_template

from crm_platform.auth.principal import Principal
from crm_platform.scoping import TenantScope
from crm_platform.services.workspace import home as workspace
from crm_platform.web import web
from crm_platform.web.signed_in import signed_in


@web.get("/")
@signed_in
def home(principal: Principal, scope: TenantScope):
    return render_template("home/index.html",
                           tasks=workspace.pending_tasks(scope, principal),
                           recent=workspace.recent_records(scope, principal),
                           designer=principal.is_tenant_admin or principal.has_role("designer"))
