"""Installs asked for on the gallery page run as jobs: a template with its sample records
is a few seconds of work, and the page that asked follows it (and may be left and come
back to) instead of waiting on one long request.

A file is checked when it is sent, so a bad one is refused on the page at once; the job
installs it (checking again, as every install does) in one transaction of its own. A
refusal there — a sample record the form refuses, an app key taken meanwhile — is kept
with the task as the error body, in the asker's language; nothing is left behind.
"""

from __future__ import annotations

from typing import Any

from flask import Flask

from crm_platform.auth.login import principal_for
from crm_platform.auth.principal import Principal
from crm_platform.db import database, write_first
from crm_platform.errors import LoomError, NotFound
from crm_platform.i18n import render_error
from crm_platform.jobs import enqueue_after_commit
from crm_platform.models import TemplateTask, User
from crm_platform.scoping import TenantScope
from crm_platform.services.forms import definitions as form_service
from crm_platform.services.templates import gallery
from crm_platform.services.templates.checks import checked_bundle
from crm_platform.services.templates.install import install_bundle


def start_install(scope: TenantScope, actor: Principal, *, template_key: str | None = None,
                  document: Any = None, app_key: str | None = None,
                  sample_data: bool = True) -> TemplateTask:
    """The task, and its job queued once the caller's transaction commits."""
    actor.require_tenant_admin()
    if document is not None:
        checked_bundle(document, actor.locale, form_service.type_env(scope))
    else:
        gallery.template(template_key or "")
    task = scope.add(TemplateTask(
        requested_by_id=actor.user_id, template_key=template_key, bundle=document,
        app_key=app_key, sample_data=sample_data, locale=actor.locale, status="queued"))
    scope.session.flush()
    enqueue_after_commit(scope.session, "install_template", scope.tenant_id, task.id,
                         tenant_id=scope.tenant_id)
    return task


def task_of(scope: TenantScope, actor: Principal, task_id: Any) -> TemplateTask:
    """The caller's own task (an administrator's: any of the tenant's)."""
    task = scope.find(TemplateTask, task_id)
    if task is None or not (task.requested_by_id == actor.user_id or actor.is_tenant_admin):
        raise NotFound("resource_not_found", resource="task", id=str(task_id))
    return task


def install_job(app: Flask, tenant_id: int, task_id: int) -> None:
    """The job: the install, or the refusal kept with the task."""
    db = database(app)
    with db.transaction() as session:
        task = TenantScope(session, tenant_id).find(TemplateTask, task_id)
        if task is None or task.status not in ("queued", "running"):
            return   # done already (a second delivery of the job)
        task.status = "running"
        locale = task.locale
    try:
        with db.transaction() as session:
            write_first(session)
            scope = TenantScope(session, tenant_id)
            task = scope.find(TemplateTask, task_id)
            assert task is not None
            asker = scope.find(User, task.requested_by_id)
            if asker is None or not asker.is_active:
                raise LoomError("forbidden").with_status(403)
            actor = principal_for(session, asker, "session")
            document = task.bundle if task.bundle is not None else gallery.shipped_file(
                task.template_key or "")
            made = install_bundle(scope, actor, document, sample_data=task.sample_data,
                                  app_key=task.app_key)
            own = document["forms"][0]["key"]   # retail's members, not the core's customers
            task.status, task.result, task.bundle = "done", {"app": made.key, "form": own}, None
    except LoomError as error:
        _finish(db, tenant_id, task_id, render_error(error, locale))


def install_job_failed(app: Flask, reason: str, tenant_id: int, task_id: int) -> None:
    """Every attempt of the job failed (its worker died, the database was gone)."""
    with database(app).transaction() as session:
        task = TenantScope(session, tenant_id).find(TemplateTask, task_id)
        locale = task.locale if task is not None else "en"
    _finish(database(app), tenant_id, task_id,
            {**render_error(LoomError("template_job_lost"), locale), "detail": reason[:200]})


def _finish(db: Any, tenant_id: int, task_id: int, error: dict[str, Any]) -> None:
    with db.transaction() as session:
        task = TenantScope(session, tenant_id).find(TemplateTask, task_id)
        if task is not None and task.status in ("queued", "running"):
            task.status, task.result = "failed", error
