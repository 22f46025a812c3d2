"""Firing due timers: a task's time limit is a row with a due time, and the database — not
Redis — is the source of truth, so a lost queue or a restart never loses one.

`fire_due_timers(app)` claims due rows (PostgreSQL: `FOR UPDATE SKIP LOCKED`, so several
workers share the work without firing one twice), sends each its instance's `timeout`
command as the system, and marks it fired in the same transaction. A timer whose task was
answered meanwhile fires harmlessly: the engine ignores it.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from flask import Flask
from sqlalchemy import Select, select

from crm_platform.auth.principal import Principal
from crm_platform.db import database, for_claiming, utcnow
from crm_platform.models import Flow, FlowInstance, FlowTask, FlowTimer, Form, Record
from crm_platform.scoping import TenantScope
from crm_platform.services.flows import definitions as flow_service

log = logging.getLogger(__name__)


def fire_due_timers(app: Flask, now: datetime | None = None, limit: int = 100) -> int:
    """Fire up to `limit` due timers, one transaction each; returns how many fired."""
    from crm_platform.services.flows.approvals import run_timeout

    now = now or utcnow()
    db = database(app)
    fired = 0
    for _ in range(limit):
        with db.transaction() as session:
            timer = session.scalars(for_claiming(session, select(FlowTimer).where(
                FlowTimer.fired_at.is_(None), FlowTimer.due_at <= now).order_by(
                FlowTimer.due_at, FlowTimer.id).limit(1))).first()
            if timer is None:
                break
            timer.fired_at = now
            scope = TenantScope(session, timer.tenant_id)
            instance = _instance_for_timer(scope, timer.instance_id)
            record = scope.find(Record, instance.record_id) if instance else None
            if instance is not None and record is not None:
                run_timeout(scope, Principal.console(timer.tenant_id), instance, record,
                            timer.task_number, now)
            fired += 1
    return fired


def _instance_for_timer(scope: TenantScope, instance_id: int) -> FlowInstance | None:
    """The timer's instance, locked as every approval action locks it — so a timer and a
    person acting on the same approval at once run one after the other, the second on
    what the first left (never a decision overwritten)."""
    from crm_platform.errors import NotFound
    from crm_platform.services.flows.approvals import locked_instance

    try:
        return locked_instance(scope, instance_id)
    except NotFound:
        return None


def upcoming_query(scope: TenantScope, actor: Principal) -> Select[tuple[FlowTimer]]:
    """The tenant's timers still to fire (tenant administrators)."""
    actor.require_tenant_admin()
    return scope.select(FlowTimer, FlowTimer.fired_at.is_(None))


def describe(scope: TenantScope, timer: FlowTimer) -> dict[str, Any]:
    """A timer as an operator reads it: when, on which record and task, doing what."""
    instance = scope.get(FlowInstance, timer.instance_id, "instance")
    flow = scope.get(Flow, instance.flow_id, "flow")
    task = scope.session.scalars(scope.select(
        FlowTask, FlowTask.instance_id == instance.id,
        FlowTask.number == timer.task_number)).first()
    node_key = task.node if task is not None else ""
    definition = flow_service.version_row(scope, flow, instance.flow_version).definition
    node = next((n for n in definition.get("nodes", []) if n.get("key") == node_key), {})
    return {"id": timer.id, "due_at": timer.due_at, "overdue": timer.due_at <= utcnow(),
            "instance": instance.id, "record": instance.record_id,
            "form": scope.get(Form, instance.form_id, "form").key, "flow": flow.key,
            "node": node_key, "task": task.id if task is not None else None,
            "assignee": task.assignee_id if task is not None else None,
            "on_timeout": (node.get("time_limit") or {}).get("on_timeout", "remind")}
