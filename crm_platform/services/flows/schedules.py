"""Scheduled automation rules, checked by every tick (DESIGN §5):

- `schedule` — at each time of a cron expression, in the tenant's time zone, for every
  record its condition holds for (only occurrences after the rule was published);
- `date_relative` — `days` after (or, negative, before) a date field, a date formula or
  a rollup of the latest date of related records (all stored with the record, the rollup
  kept current as those records change): 30 days before `maintenance_due`, 30 days after
  `last_follow_up`;
- `time_in_state` — a record has had `field` = `value` for `days`: 15 days in `quote`
  (counted from the change that set it, found in the history, else from its creation).

Each firing is a row keyed by rule, record and occurrence (the cron time, the date, the
moment the state was entered), so it happens once whichever worker ticks, and again only
when the occurrence changes (a new follow-up date, a new stay in the state).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, tzinfo
from decimal import Decimal
from typing import Any

from croniter import croniter
from flask import Flask
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from crm_platform.auth.principal import Principal
from crm_platform.db import database, utcnow, write_first
from crm_platform.models import AutomationRun, Flow, FlowVersion, Form, Record, RecordHistory
from crm_platform.scoping import TenantScope
from crm_platform.services.flows.automations import fire
from crm_platform.services.forms import definitions as form_service
from crm_platform.services.records.dated import ensure_current
from crm_platform.services.storage.data_fields import data_field
from form_engine.expressions import EvaluationContext, Evaluator
from form_engine.validation import stored_values
from workflow_engine.automations import SCHEDULED, holds

BATCH = 1000   # records read at a time, per rule and tick


def run_scheduled_rules(app: Flask, now: datetime | None = None) -> int:
    """Fire what is due; returns how many (rule, record) firings happened."""
    now = now or utcnow()
    db = database(app)
    with db.transaction() as session:   # a system scan over every tenant's rules
        rules = session.execute(select(
            Flow.id, Flow.tenant_id, Flow.form_id, FlowVersion.definition,
            FlowVersion.published_at).join(
            FlowVersion, (FlowVersion.flow_id == Flow.id)
            & (FlowVersion.version == Flow.published_version)).where(
            Flow.kind == "automation")).all()
    fired = 0
    for flow_id, tenant_id, form_id, definition, published_at in rules:
        if definition["trigger"]["on"] not in SCHEDULED or definition.get("enabled") is False:
            continue
        with db.transaction() as session:
            fired += _run(TenantScope(session, tenant_id), flow_id, form_id, definition,
                          published_at, now)
    return fired


def _run(scope: TenantScope, flow_id: int, form_id: int, definition: dict[str, Any],
         published_at: datetime, now: datetime) -> int:
    form = scope.find(Form, form_id)
    if form is None or form.published_version is None:
        return 0
    ensure_current(scope, form, now)   # conditions read date-dependent values: today's
    compiled = form_service.compiled(scope, form_service.version_row(scope, form))
    live = scope.select(Record, Record.form_id == form.id, Record.deleted_at.is_(None))
    zone = form_service.type_env(scope).timezone
    trigger, today = definition["trigger"], now.astimezone(zone).date()
    if trigger["on"] == "schedule" and _cron_time(trigger, now, zone) < published_at:
        return 0   # nothing is due since the rule was published
    return _fire_due(scope, flow_id, form, compiled, definition, now,
                     _candidates(scope, live, trigger, today, now, zone))


def _candidates(scope: TenantScope, live: Any, trigger: dict[str, Any], today: date,
                now: datetime, zone: tzinfo) -> Iterator[tuple[Record, str]]:
    """Each record the trigger may be due for, with its occurrence: every one of the
    form, page by page (`BATCH` at a time), however many there are."""
    if trigger["on"] == "schedule":
        occurrence = _cron_time(trigger, now, zone).isoformat()
        for record in _pages(scope, live):
            yield record, occurrence
    elif trigger["on"] == "date_relative":
        cutoff = (today - timedelta(days=trigger["days"])).isoformat()
        field = data_field(trigger["field"], "text")
        for record in _pages(scope, live.where(field.is_not(None), field <= cutoff + "~")):
            if _day(record.data.get(trigger["field"])) <= date.fromisoformat(cutoff):
                yield record, str(record.data.get(trigger["field"]))
    else:  # time_in_state
        value = trigger["value"]
        kind = ("boolean" if isinstance(value, bool) else "number"
                if isinstance(value, int | float | Decimal) else "text")
        for record in _pages(scope, live.where(data_field(trigger["field"], kind) == value)):
            entered = _entered(scope, record, trigger["field"], value)
            if entered <= now - timedelta(days=trigger["days"]):
                yield record, entered.isoformat()


def _cron_time(trigger: dict[str, Any], now: datetime, zone: tzinfo = UTC) -> datetime:
    """The schedule's latest time at or before now — its hours are the tenant's (`zone`:
    "0 9 * * *" is nine in the morning where they are) — in UTC."""
    occurrence = croniter(trigger["cron"], now.astimezone(zone)).get_prev(datetime)
    if occurrence.tzinfo is None:
        occurrence = occurrence.replace(tzinfo=zone)
    return occurrence.astimezone(UTC)


def _pages(scope: TenantScope, statement: Any) -> Iterator[Record]:
    """The statement's records in id order, a page at a time (keyset: a firing that
    changes a record does not move it to another page)."""
    last = 0
    while True:
        page = list(scope.session.scalars(statement.where(Record.id > last)
                                          .order_by(Record.id).limit(BATCH)))
        yield from page
        if len(page) < BATCH:
            return
        last = page[-1].id


def _fire_due(scope: TenantScope, flow_id: int, form: Form, compiled: Any,
              definition: dict[str, Any], now: datetime,
              candidates: Iterator[tuple[Record, str]]) -> int:
    system = Principal.console(scope.tenant_id)
    evaluator = Evaluator(EvaluationContext(lambda: now,
                                            timezone=form_service.type_env(scope).timezone))
    fired = 0
    for record, occurrence in candidates:
        values = stored_values(compiled, record.data)
        if not holds(definition, None, values, now, evaluator):
            continue
        try:
            write_first(scope.session)  # SQLite: a first savepoint would commit on release
            with scope.session.begin_nested():
                scope.add(AutomationRun(flow_id=flow_id, record_id=record.id,
                                        occurrence=occurrence[:64]))
        except IntegrityError:
            continue   # fired for this occurrence already
        fire(scope, system, form, record, definition, definition["trigger"]["on"],
             occurrence=occurrence)
        fired += 1
    return fired


def _day(value: Any) -> date:
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return date.max


def _entered(scope: TenantScope, record: Record, field: str, value: Any) -> datetime:
    """When `field` last became `value` (the history's newest change to it)."""
    entries = scope.session.scalars(scope.select(
        RecordHistory, RecordHistory.record_id == record.id).order_by(
        RecordHistory.id.desc()).limit(200))
    for entry in entries:
        change = (entry.changes or {}).get(field)
        if isinstance(change, list) and len(change) == 2 and change[1] == value:
            return entry.at
    return record.created_at
