"""Importing a sheet into a form: map the columns, check every row, write — or not.

1. **Read** the file (`import_files`): a bad file is refused whole, before anything else.
2. **Map** each column to a field by key or label, English or Chinese
   (`import_columns`); `options.columns` overrides ({"Header": "field" | null to ignore}).
3. **Check** every row as a person's typing is checked, and against existing records
   and earlier rows by the match keys, in the mode asked for (`import_run`).
4. **Write** — unless it is a dry run, or `all_or_nothing` and any row failed
   (`import_writes`).

Small files run inside the request; larger ones (over `SYNC_ROWS` rows) run as a job and
report progress. Permissions are the record service's: create (and update, for upsert,
within the caller's update scope); hidden and read-only fields cannot be columns.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from typing import Any

from flask import Flask

from crm_platform.auth.login import principal_for
from crm_platform.auth.principal import Principal
from crm_platform.db import Database, database, utcnow
from crm_platform.errors import Forbidden, LoomError, NotFound
from crm_platform.i18n import render_error
from crm_platform.models import Form, Import, User
from crm_platform.scoping import TenantScope
from crm_platform.services.imports.columns import RECORD_ID, map_columns, match_fields
from crm_platform.services.imports.files import read_sheet
from crm_platform.services.imports.run import Importer
from crm_platform.services.records import operations as record_service
from crm_platform.services.records.access import access_for
from crm_platform.services.storage.data_fields import refresh_statistics

MODES = ("insert", "upsert", "skip_duplicates")
ON_ERROR = ("all_or_nothing", "valid_only")
SYNC_ROWS = 2_000          # more rows than this run as a job


# -- starting --------------------------------------------------------------------------
def start_import(scope: TenantScope, actor: Principal, form: Form, content: bytes,
                 filename: str, options: Mapping[str, Any]) -> Import:
    """Check the file and its columns now (a bad one is refused, nothing stored); run a
    small file at once, queue a large one. Returns the import (status done or queued)."""
    mode = options.get("mode", "insert")
    access = access_for(scope, actor, form)
    if not access.can_create:
        raise Forbidden("record_create_forbidden")
    if mode == "upsert" and access.update == "none":
        raise Forbidden("record_update_forbidden")
    _, compiled = record_service.current_version(scope, form)
    sheet = read_sheet(content, filename)
    columns = map_columns(compiled, sheet.headers, options.get("columns"), access)
    match_on = match_fields(compiled, options.get("match_on"), mode,
                            has_ids=RECORD_ID in columns.values())
    job = Import(form_id=form.id, created_by_id=actor.acting_user_id, status="queued",
                 dry_run=bool(options.get("dry_run")), mode=mode,
                 on_error=options.get("on_error", "all_or_nothing"), locale=actor.locale,
                 filename=filename[:255] or "upload", format=sheet.format,
                 encoding=sheet.encoding, options={"columns": dict(zip(
                     sheet.headers, [columns.get(i) for i in range(len(sheet.headers))],
                     strict=True)), "match_on": match_on},
                 total_rows=len(sheet.rows), row_errors=[])
    if len(sheet.rows) <= SYNC_ROWS:
        scope.add(job)
        scope.session.flush()
        Importer(scope, actor, form, compiled, job, sheet, access).run()
        return job
    job.content = content
    return job


def queue(app: Flask, scope: TenantScope, job: Import) -> Import:
    """Store a queued import in its own committed transaction, then hand it to a worker."""
    from crm_platform.jobs import add_job, dispatch

    db = database(app)
    with db.transaction() as session:  # the import and its job: both, or neither
        job.tenant_id = scope.tenant_id
        session.add(job)
        session.flush()
        background = add_job(session, "import", scope.tenant_id, job.id,
                             tenant_id=scope.tenant_id).id
    dispatch(app, background)
    return job


def run_import_job(app: Flask, tenant_id: int, import_id: int) -> None:
    """The job: run a queued import (again, if a worker died with it: nothing was written,
    the writes are one transaction)."""
    db = database(app)
    with db.transaction() as session:
        job = session.get(Import, (tenant_id, import_id))
        if job is None or job.status not in ("queued", "running"):
            return
        job.status, job.started_at = "running", utcnow()
        locale = job.locale
    try:
        with db.transaction() as session:
            scope = TenantScope(session, tenant_id)
            job = scope.get(Import, import_id, "import")
            form = scope.get(Form, job.form_id, "form")
            actor = _actor(scope, job)
            _, compiled = record_service.current_version(scope, form)
            sheet = read_sheet(job.content or b"", job.filename)
            importer = Importer(scope, actor, form, compiled, job, sheet,
                                access_for(scope, actor, form),
                                progress=lambda done: _progress(db, (tenant_id, import_id), done))
            importer.run()
            job.content = None
    except LoomError as error:
        _fail(db, (tenant_id, import_id), render_error(error, locale))
    except Exception as error:  # recorded on the import, then raised for rq's retry
        failure = render_error(LoomError("import_failed"), locale)
        _fail(db, (tenant_id, import_id), {**failure, "detail": type(error).__name__})
        raise


def import_job_failed(app: Flask, reason: str, tenant_id: int, import_id: int) -> None:
    """The job of an import could not run, every time it was tried (its worker died, the
    database was gone): the import says so, in its importer's language, instead of
    waiting for ever."""
    db = database(app)
    with db.transaction() as session:
        job = session.get(Import, (tenant_id, import_id))
        if job is None or job.status not in ("queued", "running"):
            return
        locale = job.locale
    _fail(db, (tenant_id, import_id), {**render_error(LoomError("import_job_lost"), locale),
                          "detail": reason[:200]})


def refresh_statistics_job(app: Flask) -> None:
    """The job after a large import: the planner learns what it added."""
    refresh_statistics(database(app).engine)


def _actor(scope: TenantScope, job: Import) -> Principal:
    """The importer, as they are now (a deactivated user's queued import does not run)."""
    user = scope.find(User, job.created_by_id) if job.created_by_id else None
    if user is None or not user.is_active:
        raise Forbidden("user_inactive")
    return principal_for(scope.session, user, "job")


def _progress(db: Database, key: tuple[int, int], done: int) -> None:
    tenant_id, import_id = key
    with db.transaction() as session:
        session.execute(TenantScope(session, tenant_id).update(Import, Import.id == import_id)
                        .values(processed_rows=done))


def _fail(db: Database, key: tuple[int, int], error: dict[str, Any]) -> None:
    tenant_id, import_id = key
    with db.transaction() as session:
        session.execute(TenantScope(session, tenant_id).update(Import, Import.id == import_id)
                        .values(status="failed", error=error, finished_at=utcnow(),
                                content=None))


# -- reading back ----------------------------------------------------------------------
def get_import(scope: TenantScope, actor: Principal, import_id: int) -> Import:
    """An import its creator (or a tenant admin) may see; anything else is a 404."""
    job = scope.find(Import, import_id)
    if job is None or job.status == "draft" or not (
            actor.is_tenant_admin or job.created_by_id == actor.user_id):
        raise NotFound("resource_not_found", resource="import", id=import_id)
    return job


def errors_csv(job: Import) -> bytes:
    """The row errors as a CSV Excel opens (UTF-8 with BOM; formula-like text neutralised)."""
    from crm_platform.services.imports.cells import neutralise as safe_cell

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    chinese = job.locale == "zh"
    writer.writerow(["行", "列", "字段", "值", "错误代码", "说明"] if chinese
                    else ["row", "column", "field", "value", "code", "message"])
    for error in job.row_errors:
        writer.writerow([error["row"], safe_cell(error["column"]), error["field"] or "",
                         safe_cell(error["value"] or ""), error["code"],
                         safe_cell(error["message"])])
    return b"\xef\xbb\xbf" + buffer.getvalue().encode("utf-8")


def describe(job: Import) -> dict[str, Any]:
    return {
        "id": job.id, "status": job.status, "dry_run": job.dry_run, "mode": job.mode,
        "on_error": job.on_error, "filename": job.filename, "format": job.format,
        "encoding": job.encoding, "columns": job.options.get("columns", {}),
        "match_on": job.options.get("match_on", []),
        "total_rows": job.total_rows, "processed_rows": job.processed_rows,
        "created": job.created_count, "updated": job.updated_count,
        "skipped": job.skipped_count, "failed_rows": job.error_count,
        "row_errors": job.row_errors[:1000], "error": job.error,
        "written": job.status == "done" and not job.dry_run and not (
            job.on_error == "all_or_nothing" and job.error_count),
        "created_at": job.created_at, "finished_at": job.finished_at,
    }
