"""One record's page: its fields by the form's layout, related records, and its history;
a record in the pool (nobody owns it) says so and offers to claim it."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, url_for

from crm_platform.auth.principal import Principal
from crm_platform.db import write_from_here
from crm_platform.errors import LoomError
from crm_platform.http_errors import error_text
from crm_platform.models import RecordHistory
from crm_platform.scoping import TenantScope
from crm_platform.services.forms.definitions import form_in_app
from crm_platform.services.records import operations as record_service
from crm_platform.services.records import owners
from crm_platform.services.records.access import in_scope, visible_data
from crm_platform.services.records.query import without
from crm_platform.services.workspace.approval_panel import approval_panel
from crm_platform.services.workspace.references import active_people, names_for
from crm_platform.services.workspace.related import related_lists
from crm_platform.web import web
from crm_platform.web.cells import cell_text
from crm_platform.web.formatting import Formats
from crm_platform.web.signed_in import signed_in
from crm_platform.web.strings import ui_text
from form_engine.schema_export import layout_of
from form_engine.titles import record_title

HISTORY = 50


@web.get("/apps/<app>/<form>/<int:record_id>")
@signed_in
def record_page(principal: Principal, scope: TenantScope, app: str, form: str,
                record_id: int):
    row = form_in_app(scope, app, form)
    record = record_service.get_record(scope, principal, row, record_id)
    access = record_service.access(scope, principal, row)
    _version, compiled = record_service.current_version(scope, row)
    shown = without(compiled, access.hidden)
    history = list(scope.session.scalars(record_service.history_query(scope, record)
                                         .order_by(RecordHistory.id.desc()).limit(HISTORY)))
    actors = {entry.actor_id for entry in history if entry.actor_id}
    names = names_for(scope, principal, row, shown, [record.data],
                      [record.owner_id, record.created_by_id, *actors])
    fmt = Formats(principal.locale, principal.timezone)
    sections = [{**section, "fields": [key for key in section["fields"]
                                       if key in shown.by_key]}
                for section in layout_of(shown)]

    def value_of(key: str, data: dict[str, Any] | None = None) -> str:
        item = shown.by_key[key]
        return cell_text(item, (data if data is not None else record.data).get(key), fmt,
                         principal.locale, names)

    return render_template(
        "records/show.html", app_key=app, form_row=row, form=shown, record=record,
        title=record_title(shown, record.data, access.hidden) or f"#{record.id}",
        sections=[section for section in sections if section["fields"]], value_of=value_of,
        names=names, fmt=fmt, access=access,
        can_update=not record.locked and in_scope(scope, principal, access.update, record),
        in_pool=record.owner_id is None, can_claim=record.owner_id is None and access.pool,
        history=[(entry, visible_data(entry.changes or {}, access)) for entry in history],
        related=related_lists(scope, principal, row, record),
        approvals=approval_panel(scope, principal, row, record),
        colleagues=active_people(scope),
        user_name=lambda user_id: names.users.get(user_id) or (
            f"#{user_id}" if user_id else ""))


@web.post("/apps/<app>/<form>/<int:record_id>/claim")
@signed_in
def record_claim(principal: Principal, scope: TenantScope, app: str, form: str,
                 record_id: int):
    """Take the record from the pool: the same service (and refusals) as the API's claim."""
    write_from_here(scope.session)
    row = form_in_app(scope, app, form)
    try:
        with scope.session.begin_nested():
            record = owners.claim_record(scope, principal, row, record_id)
    except LoomError as error:
        flash(error_text(error, principal.locale), "error")
        if error.code == "already_claimed":   # likely no longer theirs to see
            return redirect(url_for("web.record_list", app=app, form=form))
    else:
        access = record_service.access(scope, principal, row)
        shown = without(record_service.current_version(scope, row)[1], access.hidden)
        title = record_title(shown, record.data, access.hidden) or f"#{record.id}"
        flash(ui_text("claimed", principal.locale, title=title), "done")
    return redirect(url_for("web.record_page", app=app, form=form, record_id=record_id))
