"""Derived values that change as days pass, kept current whenever they are read.

A formula that uses `today()` or `now()` (days since the last purchase), one that reads
such a value (the R score), and a related rollup whose filter has a relative date (the
purchases of the last 365 days) are *dated*: stored with their record like any computed
field — so lists filter and sort on them — but only right for the day they were worked
out. Each form keeps that day (`Form.dated_as_of`, in the tenant's zone). The first read
of a form's records on a new day (`ensure_current`, called by `operations.listing`, so
every page, the API, exports and searches) and the ticker (`refresh_dated_forms`, so it
normally happens just after midnight, before anyone reads) work its records out again,
store what changed, update what rolls them up (`derived.refresh_related`) and announce
each change as `recomputed`, so rules watching those fields fire: "R score fell to 1".

A value that uses `now()` is as of the day's refresh when lists filter on it, and current
on every write of its record.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask
from sqlalchemy import select, update

from crm_platform.db import database, try_write_first, utcnow, write_first
from crm_platform.models import Form, Record, Tenant
from crm_platform.scoping import TenantScope
from crm_platform.services.forms import definitions as form_service
from crm_platform.services.records import changes as record_changes
from crm_platform.services.records.derived import Page, refresh_related
from crm_platform.services.storage.filters import RELATIVE
from crm_platform.services.storage.json_values import json_ready
from form_engine.compiled import CompiledForm

BATCH = 500
CLOCK_FUNCTIONS = frozenset({"today", "now"})
_REFRESHING = "loom.dated_refreshing"   # session.info: forms being worked out right now
log = logging.getLogger(__name__)


def dated_keys(compiled: CompiledForm) -> frozenset[str]:
    """The keys of the form's computed fields whose value depends on the date."""
    dated: set[str] = set()
    for item in compiled.computed:            # in dependency order
        if item.type == "formula" and item.formula is not None:
            if CLOCK_FUNCTIONS & set(item.formula.functions) or dated & set(
                    item.formula.names):
                dated.add(item.key)
        elif item.type == "rollup" and _relative(item.spec.get("related", {}).get("filter")):
            dated.add(item.key)
    return frozenset(dated)


def _relative(node: Any) -> bool:
    if isinstance(node, dict):
        if node.get("op") in RELATIVE:
            return True
        return any(_relative(child) for key in ("and", "or")
                   for child in (node.get(key) if isinstance(node.get(key), list) else []))
    return False


def today_of(scope: TenantScope, now: datetime | None = None) -> date:
    """The tenant's day, now or at `now`."""
    return (now or utcnow()).astimezone(form_service.type_env(scope).timezone).date()


def ensure_current(scope: TenantScope, form: Form, now: datetime | None = None) -> None:
    """Before `form`'s records are read: if their dated values were worked out for
    another day, work them out for today. A reader does not wait long for this: when
    another transaction is doing it already (or, on SQLite, holds the database for more
    than two seconds), or it fails, the read goes on with the values as they are, and
    the ticker catches up within a tick."""
    as_of = form.dated_as_of
    if as_of is None or form.published_version is None:
        return
    today = today_of(scope, now)
    if as_of == today or form.id in scope.session.info.get(_REFRESHING, ()):
        return
    if not dated_keys(form_service.compiled(scope, form_service.published_row(scope, form))):
        return    # nothing to work out: the ticker notes that, no reader need write
    if not try_write_first(scope.session):
        return
    try:
        with scope.session.begin_nested():
            _refresh(scope, form.id, today, now, wait=False)
    except Exception:   # a reader gets yesterday's values rather than an error
        log.exception("dated values of form %s: not worked out for %s", form.id, today)
        scope.session.expire(form)


def _refresh(scope: TenantScope, form_id: int, today: date, now: datetime | None = None,
             wait: bool = True) -> bool:
    """Whether the form has dated values (worked out now, unless already today's).
    The form's row is locked first (`wait=False`: unless another holds it — then leave
    it to them), so two never do it at once."""
    form = scope.session.scalars(scope.select(Form, Form.id == form_id).with_for_update(
        skip_locked=not wait).execution_options(populate_existing=True)).first()
    if form is None or form.dated_as_of in (None, today) or form.published_version is None:
        return False
    compiled = form_service.compiled(scope, form_service.published_row(scope, form))
    dated = dated_keys(compiled)
    refreshing = scope.session.info.setdefault(_REFRESHING, set())
    refreshing.add(form.id)    # a rule reading this form meanwhile must not start again
    try:
        if dated:
            refresh_records(scope, form, dated, now)
    finally:
        refreshing.discard(form.id)
    # a Core update: the draft's "last changed" time must not move (builder conflicts)
    scope.session.execute(scope.filter(update(Form), Form).where(Form.id == form.id).values(
        dated_as_of=today if dated else None, draft_updated_at=Form.draft_updated_at))
    scope.session.expire(form, ["dated_as_of"])
    return bool(dated)


def refresh_records(scope: TenantScope, form: Form, dated: frozenset[str],
                    now: datetime | None = None) -> int:
    """Work out every live record's computed fields again (for `now`), page by page;
    store and announce those whose dated values changed. Returns how many changed."""
    changed = 0
    last = 0
    while True:
        page = list(scope.session.scalars(scope.select(
            Record, Record.form_id == form.id, Record.deleted_at.is_(None),
            Record.id > last).order_by(Record.id).limit(BATCH).with_for_update()
            .execution_options(populate_existing=True)))
        refreshed = []
        worked_out = Page(scope, form, [record.id for record in page], now)
        for record in page:
            before = record.data
            derived = json_ready(worked_out.recomputed(record))
            if any(before.get(key) != derived.get(key) for key in dated if key in derived):
                record.data = {**before, **derived}
                refreshed.append((record, before))
        scope.session.flush()
        if refreshed:
            refresh_related(scope, form, [(before, record.data)
                                          for record, before in refreshed], now=now)
            record_changes.announce_recomputed(scope, form, refreshed)
        changed += len(refreshed)
        if len(page) < BATCH:
            return changed
        last = page[-1].id


def refresh_dated_forms(app: Flask, now: datetime | None = None) -> int:
    """The ticker's part: every form whose dated values are not yet today's (in its
    tenant's zone; `now`: another moment's), each in its own transaction. Returns how
    many forms with dated values it worked out."""
    db = database(app)
    with db.transaction() as session:   # a system scan over every tenant's forms
        forms = session.execute(select(Form.tenant_id, Form.id, Form.dated_as_of).where(
            Form.dated_as_of.is_not(None), Form.published_version.is_not(None))
            .order_by(Form.tenant_id, Form.id)).all()
        zones = dict(session.execute(select(Tenant.id, Tenant.timezone).where(
            Tenant.id.in_({tenant for tenant, _form, _day in forms}))).all())
    now = now or utcnow()
    refreshed = 0
    for tenant_id, form_id, as_of in forms:
        today = now.astimezone(ZoneInfo(zones[tenant_id])).date()
        if as_of == today:
            continue
        try:
            with db.transaction() as session:
                write_first(session)
                refreshed += _refresh(TenantScope(session, tenant_id), form_id, today, now)
        except Exception:   # one form's failure must not hold up every other tenant's
            log.exception("dated values of form %s: not worked out for %s", form_id, today)
    return refreshed


__all__ = ["dated_keys", "ensure_current", "refresh_dated_forms",
           "refresh_records"]
