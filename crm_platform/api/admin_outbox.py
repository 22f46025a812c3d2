"""Tenant administrators see what left (or failed to leave) Loom — webhooks and other
effects — retry what failed, and read the key webhooks are signed with."""

from __future__ import annotations

import json
from typing import Any

from flask import current_app

from crm_platform.api import api, schemas, scope_of
from crm_platform.api.operations import operation
from crm_platform.api.pagination import paginate
from crm_platform.api.render import iso
from crm_platform.auth.principal import Principal
from crm_platform.db import dump_json
from crm_platform.models import OutboxEntry
from crm_platform.services.delivery import outbox as service

TAGS = ("Administration",)
ENTRY = schemas.obj({
    "id": schemas.ID, "kind": {"type": "string"},
    "status": {"enum": ["pending", "sending", "done", "failed"]},
    "attempts": {"type": "integer"}, "next_attempt_at": schemas.TIMESTAMP,
    "last_error": {"type": ["string", "null"]}, "payload": {"type": "object"},
    "created_at": schemas.TIMESTAMP}, ("id", "kind", "status", "attempts"))


def _render(entry: OutboxEntry) -> dict[str, Any]:
    return {"id": entry.id, "kind": entry.kind, "status": entry.status,
            "attempts": entry.attempts, "next_attempt_at": iso(entry.next_attempt_at),
            "last_error": entry.last_error, "payload": json.loads(dump_json(entry.payload)),
            "created_at": iso(entry.created_at)}


@api.get("/admin/outbox")
@operation("Effects that leave Loom (webhooks …) and how their delivery went", tags=TAGS,
           query={**schemas.PAGE_QUERY,
                  "status": {"enum": ["pending", "sending", "done", "failed"]}},
           responses={200: schemas.page_of(ENTRY)})
def list_outbox(principal: Principal, query: dict[str, Any]):
    principal.require_tenant_admin()
    scope = scope_of(principal)
    return paginate(scope.session, service.outbox_query(scope, query.get("status")),
                    OutboxEntry, query, _render)


@api.post("/admin/outbox/<int:entry_id>/retry")
@operation("Send a failed effect again", tags=TAGS, responses={200: ENTRY})
def retry_outbox(principal: Principal, entry_id: int):
    principal.require_tenant_admin()
    return _render(service.retry(scope_of(principal), entry_id))


@api.get("/admin/webhook-key")
@operation("The key this tenant's webhooks are signed with (HMAC-SHA256)", tags=TAGS,
           responses={200: schemas.obj({"key": {"type": "string"}}, ("key",))},
           description="Check `X-Loom-Signature: sha256=<hex>` = HMAC-SHA256(key, body).")
def webhook_key(principal: Principal):
    principal.require_tenant_admin()
    return {"key": service.webhook_key(current_app, principal.tenant_id).hex()}
