"""The start of a user's day: my apps and the forms in them I may read, my pending
approval tasks, the records I changed lately, my unread notifications."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func

from crm_platform.auth.principal import Principal
from crm_platform.models import App, FlowInstance, FlowTask, Form, Notification, Record
from crm_platform.scoping import TenantScope
from crm_platform.services.flows.approvals import inbox_query
from crm_platform.services.records.access import (
    access_to_forms,
    hidden_from_any_role,
    may_read,
)
from crm_platform.services.workspace.notifications import notifications_query
from crm_platform.services.workspace.records import RecordEntry, titled

RECENT = 10
TASKS = 10


@dataclass(frozen=True)
class FormEntry:
    id: int
    key: str
    label: Any  # {en, zh} or text, as the designer wrote it


@dataclass(frozen=True)
class AppEntry:
    key: str
    name: str
    forms: tuple[FormEntry, ...]
    drafts: tuple[FormEntry, ...] = ()  # never published: designers build them


@dataclass(frozen=True)
class TaskEntry:
    id: int
    node: str
    created_at: datetime
    due_at: datetime | None
    record: RecordEntry


def my_apps(scope: TenantScope, actor: Principal) -> list[AppEntry]:
    """The tenant's apps with their published forms the caller may read; an app with
    none of those is left out (designers see every app: they build the empty ones)."""
    apps = list(scope.session.scalars(scope.select(App).order_by(App.name, App.id)))
    designer = actor.is_tenant_admin or actor.has_role("designer")
    forms = list(scope.session.scalars(scope.select(Form).order_by(Form.id) if designer else
                                       scope.select(Form, Form.published_version.is_not(None))
                                       .order_by(Form.id)))
    published = [form for form in forms if form.published_version]
    access = access_to_forms(scope, actor, [form.id for form in published])
    by_app: dict[int, list[FormEntry]] = {}
    drafts: dict[int, list[FormEntry]] = {}
    for form in forms:
        entry = FormEntry(form.id, form.key, form.draft.get("label") or form.key)
        if not form.published_version:
            drafts.setdefault(form.app_id, []).append(entry)
        elif access[form.id].read != "none" or access[form.id].pool:
            by_app.setdefault(form.app_id, []).append(entry)
    return [AppEntry(app.key, app.name, tuple(by_app.get(app.id, ())),
                     tuple(drafts.get(app.id, ())))
            for app in apps if designer or by_app.get(app.id)]


def recent_records(scope: TenantScope, actor: Principal, limit: int = RECENT
                   ) -> list[RecordEntry]:
    """The records I changed last, newest first — those I may still read."""
    rows = scope.session.execute(scope.filter(scope.select(
        Record, Record.updated_by_id == actor.user_id, Record.deleted_at.is_(None))
        .add_columns(Form, App)
        .join(Form, (Form.tenant_id == Record.tenant_id) & (Form.id == Record.form_id))
        .join(App, (App.tenant_id == Form.tenant_id) & (App.id == Form.app_id))
        .order_by(Record.updated_at.desc(), Record.id.desc()).limit(limit * 3), Form)
    ).all()
    access = access_to_forms(scope, actor, [form.id for _r, form, _a in rows])
    readable = [(record, form, app) for record, form, app in rows
                if may_read(scope, actor, access[form.id], record)][:limit]
    return list(titled(scope, readable, {form_id: item.hidden
                                          for form_id, item in access.items()}).values())


def pending_tasks(scope: TenantScope, actor: Principal, limit: int = TASKS
                  ) -> list[TaskEntry]:
    """My approval tasks waiting for me, oldest first (the inbox's order)."""
    rows = scope.session.execute(scope.filter(
        inbox_query(scope, actor, "pending")
        .add_columns(Record, Form, App)
        .join(FlowInstance, (FlowInstance.tenant_id == FlowTask.tenant_id)
              & (FlowInstance.id == FlowTask.instance_id))
        .join(Record, (Record.tenant_id == FlowInstance.tenant_id)
              & (Record.id == FlowInstance.record_id))
        .join(Form, (Form.tenant_id == Record.tenant_id) & (Form.id == Record.form_id))
        .join(App, (App.tenant_id == Form.tenant_id) & (App.id == Form.app_id))
        .order_by(FlowTask.created_at, FlowTask.id).limit(limit), Record)).all()
    # An approver may have no role on the form: the title shows no field any role hides.
    hidden = {form.id: hidden_from_any_role(scope, form) for _t, _r, form, _a in rows}
    entries = titled(scope, [(record, form, app) for _t, record, form, app in rows], hidden)
    return [TaskEntry(task.id, task.node, task.created_at, task.due_at, entries[record.id])
            for task, record, _form, _app in rows]


def unread_count(scope: TenantScope, actor: Principal, cap: int = 99) -> int:
    """How many notifications I have not read, counted up to `cap` (the bell shows 99+)."""
    capped = notifications_query(scope, actor, unread=True).with_only_columns(
        Notification.id).limit(cap + 1).subquery()
    return scope.session.scalar(func.count().select().select_from(capped)) or 0
