"""Saved views in the workspace: the list and board pages open one (`?view=<id>`), and
"Save view" keeps the page's current arrangement — through the same service as the API's
views, so the same checks and sharing rules hold."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, request, url_for

from crm_platform.auth.principal import Principal
from crm_platform.errors import LoomError
from crm_platform.http_errors import error_text
from crm_platform.models import Form, SavedView
from crm_platform.scoping import TenantScope
from crm_platform.services.forms.definitions import form_in_app
from crm_platform.services.identity.roles import role_choices
from crm_platform.services.records import views as view_service
from crm_platform.web import web
from crm_platform.web.list_query import ListQuery
from crm_platform.web.signed_in import signed_in
from crm_platform.web.strings import ui_text


def opened_view(scope: TenantScope, principal: Principal, form: Form
                ) -> tuple[ListQuery, SavedView | None]:
    """The page's arrangement: the saved view `?view=<id>` names, else the URL's own."""
    view_id = request.args.get("view", type=int)
    if view_id is None:
        return ListQuery.from_args(request.args), None
    view = view_service.get_view(scope, principal, form, view_id)
    return ListQuery.from_view(view.definition), view


def views_context(scope: TenantScope, principal: Principal, form: Form) -> dict[str, Any]:
    """What the views menu of a list or board shows: the views the user may open, and
    the roles a designer may share a new one with."""
    return {"views": view_service.visible_views(scope, principal, form),
            "share_roles": role_choices(scope, principal)}


@web.post("/apps/<app>/<form>/views")
@signed_in
def save_view(principal: Principal, scope: TenantScope, app: str, form: str):
    row = form_in_app(scope, app, form)
    query = ListQuery.from_args(request.form)
    kind = "kanban" if request.form.get("kind") == "kanban" else "list"
    body: dict[str, Any] = {"name": request.form.get("name", "").strip(), "kind": kind,
                            "visibility": request.form.get("visibility", "personal")}
    if body["visibility"] == "roles":
        body["roles"] = request.form.getlist("roles")
    for key, value in (("columns", list(query.columns)), ("sort", query.sort),
                       ("search", query.search), ("filter", query.filter()),
                       ("group_by", request.form.get("by")),
                       ("total", request.form.get("sum"))):
        if value:
            body[key] = value
    page = "web.record_board" if kind == "kanban" else "web.record_list"
    try:
        with scope.session.begin_nested():
            view = view_service.create_view(scope, principal, row, body)
    except LoomError as error:
        flash(error_text(error, principal.locale), "error")
        return redirect(query.url(url_for(page, app=app, form=form)))
    flash(ui_text("view_saved", principal.locale), "done")
    return redirect(url_for(page, app=app, form=form, view=view.id))
