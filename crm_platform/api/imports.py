"""Importing a CSV or XLSX sheet into a form: start (dry run or real), follow progress, and
download the row errors as CSV. See docs/records.md "Import"."""

from __future__ import annotations

import json
from typing import Any

from flask import Response, current_app

from crm_platform.api import api, form_of, schemas, scope_of
from crm_platform.api.operations import operation
from crm_platform.api.render import iso
from crm_platform.auth.principal import Principal
from crm_platform.errors import FieldError, ValidationFailed
from crm_platform.services.imports import jobs as service

TAGS = ("Imports",)
OPTIONS = {
    "dry_run": {"type": "boolean", "description": "Check every row and report; write nothing."},
    "mode": {"enum": list(service.MODES), "description":
             "`insert` (a duplicate is an error), `upsert` (update the record the match keys "
             "find), `skip_duplicates`."},
    "on_error": {"enum": list(service.ON_ERROR), "description":
                 "`all_or_nothing` (default: any bad row, nothing written) or `valid_only`."},
    "columns": {"type": "string", "maxLength": 20_000, "description":
                'JSON {"column header": "field key" or null to ignore}; other headers match '
                "a field's key or label (English or Chinese)."},
    "match_on": {"type": "string", "maxLength": 2000, "description":
                 "Fields that identify a record, comma-separated (default: the form's first "
                 "dedup key, else its first unique field)."},
}
ROW_ERROR = schemas.obj({"row": {"type": "integer"}, "column": {"type": "string"},
                         "field": {"type": ["string", "null"]},
                         "value": {"type": ["string", "null"]}, "code": {"type": "string"},
                         "message": {"type": "string"}},
                        ("row", "column", "code", "message"))
IMPORT = schemas.obj({
    "id": schemas.ID, "status": {"enum": ["queued", "running", "done", "failed"]},
    "dry_run": {"type": "boolean"}, "mode": {"enum": list(service.MODES)},
    "on_error": {"enum": list(service.ON_ERROR)}, "filename": {"type": "string"},
    "format": {"type": ["string", "null"]}, "encoding": {"type": ["string", "null"]},
    "columns": {"type": "object"}, "match_on": {"type": "array", "items": {"type": "string"}},
    "total_rows": {"type": "integer"}, "processed_rows": {"type": "integer"},
    "created": {"type": "integer"}, "updated": {"type": "integer"},
    "skipped": {"type": "integer"}, "failed_rows": {"type": "integer"},
    "row_errors": {"type": "array", "items": ROW_ERROR},
    "error": {"type": ["object", "null"]}, "written": {"type": "boolean"},
    "created_at": schemas.TIMESTAMP, "finished_at": schemas.nullable(schemas.TIMESTAMP),
}, ("id", "status", "total_rows", "processed_rows", "created", "updated", "skipped",
    "failed_rows"))


def _render(job: Any) -> dict[str, Any]:
    body = service.describe(job)
    body["created_at"], body["finished_at"] = iso(job.created_at), (
        iso(job.finished_at) if job.finished_at else None)
    return body


def _options(body: dict[str, Any]) -> dict[str, Any]:
    options = {key: body[key] for key in ("dry_run", "mode", "on_error") if key in body}
    if "columns" in body:
        try:
            columns = json.loads(body["columns"])
        except ValueError:
            columns = None
        if not isinstance(columns, dict) or not all(
                isinstance(key, str) and (value is None or isinstance(value, str))
                for key, value in columns.items()):
            raise ValidationFailed(fields=[FieldError("columns", "import_bad_columns", {})],
                                   count=1)
        options["columns"] = columns
    if body.get("match_on"):
        options["match_on"] = [key.strip() for key in body["match_on"].split(",")
                               if key.strip()]
    return options


@api.post("/apps/<app>/forms/<form>/imports")
@operation("Import a CSV or XLSX sheet into a form", tags=TAGS, upload=OPTIONS,
           upload_limit=lambda: current_app.config["LOOM_SETTINGS"].max_import_bytes,
           responses={201: IMPORT, 202: IMPORT},
           description="CSV in UTF-8 (with or without BOM), GBK / GB18030 or UTF-16, and "
                       "XLSX. A bad file is refused whole (422). Up to 2 000 rows run at "
                       "once (201); larger files run as a job (202): follow "
                       "`GET /api/v1/imports/{id}`.")
def start_import(principal: Principal, app: str, form: str, body: dict[str, Any]):
    scope, row = form_of(principal, app, form)
    filename, content = body["file"]
    job = service.start_import(scope, principal, row, content, filename, _options(body))
    if job.status == "queued":
        service.queue(current_app._get_current_object(), scope, job)  # type: ignore[attr-defined]
        return _render(job), 202
    return _render(job), 201


@api.get("/imports/<int:import_id>")
@operation("An import's progress, counts and row errors", tags=TAGS,
           responses={200: IMPORT})
def get_import(principal: Principal, import_id: int):
    return _render(service.get_import(scope_of(principal), principal, import_id))


@api.get("/imports/<int:import_id>/errors.csv")
@operation("An import's row errors as CSV (opens in Excel)", tags=TAGS,
           responses={200: {"type": "string"}}, content_type="text/csv")
def import_errors(principal: Principal, import_id: int):
    job = service.get_import(scope_of(principal), principal, import_id)
    return Response(service.errors_csv(job), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="import-{job.id}-errors.csv"'})
