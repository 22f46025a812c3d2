"""The notifications bell: the list of my notifications, and marking them read."""

from __future__ import annotations

from flask import redirect, render_template, request, url_for

from crm_platform.auth.principal import Principal
from crm_platform.scoping import TenantScope
from crm_platform.services.workspace import notifications
from crm_platform.services.workspace.notifications import NotificationEntry
from crm_platform.web import web
from crm_platform.web.signed_in import signed_in
from crm_platform.web.strings import UI, ui_text
from form_engine.messages import label_text


@web.get("/notifications")
@signed_in
def notifications_page(principal: Principal, scope: TenantScope):
    return render_template("notifications/index.html",
                           items=notifications.latest(scope, principal),
                           notice=lambda item: notice_text(item, principal.locale))


def notice_text(item: NotificationEntry, locale: str) -> str:
    """What a notification says: the designer's own message when it has one, else the
    words for its kind."""
    message = item.payload.get("message")
    if message:
        return label_text(message, locale)
    if item.kind == "task":
        return ui_text("notice_task", locale, node=item.payload.get("node", ""))
    key = f"notice_{item.kind}"
    return ui_text(key if key in UI else "notice_other", locale)


@web.post("/notifications/read")
@signed_in
def mark_notifications_read(principal: Principal, scope: TenantScope):
    ids = [int(value) for value in request.form.getlist("id") if value.isdigit()]
    notifications.mark_read(scope, principal, ids or None)
    return redirect(url_for("web.notifications_page"))
