"""Tenant administrators see the approval time limits still to come: when each falls due
and what it will do (remind, approve, reject, escalate) — to watch a flow's limits work,
or to test one with a short limit (see docs/flows.md)."""

from __future__ import annotations

from typing import Any

from crm_platform.api import api, schemas, scope_of
from crm_platform.api.operations import operation
from crm_platform.api.pagination import paginate
from crm_platform.api.render import iso
from crm_platform.auth.principal import Principal
from crm_platform.models import FlowTimer
from crm_platform.services.flows import timers as service

TAGS = ("Administration",)
TIMER = schemas.obj({
    "id": schemas.ID, "due_at": schemas.TIMESTAMP, "overdue": {"type": "boolean"},
    "instance": schemas.ID, "record": schemas.ID, "form": schemas.KEY, "flow": schemas.KEY,
    "node": {"type": "string"}, "task": schemas.nullable(schemas.ID),
    "assignee": schemas.nullable(schemas.ID),
    "on_timeout": {"enum": ["remind", "auto_approve", "auto_reject", "escalate"]}},
    ("id", "due_at", "instance", "record", "node", "on_timeout"))


@api.get("/admin/timers")
@operation("Approval time limits still to fire: when, and what they will do", tags=TAGS,
           query=schemas.PAGE_QUERY, responses={200: schemas.page_of(TIMER)},
           description="Tenant administrators. Unfired timers, oldest first; `overdue` "
                       "ones fire at the next tick (every 15 s).")
def list_timers(principal: Principal, query: dict[str, Any]):
    scope = scope_of(principal)

    def render(timer: FlowTimer) -> dict[str, Any]:
        upcoming = service.describe(scope, timer)
        return {**upcoming, "due_at": iso(upcoming["due_at"])}

    return paginate(scope.session, service.upcoming_query(scope, principal), FlowTimer, query,
                    render)
