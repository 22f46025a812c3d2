"""My notifications: the in-app messages flows and automation rules leave for a user (a
task for me, the outcome of my request, a rule's message), listed and marked read."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select

from crm_platform.auth.principal import Principal
from crm_platform.db import utcnow
from crm_platform.models import App, Form, Notification, Record
from crm_platform.scoping import TenantScope
from crm_platform.services.records.access import access_to_forms, may_read
from crm_platform.services.workspace.records import RecordEntry, titled

LATEST = 50


@dataclass(frozen=True)
class NotificationEntry:
    id: int
    kind: str
    payload: dict[str, Any]
    created_at: datetime
    read: bool
    record: RecordEntry | None  # None when the reader may no longer read it


def notifications_query(scope: TenantScope, actor: Principal, unread: bool
                        ) -> Select[tuple[Notification]]:
    statement = scope.select(Notification, Notification.user_id == actor.user_id)
    return statement.where(Notification.read_at.is_(None)) if unread else statement


def latest(scope: TenantScope, actor: Principal, limit: int = LATEST
           ) -> list[NotificationEntry]:
    """My newest notifications, each with the record it is about when I may read it."""
    rows = scope.session.execute(
        notifications_query(scope, actor, unread=False).add_columns(Record, Form, App)
        .outerjoin(Record, (Record.tenant_id == Notification.tenant_id)
                   & (Record.id == Notification.record_id) & Record.deleted_at.is_(None))
        .outerjoin(Form, (Form.tenant_id == Record.tenant_id) & (Form.id == Record.form_id))
        .outerjoin(App, (App.tenant_id == Form.tenant_id) & (App.id == Form.app_id))
        .order_by(Notification.id.desc()).limit(limit)).all()
    access = access_to_forms(scope, actor, [form.id for _n, _r, form, _a in rows if form])
    readable = [(record, form, app) for _n, record, form, app in rows
                if record is not None and may_read(scope, actor, access[form.id], record)]
    entries = titled(scope, readable, {key: item.hidden for key, item in access.items()})
    return [NotificationEntry(note.id, note.kind, dict(note.payload or {}), note.created_at,
                              note.read_at is not None,
                              entries.get(record.id) if record is not None else None)
            for note, record, _form, _app in rows]


def mark_read(scope: TenantScope, actor: Principal, ids: Sequence[int] | None) -> int:
    """Mark these of my notifications read (None: all of them); how many were unread."""
    statement = notifications_query(scope, actor, unread=True)
    if ids is not None:
        statement = statement.where(Notification.id.in_(list(ids)))
    rows = scope.session.scalars(statement).all()
    for row in rows:
        row.read_at = utcnow()
    return len(rows)
