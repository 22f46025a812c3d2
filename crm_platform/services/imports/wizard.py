"""The import wizard's steps over one uploaded file: upload (the file is read and kept as a
draft import, with a field proposed for each column), then a dry run and the real run
with the columns as the person mapped them — each a normal import (`jobs.start_import`),
so the wizard checks and writes exactly as the API does. The draft, file included, is
removed once the real run has started."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from crm_platform.auth.principal import Principal
from crm_platform.db import utcnow
from crm_platform.errors import Forbidden, NotFound
from crm_platform.models import Form, Import
from crm_platform.scoping import TenantScope
from crm_platform.services.imports import jobs
from crm_platform.services.imports.columns import propose_columns
from crm_platform.services.imports.files import Sheet, read_sheet
from crm_platform.services.records import operations as record_service
from crm_platform.services.records.access import access_for

DRAFT = "draft"
DRAFT_LIFETIME = timedelta(days=1)
PREVIEW_ROWS = 5


def upload(scope: TenantScope, actor: Principal, form: Form, content: bytes,
           filename: str) -> Import:
    """Read the file (a bad one is refused whole, nothing kept) and keep it as a draft with
    its headers, a few rows to show and a proposed field per column."""
    access = access_for(scope, actor, form)
    if not access.can_create:
        raise Forbidden("record_create_forbidden")
    _, compiled = record_service.current_version(scope, form)
    sheet = read_sheet(content, filename)
    return _kept(scope, actor, form, content, filename, sheet,
                 proposal=propose_columns(compiled, sheet.headers, access))


def keep_for_new_form(scope: TenantScope, actor: Principal, form: Form, content: bytes,
                      filename: str, sheet: Sheet) -> Import:
    """The spreadsheet a new form was proposed from, kept as a draft until the form is
    published; then `after_publish` proposes its columns and the wizard goes on."""
    return _kept(scope, actor, form, content, filename, sheet, proposal={},
                 awaiting_publish=True)


def _kept(scope: TenantScope, actor: Principal, form: Form, content: bytes, filename: str,
          sheet: Sheet, **options: Any) -> Import:
    """The file as a draft with its headers, a few rows to show, and `options`."""
    preview = [["" if cell is None else str(cell) for cell in row]
               for row in sheet.rows[:PREVIEW_ROWS]]
    draft = scope.add(Import(
        form_id=form.id, created_by_id=actor.acting_user_id, status=DRAFT, dry_run=True,
        mode="insert", on_error="all_or_nothing", locale=actor.locale,
        filename=filename[:255] or "upload", format=sheet.format, encoding=sheet.encoding,
        options={"headers": sheet.headers, "preview": preview, **options},
        total_rows=len(sheet.rows), row_errors=[], content=content))
    scope.session.flush()
    return draft


def after_publish(scope: TenantScope, actor: Principal, form: Form) -> Import | None:
    """The caller's spreadsheet waiting for this form's first publish, its columns now
    proposed against the published form; None when there is none."""
    waiting = [draft for draft in scope.session.scalars(scope.select(
        Import, Import.form_id == form.id, Import.status == DRAFT,
        Import.created_by_id == actor.user_id).order_by(Import.id.desc()))
        if draft.options.get("awaiting_publish")]
    if not waiting:
        return None
    draft = waiting[0]
    _, compiled = record_service.current_version(scope, form)
    draft.options = {**draft.options, "awaiting_publish": False, "proposal": propose_columns(
        compiled, draft.options["headers"], access_for(scope, actor, form))}
    return draft


def get_draft(scope: TenantScope, actor: Principal, draft_id: int) -> Import:
    """A draft its uploader may continue (not one still waiting for its form's first
    publish); anything else is a 404."""
    draft = scope.find(Import, draft_id)
    if draft is None or draft.status != DRAFT or draft.created_by_id != actor.user_id \
            or draft.options.get("awaiting_publish"):
        raise NotFound("resource_not_found", resource="import", id=draft_id)
    return draft


def run(scope: TenantScope, actor: Principal, draft: Import, columns: Mapping[str, Any],
        mode: str, on_error: str, dry_run: bool) -> Import:
    """A dry or a real run of the draft's file with `columns` ({header: field key or None
    to skip}); the real run ends the draft. Returns the import (done, or queued: the
    caller queues it)."""
    form = scope.find(Form, draft.form_id)
    if form is None:
        raise NotFound("resource_not_found", resource="form", id=draft.form_id)
    job = jobs.start_import(scope, actor, form, draft.content or b"", draft.filename, {
        "columns": dict(columns), "mode": mode, "on_error": on_error, "dry_run": dry_run})
    if not dry_run:
        scope.session.delete(draft)
    return job


def drop_stale_drafts(app: Any, now: datetime | None = None) -> int:
    """Forget the drafts (and their files) nobody finished within `DRAFT_LIFETIME`: run
    by the periodic tick, across tenants, a batch at a time. How many were dropped."""
    from crm_platform.db import database

    cutoff = (now or utcnow()) - DRAFT_LIFETIME
    with database(app).transaction() as session:
        stale = session.scalars(select(Import).where(
            Import.status == DRAFT, Import.created_at < cutoff).limit(500)).all()
        for draft in stale:
            session.delete(draft)
        return len(stale)
