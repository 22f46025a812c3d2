"""The kanban board of a form (the sales pipeline): cards in a column per option of a
select field. Dragging a card, or choosing "Move to …" on it (the single-pointer and
keyboard way, WCAG 2.2 SC 2.5.7), changes the field through the same service as the API;
a refusal (a rule, a permission, a record locked by an approval) is said in the user's
language and the card stays where it was."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from crm_platform.auth.principal import Principal
from crm_platform.errors import LoomError
from crm_platform.http_errors import error_text
from crm_platform.models import Form, Record
from crm_platform.scoping import TenantScope
from crm_platform.services.forms.definitions import form_in_app
from crm_platform.services.records import operations as record_service
from crm_platform.services.records.finding import find_records
from crm_platform.services.workspace import board as board_service
from crm_platform.services.workspace.references import names_for
from crm_platform.web import web
from crm_platform.web.cells import cell_text
from crm_platform.web.formatting import Formats
from crm_platform.web.saved_views import opened_view, views_context
from crm_platform.web.signed_in import same_site_path, signed_in
from crm_platform.web.strings import ui_text
from form_engine.messages import label_text
from form_engine.titles import record_title

DRAG_HEADER = "X-Loom-Drag"


def _board_context(principal: Principal, scope: TenantScope, app: str, form: str):
    row = form_in_app(scope, app, form)
    query, view = opened_view(scope, principal, row)
    if view is not None:  # a saved board: no `total` means none
        group, total = view.definition.get("group_by"), view.definition.get("total", "")
    else:  # the page's own: no `sum` means the form's first money or number field
        group, total = request.args.get("by"), request.args.get("sum")
    shown = board_service.board(scope, principal, row, group, total, query.filter(),
                                query.search)
    cards = [card for column in shown.columns for card in column.cards]
    names = names_for(scope, principal, row, shown.found.form, [card.data for card in cards],
                      [card.owner_id for card in cards])
    fmt = Formats(principal.locale, principal.timezone)
    total = shown.total_field
    here = request.full_path.rstrip("?") if request.method == "GET" else request.form.get(
        "back", "")
    return {
        "app_key": app, "form_row": row, "form": shown.found.form, "board": shown,
        "query": query, "access": shown.found.access, "back": here,
        "groupable": board_service.groupable(shown.found.form),
        "summable": board_service.summable(shown.found.form),
        "title": lambda card: record_title(shown.found.form, card.data,
                                           shown.found.access.hidden) or f"#{card.id}",
        "money": lambda value: "" if value is None or total is None else cell_text(
            total, value, fmt, principal.locale, names),
        "card_total": lambda card: "" if total is None else cell_text(
            total, card.data.get(total.key), fmt, principal.locale, names),
        "owner": lambda card: names.users.get(card.owner_id, ""),
        **views_context(scope, principal, row), "view": view,
    }


@web.get("/apps/<app>/<form>/board")
@signed_in
def record_board(principal: Principal, scope: TenantScope, app: str, form: str):
    return render_template("records/board.html",
                           **_board_context(principal, scope, app, form))


@web.post("/apps/<app>/<form>/<int:record_id>/move")
@signed_in
def record_move(principal: Principal, scope: TenantScope, app: str, form: str,
                record_id: int):
    """Put a record in another column: `field` takes `value` ("" for none); `version` is
    the card's, so a card moved from a stale board is refused rather than overwriting."""
    row = form_in_app(scope, app, form)
    field, value = request.form.get("field", ""), request.form.get("value", "")
    version = request.form.get("version", "")
    back = same_site_path(request.form.get("back")) or url_for(
        "web.record_board", app=app, form=form)
    dragged = request.headers.get(DRAG_HEADER) == "1"
    try:
        with scope.session.begin_nested():
            record = record_service.update_record(
                scope, principal, row, record_id, {field: value or None},
                if_match=int(version) if version.isdigit() else None)
    except LoomError as error:
        message = error_text(error, principal.locale)
        if dragged:
            return render_template("records/_move_refused.html", message=message), \
                error.status
        flash(message, "error")
        return redirect(back)
    if dragged:
        return render_template("records/_board.html",
                               **_board_context(principal, scope, app, form))
    flash(_moved(scope, principal, row, record, field, value), "done")
    return redirect(back)


def _moved(scope: TenantScope, principal: Principal, row: Form, record: Record, field: str,
           value: str) -> str:
    """'Moved “Acme renewal” to Won.' — the card by its title, the column by its label."""
    found = find_records(scope, principal, row)
    item = found.form.by_key.get(field)
    option = next((option for option in (item.spec.get("options", []) if item else [])
                   if option.get("value") == value), None)
    column = (label_text(option.get("label") or value, principal.locale) if option
              else value or ui_text("no_value", principal.locale))
    title = record_title(found.form, record.data, found.access.hidden) or f"#{record.id}"
    return ui_text("moved_to", principal.locale, title=title, column=column)
