"""Records of a published form: create, list, get (ETag), PATCH (If-Match), delete to the
recycle bin, restore, history, transfer, and claim from the pool."""

from __future__ import annotations

import re
from typing import Any

from flask import Response, jsonify, request

from crm_platform.api import api, form_of, schemas
from crm_platform.api.operations import operation
from crm_platform.api.pagination import paginate
from crm_platform.api.render import iso
from crm_platform.auth.principal import Principal
from crm_platform.errors import BadRequest
from crm_platform.http_downloads import export_response
from crm_platform.models import Form, Record, RecordHistory
from crm_platform.scoping import TenantScope
from crm_platform.services.records import batches, owners
from crm_platform.services.records import operations as service
from crm_platform.services.records import query as record_query
from crm_platform.services.records.access import Access, visible_data
from crm_platform.services.records.finding import find_records
from form_engine.compiled import CompiledForm

TAGS = ("Records",)
RECORDS = "/apps/<app>/forms/<form>/records"
ONE = RECORDS + "/<int:record_id>"
_ETAG = re.compile(r'^\s*(?:W/)?"([1-9]\d{0,9})"\s*$')

RECORD = schemas.obj({
    "id": schemas.ID, "form": schemas.KEY, "form_version": {"type": "integer"},
    "version": {"type": "integer"}, "data": {"type": "object"},
    "owner": schemas.nullable(schemas.ID), "department": schemas.nullable(schemas.ID),
    "state": {"type": ["string", "null"]}, "locked": {"type": "boolean"},
    "created_at": schemas.TIMESTAMP, "updated_at": schemas.TIMESTAMP,
    "created_by": schemas.nullable(schemas.ID), "updated_by": schemas.nullable(schemas.ID),
    "deleted_at": schemas.nullable(schemas.TIMESTAMP),
}, ("id", "form", "version", "data", "owner", "state", "created_at", "updated_at"))
WRITE = schemas.obj({"data": {"type": "object", "maxProperties": 500}}, ("data",))
TRANSFER = schemas.obj({"owner": schemas.ID}, ("owner",))
HISTORY = schemas.obj({
    "action": {"type": "string", "description":
               "create, update, delete, restore, transfer, claim; release (to the "
               "pool); flow_submit, flow_approve … "
               "(approvals); automation, assign, automation_stopped (automation rules)"},
    "version": {"type": "integer"}, "form_version": {"type": "integer"},
    "actor": schemas.nullable(schemas.ID), "at": schemas.TIMESTAMP,
    "changes": {"type": "object"}, "comment": {"type": ["string", "null"]},
}, ("action", "version", "actor", "at", "changes"))
CONFIRM = {"confirm_duplicate": {"type": "boolean", "description":
                                 "Save although the form's dedup keys match a record."}}
_KEY = re.compile(r"^[\x21-\x7e]{1,200}$")
LIST_QUERY = {
    **schemas.PAGE_QUERY,
    "deleted": {"type": "boolean", "description": "The recycle bin instead."},
    "filter": {"type": "string", "maxLength": 20_000, "description":
               'JSON: {"field", "op", "value"} or {"and"|"or": [...]}; see docs/records.md.'},
    "sort": {"type": "string", "maxLength": 200,
             "description": "Up to 3 keys, `-` for descending: `-amount,name`."},
    "search": {"type": "string", "maxLength": 200,
               "description": "Text in any text field, case-insensitive."},
    "fields": {"type": "string", "maxLength": 2000,
               "description": "Only these data fields: `name,phone`."},
    "count": {"type": "boolean", "description": "Add `count` (exact up to 10 000)."},
}
RECORD_PAGE = schemas.obj({"items": {"type": "array", "items": RECORD},
                           "next_cursor": {"type": ["string", "null"]},
                           "count": {"type": "integer"}, "count_exact": {"type": "boolean"}},
                          ("items", "next_cursor"))


def _found(scope: TenantScope, principal: Principal, row: Form, query: dict[str, Any]
           ) -> tuple[CompiledForm, record_query.Listing, Access]:
    found = find_records(scope, principal, row, query.get("filter"), query.get("search"),
                         query.get("deleted", False))
    return found.form, found.listing, found.access


def render_record(record: Record | Any, form_key: str, access: Access) -> dict[str, Any]:
    """A record (or a page's row of one: the same attributes) as the API shows it."""
    return {"id": record.id, "form": form_key, "form_version": record.form_version,
            "version": record.version, "data": visible_data(record.data, access),
            "owner": record.owner_id,
            "department": record.department_id, "state": record.state,
            "locked": record.locked, "created_at": iso(record.created_at),
            "updated_at": iso(record.updated_at), "created_by": record.created_by_id,
            "updated_by": record.updated_by_id, "deleted_at": iso(record.deleted_at)}


def _with_etag(record: Record, form_key: str, access: Access, status: int = 200) -> Response:
    response = jsonify(render_record(record, form_key, access))
    response.status_code = status
    response.headers["ETag"] = f'"{record.version}"'
    return response


def _idempotency_key() -> str | None:
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return None
    if not _KEY.fullmatch(key):
        raise BadRequest("bad_idempotency_key")
    return key


def _if_match() -> int | None:
    header = request.headers.get("If-Match")
    if header is None or header.strip() == "*":
        return None
    match = _ETAG.fullmatch(header)
    if match is None:
        raise BadRequest("bad_if_match")
    version = int(match.group(1))
    if version > schemas.VERSION["maximum"]:
        raise BadRequest("bad_if_match")
    return version


@api.get(RECORDS)
@operation("Find records: filter, sort, search, choose fields, page by cursor", tags=TAGS,
           query=LIST_QUERY, responses={200: RECORD_PAGE})
def list_records(principal: Principal, app: str, form: str, query: dict[str, Any]):
    scope, row = form_of(principal, app, form)
    compiled, found, access = _found(scope, principal, row, query)
    sort = record_query.parse_sort(compiled, query.get("sort"))
    fields = record_query.parse_fields(compiled, query.get("fields"))
    records, next_cursor = record_query.page(scope, found, sort, query.get("limit", 50),
                                             query.get("cursor"))
    items = []
    for record in records:
        item = render_record(record, row.key, access)
        item["data"] = record_query.project(item["data"], fields)
        items.append(item)
    body: dict[str, Any] = {"items": items, "next_cursor": next_cursor}
    if query.get("count"):
        body["count"], body["count_exact"] = record_query.count(scope.session,
                                                                found.select(scope))
    return body


@api.post(RECORDS)
@operation("Create a record", tags=TAGS, body=WRITE, query=CONFIRM, responses={201: RECORD},
           description="Validated against the form's published version; every problem is "
                       "listed under `data.<field path>`. With an `Idempotency-Key` header a "
                       "retried create returns the first result (`Idempotent-Replayed: "
                       "true`) and never makes a second record. A possible duplicate (the "
                       "form's dedup keys) is 409 naming the existing record unless "
                       "`confirm_duplicate=true`.")
def create_record(principal: Principal, app: str, form: str, body: dict[str, Any],
                  query: dict[str, Any]):
    scope, row = form_of(principal, app, form)
    record, created = service.create_record(scope, principal, row, body["data"],
                                            query.get("confirm_duplicate", False),
                                            _idempotency_key())
    response = _with_etag(record, row.key, service.access(scope, principal, row), 201)
    if not created:
        response.headers["Idempotent-Replayed"] = "true"
    return response


BATCH = schemas.obj({"on_error": {"enum": list(batches.ON_ERROR), "description":
                                  "valid_only (default): write the valid items; "
                                  "all_or_nothing: nothing unless all are valid"},
                     "items": {"type": "array", "minItems": 1, "maxItems": batches.MAX_BATCH,
                               "items": schemas.obj({
                                   "id": schemas.ID, "data": {"type": "object"},
                                   "version": schemas.VERSION}, ("data",))}},
                    ("items",))
BATCH_RESULT = schemas.obj({"items": {"type": "array", "items": schemas.obj({
    "index": {"type": "integer"}, "status": {"type": "integer"}, "id": schemas.ID,
    "version": {"type": "integer"}, "error": {"type": "object"}}, ("index", "status"))}},
    ("items",))


EXPORT_QUERY = {
    "format": {"enum": ["csv", "xlsx"], "description": "csv (UTF-8 with BOM) or xlsx"},
    "filter": LIST_QUERY["filter"], "search": LIST_QUERY["search"],
}


@api.get("/apps/<app>/forms/<form>/export")
@operation("Export the records you may see, as CSV or Excel", tags=TAGS, query=EXPORT_QUERY,
           responses={200: {"type": "string", "format": "binary"}},
           content_type="application/octet-stream",
           description="Same filters and permissions as the list; hidden fields are left out; "
                       "cells a spreadsheet would run as formulas are prefixed with '.")
def export(principal: Principal, app: str, form: str, query: dict[str, Any]):
    scope, row = form_of(principal, app, form)
    found = find_records(scope, principal, row, query.get("filter"), query.get("search"))
    return export_response(found, found.listing.select(scope), f"{app}-{form}",
                           query.get("format", "csv"), principal.locale)


@api.post(RECORDS + "/batch")
@operation("Create or update up to 1000 records, each on its own", tags=TAGS, body=BATCH,
           responses={200: BATCH_RESULT},
           description="An item without `id` is created; with `id` it is updated (and "
                       "`version` is checked like If-Match). One result per item, in order: "
                       "`status` 201/200 with `id` and `version`, or the item's error body.")
def batch(principal: Principal, app: str, form: str, body: dict[str, Any]):
    scope, row = form_of(principal, app, form)
    return {"items": batches.batch_write(scope, principal, row, body["items"],
                                         principal.locale,
                                         body.get("on_error", "valid_only"))}


@api.get(ONE)
@operation("Get a record (its ETag is its version)", tags=TAGS, responses={200: RECORD})
def get_record(principal: Principal, app: str, form: str, record_id: int):
    scope, row = form_of(principal, app, form)
    return _with_etag(service.get_record(scope, principal, row, record_id), row.key,
                      service.access(scope, principal, row))


@api.patch(ONE)
@operation("Change some fields of a record", tags=TAGS, body=WRITE, query=CONFIRM,
           responses={200: RECORD},
           description="Send `If-Match` with the ETag you read: if the record changed since, "
                       "the answer is 412 and nothing is written.")
def update_record(principal: Principal, app: str, form: str, record_id: int,
                  body: dict[str, Any], query: dict[str, Any]):
    scope, row = form_of(principal, app, form)
    record = service.update_record(scope, principal, row, record_id, body["data"], _if_match(),
                                   query.get("confirm_duplicate", False))
    return _with_etag(record, row.key, service.access(scope, principal, row))


@api.delete(ONE)
@operation("Move a record to the recycle bin", tags=TAGS, responses={200: RECORD})
def delete_record(principal: Principal, app: str, form: str, record_id: int):
    scope, row = form_of(principal, app, form)
    return _with_etag(service.delete_record(scope, principal, row, record_id, _if_match()),
                      row.key, service.access(scope, principal, row))


@api.post(ONE + "/restore")
@operation("Bring a record back from the recycle bin", tags=TAGS, responses={200: RECORD})
def restore_record(principal: Principal, app: str, form: str, record_id: int):
    scope, row = form_of(principal, app, form)
    return _with_etag(service.restore_record(scope, principal, row, record_id), row.key,
                      service.access(scope, principal, row))


@api.get(ONE + "/history")
@operation("Every change of a record, oldest first", tags=TAGS, query=schemas.PAGE_QUERY,
           responses={200: schemas.page_of(HISTORY)})
def record_history(principal: Principal, app: str, form: str, record_id: int,
                   query: dict[str, Any]):
    scope, row = form_of(principal, app, form)
    record = service.get_record(scope, principal, row, record_id)
    access = service.access(scope, principal, row)
    return paginate(scope.session, service.history_query(scope, record), RecordHistory, query,
                    lambda entry: {"action": entry.action, "version": entry.version,
                                   "form_version": entry.form_version, "actor": entry.actor_id,
                                   "at": iso(entry.at),
                                   "changes": visible_data(entry.changes, access),
                                   "comment": entry.comment})


@api.post(ONE + "/transfer")
@operation("Hand a record to another user", tags=TAGS, body=TRANSFER, responses={200: RECORD},
           description="The new owner's department follows; recorded in the history.")
def transfer(principal: Principal, app: str, form: str, record_id: int, body: dict[str, Any]):
    scope, row = form_of(principal, app, form)
    record = owners.transfer_record(scope, principal, row, record_id, body["owner"])
    return _with_etag(record, row.key, service.access(scope, principal, row))


@api.post(ONE + "/claim")
@operation("Claim a record from the pool", tags=TAGS, responses={200: RECORD},
           description="A record nobody owns (the pool) becomes yours, with your department; "
                       "your roles need `pool` on the form. Someone else was faster: 409 "
                       "`already_claimed`. Recorded in the history as `claim`.")
def claim(principal: Principal, app: str, form: str, record_id: int):
    scope, row = form_of(principal, app, form)
    record = owners.claim_record(scope, principal, row, record_id)
    return _with_etag(record, row.key, service.access(scope, principal, row))
