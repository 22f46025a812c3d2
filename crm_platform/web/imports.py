"""The import wizard: upload a CSV or XLSX file → map its columns (proposed by key or by
label, English or Chinese) → a dry run with every row's errors and the error CSV → the run
(a large file shows its progress, and the page can be left and come back to) → the
summary. Every step goes through the import service, as the API's imports do."""

from __future__ import annotations

from flask import current_app, redirect, render_template, request, url_for

from crm_platform.auth.principal import Principal
from crm_platform.db import write_from_here
from crm_platform.errors import LoomError
from crm_platform.http_errors import error_body
from crm_platform.models import App, Form
from crm_platform.scoping import TenantScope
from crm_platform.services.forms.definitions import form_in_app
from crm_platform.services.imports import jobs as import_service
from crm_platform.services.imports import wizard
from crm_platform.services.imports.columns import RECORD_ID, writable_fields
from crm_platform.services.records import operations as record_service
from crm_platform.web import web
from crm_platform.web.signed_in import signed_in

ERRORS_SHOWN = 200


def _form_of(scope: TenantScope, job) -> Form:
    form = scope.find(Form, job.form_id)
    assert form is not None
    return form


def _app_key(scope: TenantScope, form: Form) -> str:
    app = scope.find(App, form.app_id)
    return app.key if app is not None else ""


@web.get("/apps/<app>/<form>/import")
@signed_in
def import_start(principal: Principal, scope: TenantScope, app: str, form: str):
    row = form_in_app(scope, app, form)
    return render_template("imports/upload.html", app_key=app, form_row=row,
                           form=record_service.current_version(scope, row)[1])


@web.post("/apps/<app>/<form>/import")
@signed_in
def import_upload(principal: Principal, scope: TenantScope, app: str, form: str):
    write_from_here(scope.session)
    row = form_in_app(scope, app, form)
    upload = request.files.get("file")
    try:
        if upload is None or not upload.filename:
            raise LoomError("import_empty_file").with_status(422)
        with scope.session.begin_nested():
            draft = wizard.upload(scope, principal, row, upload.read(), upload.filename)
    except LoomError as error:
        return render_template(
            "imports/upload.html", app_key=app, form_row=row,
            form=record_service.current_version(scope, row)[1],
            error=error_body(error, principal.locale)["error"]), error.status
    return redirect(url_for("web.import_mapping", draft_id=draft.id))


def _mapping_page(scope: TenantScope, principal: Principal, draft, error=None,
                  chosen=None, status: int = 200):
    form_row = _form_of(scope, draft)
    _version, compiled = record_service.current_version(scope, form_row)
    access = record_service.access(scope, principal, form_row)
    headers = draft.options["headers"]
    return render_template(
        "imports/mapping.html", draft=draft, form_row=form_row, form=compiled,
        app_key=_app_key(scope, form_row), headers=headers,
        chosen=chosen or draft.options["proposal"], preview=draft.options["preview"],
        fields=writable_fields(compiled, access), record_id=RECORD_ID,
        modes=import_service.MODES, error=error), status


@web.get("/imports/<int:draft_id>/map")
@signed_in
def import_mapping(principal: Principal, scope: TenantScope, draft_id: int):
    return _mapping_page(scope, principal, wizard.get_draft(scope, principal, draft_id))


def _chosen(draft) -> list[str | None]:
    headers = draft.options["headers"]
    return [request.form.get(f"column-{index}") or None for index in range(len(headers))]


@web.post("/imports/<int:draft_id>/run")
@signed_in
def import_run(principal: Principal, scope: TenantScope, draft_id: int):
    write_from_here(scope.session)   # SQLite: an index build may commit while we read
    draft = wizard.get_draft(scope, principal, draft_id)
    chosen = _chosen(draft)
    columns = dict(zip(draft.options["headers"], chosen, strict=True))
    mode = request.form.get("mode", "insert")
    on_error = "valid_only" if request.form.get("on_error") == "valid_only" else (
        "all_or_nothing")
    dry_run = request.form.get("step") != "import"
    try:
        with scope.session.begin_nested():
            job = wizard.run(scope, principal, draft, columns,
                             mode if mode in import_service.MODES else "insert", on_error,
                             dry_run)
    except LoomError as error:
        return _mapping_page(scope, principal, draft, error_body(error, principal.locale)[
            "error"], chosen, error.status)
    if job.status == "queued":
        import_service.queue(current_app._get_current_object(), scope, job)  # type: ignore[attr-defined]
    return redirect(url_for("web.import_result", import_id=job.id,
                            draft=draft_id if dry_run else None, mode=mode,
                            on_error=on_error, **{f"c{index}": key or "" for index, key
                                                  in enumerate(chosen)}))


@web.get("/imports/<int:import_id>")
@signed_in
def import_result(principal: Principal, scope: TenantScope, import_id: int):
    job = import_service.get_import(scope, principal, import_id)
    form_row = _form_of(scope, job)
    described = import_service.describe(job)
    draft_id = request.args.get("draft", type=int)
    draft = None
    if draft_id is not None:
        try:
            draft = wizard.get_draft(scope, principal, draft_id)
        except LoomError:
            draft = None
    template = ("imports/_progress.html" if request.headers.get("HX-Request")
                else "imports/result.html")
    return render_template(
        template, job=job, described=described, form_row=form_row,
        app_key=_app_key(scope, form_row), draft=draft,
        errors=described["row_errors"][:ERRORS_SHOWN],
        chosen=[request.args.get(f"c{index}", "") for index in range(
            len(draft.options["headers"]))] if draft else [],
        mode=request.args.get("mode", job.mode),
        on_error=request.args.get("on_error", job.on_error))
