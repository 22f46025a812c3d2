"""Entering and editing a record with the form engine's renderer: conditions applied while
the person types (the server evaluates them: one expression language), every error beside
its field and in a summary, a stale edit shown as a conflict that keeps what was typed,
and a possible duplicate linked with "save anyway" where the form allows it."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from markupsafe import Markup

from crm_platform.auth.principal import Principal
from crm_platform.errors import Conflict, Forbidden, LoomError, ValidationFailed
from crm_platform.http_errors import error_body
from crm_platform.models import Form, Record, User
from crm_platform.scoping import TenantScope
from crm_platform.services.forms.definitions import form_in_app
from crm_platform.services.records import operations as record_service
from crm_platform.services.records.access import Access
from crm_platform.services.records.operations import PreconditionFailed
from crm_platform.services.records.query import without
from crm_platform.services.workspace.references import Names
from crm_platform.web import web
from crm_platform.web.cells import cell_text
from crm_platform.web.form_input import typed_data
from crm_platform.web.formatting import Formats
from crm_platform.web.signed_in import signed_in
from crm_platform.web.strings import ui_text
from form_engine.compiled import CompiledForm
from form_engine.rendering import render_form
from form_engine.titles import record_title
from form_engine.validation import input_values


class Shown:
    """An error already in the reader's words, where the renderer expects a Problem."""

    def __init__(self, path: str, text: str) -> None:
        self.path, self.text = path, text

    def message(self, _locale: str) -> str:
        return self.text


def _writable_form(scope: TenantScope, principal: Principal, row: Form
                   ) -> tuple[CompiledForm, Access]:
    """The form as this person may fill it in: hidden fields gone, their read-only fields
    marked read-only."""
    _version, compiled = record_service.current_version(scope, row)
    access = record_service.access(scope, principal, row)
    shown = without(compiled, access.hidden)
    if access.readonly:
        fields = tuple(replace(item, read_only=True) if item.key in access.readonly else item
                       for item in shown.fields)
        shown = replace(shown, fields=fields, by_key={item.key: item for item in fields})
    return shown, access


def _errors(error: LoomError, locale: str) -> tuple[list[Shown], list[dict[str, str]]]:
    """The problems for the renderer (by field path) and for the summary (with anchors)."""
    body = error_body(error, locale)["error"]
    shown, summary = [], []
    for item in body["fields"]:
        path = item["path"].removeprefix("data.").removeprefix("data")
        shown.append(Shown(path, item["message"]))
        summary.append({"message": item["message"], "key": path.split("[")[0].split(".")[0]})
    if not body["fields"]:
        summary.append({"message": body["message"], "key": ""})
    return shown, summary


def _page(template: str, scope: TenantScope, principal: Principal, app: str, row: Form,
          form: CompiledForm, values: dict[str, Any], record: Record | None = None,
          problems: list[Shown] | None = None, summary: list[dict[str, str]] | None = None,
          status: int = 200, **extra: Any):
    preview = record_service.evaluate(scope, principal, row, form, values, "input")
    # The renderer's own Jinja2 environment autoescapes every label and value it writes.
    fields = Markup(render_form(form, values, problems or [], principal.locale,
                                preview.visible))
    # the record's name, from what this reader may see (fields off the form are hidden)
    record_name = (record_title(form, record.data, set(record.data) - set(form.by_key))
                   or f"#{record.id}") if record is not None else ""
    return render_template(template, app_key=app, form_row=row, form=form, record=record,
                           record_name=record_name, fields=fields, summary=summary or [],
                           fmt=Formats(principal.locale, principal.timezone),
                           **extra), status


@web.get("/apps/<app>/<form>/new")
@signed_in
def record_new(principal: Principal, scope: TenantScope, app: str, form: str):
    row = form_in_app(scope, app, form)
    shown, access = _writable_form(scope, principal, row)
    if not access.can_create:
        raise Forbidden("record_create_forbidden")
    # prefilled from the link that led here ("add a contact" on a customer's page)
    values = {key: request.args[key] for key in shown.by_key if key in request.args}
    defaults = record_service.evaluate(scope, principal, row, shown, values, "input").data
    return _page("records/entry.html", scope, principal, app, row, shown,
                 {**input_values(shown, defaults), **values})


@web.post("/apps/<app>/<form>/new")
@signed_in
def record_create(principal: Principal, scope: TenantScope, app: str, form: str):
    row = form_in_app(scope, app, form)
    shown, access = _writable_form(scope, principal, row)
    data = typed_data(shown, request.form, access.readonly)
    confirm = request.form.get("confirm_duplicate") == "yes"
    try:
        with scope.session.begin_nested():
            record, _created = record_service.create_record(
                scope, principal, row, data, confirm_duplicate=confirm, mode="input")
    except (ValidationFailed, Conflict) as error:
        problems, summary = _errors(error, principal.locale)
        return _page("records/entry.html", scope, principal, app, row, shown, data,
                     problems=problems, summary=summary, status=error.status,
                     duplicate=_duplicate(error))
    flash(ui_text("saved_new", principal.locale), "done")
    return redirect(url_for("web.record_page", app=app, form=form, record_id=record.id))


@web.get("/apps/<app>/<form>/<int:record_id>/edit")
@signed_in
def record_edit(principal: Principal, scope: TenantScope, app: str, form: str,
                record_id: int):
    row = form_in_app(scope, app, form)
    record = record_service.get_record(scope, principal, row, record_id)
    shown, _access = _writable_form(scope, principal, row)
    values = input_values(shown, record_service.current_data(scope, row, record))
    return _page("records/entry.html", scope, principal, app, row, shown, values,
                 record=record, version=record.version)


@web.post("/apps/<app>/<form>/<int:record_id>/edit")
@signed_in
def record_update(principal: Principal, scope: TenantScope, app: str, form: str,
                  record_id: int):
    row = form_in_app(scope, app, form)
    shown, access = _writable_form(scope, principal, row)
    data = typed_data(shown, request.form, access.readonly)
    version = request.form.get("version", "")
    confirm = request.form.get("confirm_duplicate") == "yes"
    try:
        with scope.session.begin_nested():
            record_service.update_record(
                scope, principal, row, record_id, data,
                if_match=int(version) if version.isdigit() else None,
                confirm_duplicate=confirm, mode="input")
    except PreconditionFailed:
        # Another person saved first: show who and when, keep what this person typed, and
        # let them re-apply it over the new version or reload it.
        current = record_service.get_record(scope, principal, row, record_id)
        editor = scope.find(User, current.updated_by_id) if current.updated_by_id else None
        return _page("records/entry.html", scope, principal, app, row, shown, data,
                     record=current, version=current.version, status=409,
                     stale={"name": editor.name if editor else ui_text("system",
                                                                      principal.locale),
                            "at": current.updated_at})
    except (ValidationFailed, Conflict) as error:
        problems, summary = _errors(error, principal.locale)
        record = record_service.get_record(scope, principal, row, record_id)
        return _page("records/entry.html", scope, principal, app, row, shown, data,
                     record=record, version=version, problems=problems, summary=summary,
                     status=error.status, duplicate=_duplicate(error))
    flash(ui_text("saved", principal.locale), "done")
    return redirect(url_for("web.record_page", app=app, form=form, record_id=record_id))


@web.post("/apps/<app>/<form>/evaluate")
@signed_in
def record_evaluate(principal: Principal, scope: TenantScope, app: str, form: str):
    """What the typing so far makes of the form — which fields show, which are required,
    what the formulas give — as the server evaluates it; nothing is saved and no error is
    shown before the person asks to save. The answer is a small state fragment that
    `js/conditions.js` applies to the page: the inputs themselves are never replaced, so
    nothing typed meanwhile is lost."""
    row = form_in_app(scope, app, form)
    shown, access = _writable_form(scope, principal, row)
    data = typed_data(shown, request.form, access.readonly)
    preview = record_service.evaluate(scope, principal, row, shown, data, "input")
    fmt = Formats(principal.locale, principal.timezone)
    computed = {item.key: cell_text(item, preview.data.get(item.key), fmt, principal.locale,
                                    Names()) for item in shown.computed}
    return render_template(
        "records/_state.html",
        hidden=[key for key, shows in preview.visible.items() if shows is False],
        required=[key for key, needed in preview.required.items() if needed],
        computed=computed, form=shown)


def _duplicate(error: LoomError) -> dict[str, Any] | None:
    """What the page offers for a duplicate: the existing record (when the person may see
    it) and whether saving anyway is allowed (a dedup key, not a unique field)."""
    if error.code not in ("possible_duplicate", "possible_duplicate_unseen",
                          "duplicate_record"):
        return None
    return {"record": error.params.get("record"),
            "may_confirm": error.code.startswith("possible_duplicate")}

