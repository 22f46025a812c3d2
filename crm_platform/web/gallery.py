"""The template gallery: the shipped templates as cards, what each holds, installing one
(with or without its sample records) or a bundle file from another Loom, exporting an app
as a file, and upgrading an installed app — the conflicts of the three-way merge shown
with both values and resolved on the page. The same services as the API and the CLI;
designers may look, administrators install and upgrade."""

from __future__ import annotations

import json
from typing import Any

from flask import Response, flash, redirect, render_template, request, url_for

from crm_platform.auth.principal import Principal
from crm_platform.db import write_from_here
from crm_platform.errors import LoomError
from crm_platform.i18n import render_error
from crm_platform.scoping import TenantScope
from crm_platform.services.forms.apps import app_by_key
from crm_platform.services.templates import gallery
from crm_platform.services.templates import upgrade as upgrades
from crm_platform.services.templates.checks import parsed
from crm_platform.services.templates.export import export_app, installed
from crm_platform.services.templates.tasks import start_install, task_of
from crm_platform.web import web
from crm_platform.web.design_fields import type_name
from crm_platform.web.signed_in import signed_in
from crm_platform.web.strings import ui_text
from templates_gallery.bundles import SCREENSHOTS_DIR, dump_bundle
from templates_gallery.merge import MINE, THEIRS
from templates_gallery.schema import MAX_BUNDLE_BYTES


def _installed_apps(scope: TenantScope) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for app, row in gallery.installs(scope):
        found.setdefault(row.template_key, []).append(
            {"app": app, "version": row.version, "pending": row.pending is not None})
    return found


@web.get("/templates")
@signed_in
def template_gallery(principal: Principal, scope: TenantScope):
    principal.require_designer()
    cards = [gallery.summary(bundle) for bundle in gallery.templates().values()]
    return render_template("gallery/index.html", cards=cards,
                           installs=_installed_apps(scope),
                           admin=principal.is_tenant_admin)


@web.get("/templates/<key>")
@signed_in
def template_detail(principal: Principal, scope: TenantScope, key: str):
    principal.require_designer()
    return _detail(principal, scope, key, None, {}, 200)


def _detail(principal: Principal, scope: TenantScope, key: str, error: Any, values: Any,
            status: int):
    bundle = gallery.template(key)
    return render_template(
        "gallery/detail.html", item=gallery.summary(bundle), contents=gallery.contents(bundle),
        installs=_installed_apps(scope).get(key, []), admin=principal.is_tenant_admin,
        error=error, values=values,
        type_name=lambda kind: type_name(kind, principal.locale)), status


@web.get("/templates/screenshots/<name>")
@signed_in
def template_screenshot(principal: Principal, scope: TenantScope, name: str):
    from flask import send_from_directory

    return send_from_directory(SCREENSHOTS_DIR, name, max_age=3600)


@web.post("/templates/<key>/install")
@signed_in
def template_install(principal: Principal, scope: TenantScope, key: str):
    try:
        task = start_install(scope, principal, template_key=key,
                             app_key=request.form.get("app", "").strip() or None,
                             sample_data=request.form.get("sample_data") == "on")
    except LoomError as error:
        scope.session.rollback()
        return _detail(principal, scope, key, render_error(error, principal.locale),
                       request.form, error.status if error.status in (403, 404) else 422)
    return redirect(url_for("web.template_task", task_id=task.id))


@web.route("/templates/file", methods=["GET", "POST"])
@signed_in
def template_file(principal: Principal, scope: TenantScope):
    principal.require_tenant_admin()
    error = None
    if request.method == "POST":
        request.max_content_length = MAX_BUNDLE_BYTES + 64 * 1024   # the file and its form
        upload = request.files.get("file")
        try:
            if upload is None or not upload.filename:
                raise LoomError("file_required").with_status(422)
            task = start_install(scope, principal, document=parsed(upload.read()),
                                 app_key=request.form.get("app", "").strip() or None,
                                 sample_data=request.form.get("sample_data") == "on")
        except LoomError as problem:
            scope.session.rollback()
            error = render_error(problem, principal.locale)
        else:
            return redirect(url_for("web.template_task", task_id=task.id))
    return render_template("gallery/file.html", error=error, values=request.form), (
        422 if error else 200)


@web.get("/templates/tasks/<int:task_id>")
@signed_in
def template_task(principal: Principal, scope: TenantScope, task_id: int):
    """An install as it runs: the page asks again every second until it is done, and
    can be left and come back to."""
    task = task_of(scope, principal, task_id)
    name = gallery.template(task.template_key)["manifest"]["name"] if task.template_key \
        else None
    return render_template("gallery/task.html", task=task, name=name)


@web.get("/apps/<app>/export")
@signed_in
def app_export(principal: Principal, scope: TenantScope, app: str):
    bundle = export_app(scope, principal, app_by_key(scope, app),
                        sample_data=request.args.get("records") == "1")
    return Response(dump_bundle(bundle), mimetype="application/json", headers={
        "Content-Disposition":
            f'attachment; filename="{app}-{bundle["manifest"]["version"]}.loom.json"'})


@web.get("/apps/<app>/upgrade")
@signed_in
def app_upgrade(principal: Principal, scope: TenantScope, app: str):
    principal.require_tenant_admin()
    return _upgrade_page(principal, scope, app, {}, None)


def _upgrade_page(principal: Principal, scope: TenantScope, app: str,
                  chosen: dict[str, str], error: Any, status: int = 200):
    row = app_by_key(scope, app)
    origin = installed(scope, row)
    plan = None
    if origin is not None and origin.pending is not None:
        try:
            plan = upgrades.pending_plan(scope, principal, row)
        except LoomError as problem:   # e.g. a draft saved since: say so, keep the offer
            error = error or render_error(problem, principal.locale)
    shipped = gallery.templates().get(origin.template_key) if origin else None
    newer = shipped is not None and origin is not None and upgrades.version_tuple(
        shipped["manifest"]["version"]) > upgrades.version_tuple(origin.version)
    return render_template("gallery/upgrade.html", app_row=row, origin=origin, plan=plan,
                           shipped=shipped if newer else None, chosen=chosen,
                           error=error, shown=_shown), status


def _shown(value: Any) -> str:
    """A conflict's value as the page shows it: text as it is, anything else as JSON."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False,
                                                           default=str)


@web.post("/apps/<app>/upgrade/offer")
@signed_in
def app_upgrade_offer(principal: Principal, scope: TenantScope, app: str):
    principal.require_tenant_admin()
    write_from_here(scope.session)
    row = app_by_key(scope, app)
    request.max_content_length = MAX_BUNDLE_BYTES + 64 * 1024
    try:
        upload = request.files.get("file")
        if upload is not None and upload.filename:
            document = parsed(upload.read())
        else:
            origin = installed(scope, row)
            document = gallery.template(origin.template_key if origin else "")
        with scope.session.begin_nested():
            upgrades.offer_upgrade(scope, principal, row, document)
    except LoomError as problem:
        return _upgrade_page(principal, scope, app, {},
                             render_error(problem, principal.locale), 422)
    return redirect(url_for("web.app_upgrade", app=app))


@web.post("/apps/<app>/upgrade/apply")
@signed_in
def app_upgrade_apply(principal: Principal, scope: TenantScope, app: str):
    principal.require_tenant_admin()
    write_from_here(scope.session)
    row = app_by_key(scope, app)
    chosen = {name[len("conflict:"):]: value for name, value in request.form.items()
              if name.startswith("conflict:") and value in (MINE, THEIRS)}
    try:
        plan = upgrades.apply_pending(scope, principal, row, chosen,
                                      request.form.get("token", ""))
    except LoomError as problem:
        scope.session.rollback()
        return _upgrade_page(principal, scope, app, chosen,
                             render_error(problem, principal.locale), 409)
    flash(ui_text("gallery_upgraded", principal.locale, app=app,
                  version=plan.theirs["manifest"]["version"]), "done")
    return redirect(url_for("web.template_gallery"))


@web.post("/apps/<app>/upgrade/cancel")
@signed_in
def app_upgrade_cancel(principal: Principal, scope: TenantScope, app: str):
    write_from_here(scope.session)
    upgrades.cancel_pending(scope, principal, app_by_key(scope, app))
    return redirect(url_for("web.app_upgrade", app=app))
