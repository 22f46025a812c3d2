"""Approvals on a record's page: submit it to a flow, and — for whoever holds a task on
it — approve, reject, complete, return or transfer, with a comment. The flow engine
decides, through the same service as the API's approvals."""

from __future__ import annotations

from flask import flash, redirect, request, url_for

from crm_platform.auth.principal import Principal
from crm_platform.errors import LoomError
from crm_platform.http_errors import error_text
from crm_platform.scoping import TenantScope
from crm_platform.services.flows import approvals as approval_service
from crm_platform.services.forms.definitions import form_in_app
from crm_platform.web import web
from crm_platform.web.signed_in import same_site_path, signed_in
from crm_platform.web.strings import ui_text

ACTIONS = ("approve", "reject", "complete", "return", "transfer")


@web.post("/apps/<app>/<form>/<int:record_id>/submit")
@signed_in
def record_submit(principal: Principal, scope: TenantScope, app: str, form: str,
                  record_id: int):
    row = form_in_app(scope, app, form)
    try:
        with scope.session.begin_nested():
            approval_service.submit(scope, principal, row, record_id,
                                    request.form.get("flow", ""),
                                    request.form.get("comment") or None)
    except LoomError as error:
        flash(error_text(error, principal.locale), "error")
    else:
        flash(ui_text("submitted", principal.locale), "done")
    return redirect(url_for("web.record_page", app=app, form=form, record_id=record_id))


@web.post("/tasks/<int:task_id>/act")
@signed_in
def task_act(principal: Principal, scope: TenantScope, task_id: int):
    action = request.form.get("action", "")
    back = same_site_path(request.form.get("back")) or url_for("web.home")
    body: dict[str, object] = {}
    if request.form.get("comment"):
        body["comment"] = request.form["comment"][:2000]
    if action == "transfer":
        chosen = request.form.get("to", "")
        body["to"] = int(chosen) if chosen.isdigit() else 0
    try:
        if action not in ACTIONS:
            raise LoomError("unknown_action", action=action).with_status(422)
        with scope.session.begin_nested():
            approval_service.task_action(scope, principal, task_id, action, body)
    except LoomError as error:
        flash(error_text(error, principal.locale), "error")
    else:
        flash(ui_text(f"done_{action}", principal.locale), "done")
    return redirect(back)
