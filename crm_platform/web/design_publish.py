"""Publishing a form from the builder: what the draft changes, in plain words and with what
it does to the records there are ("Phone becomes required — 37 records have no phone");
for each change that would break records, the choices the engine supports (discard the
values, a default, convert, map removed options to others). Publishing is refused until
each is answered, and says why. And the published versions: who published each and when,
the difference between any two, any of them restored as a new draft; and the form's
permissions, role by role."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import flash, redirect, render_template, request, url_for

from crm_platform.auth.principal import Principal
from crm_platform.errors import LoomError
from crm_platform.http_errors import error_text
from crm_platform.models import FormVersion, User
from crm_platform.scoping import TenantScope
from crm_platform.services.forms.definitions import (
    publish_form_version,
    publish_plan,
    version_row,
    versions_query,
)
from crm_platform.services.forms.design import edit_draft
from crm_platform.services.forms.permissions import permissions_of, set_permissions
from crm_platform.services.identity.roles import role_choices
from crm_platform.services.imports.wizard import after_publish
from crm_platform.services.records.access import SCOPES
from crm_platform.web import web
from crm_platform.web.design import designed_form
from crm_platform.web.design_fields import Unreadable, default_value, type_name
from crm_platform.web.signed_in import signed_in
from crm_platform.web.strings import UI, ui_text
from form_engine.messages import label_text
from form_engine.versions import PublishPlan, diff_definitions


@web.route("/apps/<app>/<form>/design/publish", methods=["GET", "POST"])
@signed_in
def design_publish(principal: Principal, scope: TenantScope, app: str, form: str):
    row = designed_form(scope, principal, app, form)
    locale = principal.locale
    migrations: dict[str, Any] = {}
    try:
        migrations = _migrations(request.form, row.draft) if request.method == "POST" else {}
    except Unreadable:
        flash(ui_text("design_default_unreadable", locale), "error")
    plan, previous = publish_plan(scope, principal, row, migrations)
    if request.method == "POST" and not plan.problems and request.form.get("confirm"):
        try:
            with scope.session.begin_nested():
                version = publish_form_version(scope, principal, row, migrations)
        except LoomError as error:
            flash(error_text(error, locale), "error")
        else:
            flash(ui_text("design_published", locale, version=version.version), "done")
            waiting = after_publish(scope, principal, row)
            if waiting is not None:   # the spreadsheet the form was made from: import it
                return redirect(url_for("web.import_mapping", draft_id=waiting.id))
            return redirect(url_for("web.record_list", app=app, form=form))
    status = 409 if request.method == "POST" and plan.problems else 200
    return render_template(
        "design/publish.html", app_key=app, form_row=row, plan=plan,
        changes=_sentences(plan, previous or {"fields": []}, row.draft, locale),
        choices=_choices(plan, previous or {"fields": []}, row.draft, locale),
        migrations=migrations, first=previous is None), status


@web.get("/apps/<app>/<form>/design/versions")
@signed_in
def design_versions(principal: Principal, scope: TenantScope, app: str, form: str):
    """Who published what and when; the difference between any two versions; any version
    restored as a new draft."""
    row = designed_form(scope, principal, app, form)
    versions = list(scope.session.scalars(versions_query(scope, row).order_by(
        FormVersion.version.desc())))
    names = dict(scope.session.execute(scope.select(User).with_only_columns(
        User.id, User.name).where(User.id.in_({version.published_by_id for version in versions
                                               if version.published_by_id}))).all())
    by_number = {version.version: version for version in versions}
    older = by_number.get(request.args.get("from", type=int))
    newer = by_number.get(request.args.get("to", type=int))
    compared = None
    if older is not None and newer is not None:
        plan = PublishPlan(diff_definitions(older.definition, newer.definition), {}, [])
        compared = _sentences(plan, older.definition, newer.definition, principal.locale,
                              with_records=False)
    return render_template("design/versions.html", app_key=app, form_row=row,
                           versions=versions, names=names, older=older, newer=newer,
                           compared=compared)


@web.post("/apps/<app>/<form>/design/versions/<int:number>/restore")
@signed_in
def design_restore(principal: Principal, scope: TenantScope, app: str, form: str,
                   number: int):
    """A published version becomes the draft again — a step like any, so undo takes it
    back; publishing it makes a new version."""
    row = designed_form(scope, principal, app, form)
    version = version_row(scope, row, number)
    with scope.session.begin_nested():
        edit_draft(scope, principal, row, None, lambda _draft: dict(version.definition))
    flash(ui_text("design_restored", principal.locale, version=number), "done")
    return redirect(url_for("web.design_page", app=app, form=form))


def _labels(*definitions: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    found: dict[str, Mapping[str, Any]] = {}
    for definition in definitions:
        found.update({item["key"]: item for item in definition.get("fields", [])})
    return found


def _sentences(plan: PublishPlan, old: Mapping[str, Any], new: Mapping[str, Any],
               locale: str, with_records: bool = True) -> list[str]:
    """The diff in plain words, each with what it does to the records (`with_records`:
    a publish; between two published versions, the change alone)."""
    fields = _labels(old, new)
    impact = plan.impact.get("fields", {})

    def name(key: str) -> str:
        item = fields.get(key, {})
        return label_text(item.get("label"), locale) or key

    def say(code: str, **params: Any) -> str:
        if not with_records and f"{code}_alone" in UI:
            code = f"{code}_alone"
        return ui_text(code, locale, **params)

    diff, lines = plan.diff, []
    lines += [say("change_added", label=name(key)) for key in diff.added]
    for key in diff.removed:
        lines.append(say("change_removed", label=name(key),
                         count=impact.get(key, {}).get("with_value", 0)))
    for change in diff.retyped:
        lines.append(say("change_retyped", label=name(change["key"]),
                         old=type_name(change["old"], locale),
                         new=type_name(change["new"], locale),
                         count=impact.get(change["key"], {}).get("with_value", 0)))
    for key in diff.newly_required:
        lines.append(say("change_required", label=name(key),
                         count=impact.get(key, {}).get("missing", 0)))
    for key in diff.newly_unique:
        lines.append(say("change_unique", label=name(key),
                         count=impact.get(key, {}).get("sharing", 0)))
    for change in diff.options_removed:
        lines.append(say("change_options_removed", label=name(change["key"]),
                         values=", ".join(change["values"]),
                         count=impact.get(change["key"], {}).get("using_removed", 0)))
    for change in diff.options_added:
        lines.append(say("change_options_added", label=name(change["key"]),
                         values=", ".join(change["values"])))
    for change in diff.changed:
        settings = ", ".join(ui_text(f"prop_{option}", locale) for option in change["options"])
        lines.append(say("change_settings", label=name(change["key"]), settings=settings))
    lines += [say("change_relabelled", label=name(key)) for key in diff.relabelled]
    if diff.rules_changed:
        lines.append(say("change_rules"))
    if diff.layout_changed:
        lines.append(say("change_layout"))
    return lines


def _choices(plan: PublishPlan, old: Mapping[str, Any], new: Mapping[str, Any],
             locale: str) -> list[dict[str, Any]]:
    """A question per breaking change, with the answers the engine supports."""
    fields = _labels(old, new)
    asked = []
    for problem in plan.problems:
        key = problem.path.removeprefix("migrations.")
        item = new.get("fields") and next((field for field in new["fields"]
                                           if field["key"] == key), None)
        asked.append({
            "key": key, "code": problem.code, "message": problem.message(locale),
            "label": label_text(fields.get(key, {}).get("label"), locale) or key,
            "removed": [value.strip() for value in problem.params.get("values", "").split(",")
                        if value.strip()],
            "options": [option["value"] for option in (item or {}).get("options", [])],
        })
    return asked


def _migrations(form: Mapping[str, str], draft: Mapping[str, Any]) -> dict[str, Any]:
    """The answers on the page as the engine's migrations: `drop.<key>`, `convert.<key>`,
    `default.<key>`, `map.<key>.<old value>`."""
    types = {item["key"]: item["type"] for item in draft.get("fields", [])}
    migrations: dict[str, dict[str, Any]] = {}
    for name, value in form.items():
        kind, _, rest = name.partition(".")
        if not rest or not value:
            continue
        if kind in ("drop", "convert"):
            migrations.setdefault(rest, {})[kind] = True
        elif kind == "default":
            typed = default_value(types.get(rest, "text"), value)
            if typed is not None:
                migrations.setdefault(rest, {})["default"] = typed
        elif kind == "map":
            key, _, old = rest.partition(".")
            migrations.setdefault(key, {}).setdefault("map", {})[old] = value
    return migrations


@web.route("/apps/<app>/<form>/design/permissions", methods=["GET", "POST"])
@signed_in
def design_permissions(principal: Principal, scope: TenantScope, app: str, form: str):
    """Role × form: may create; read, change and delete in which scope; sees and may claim
    the pool; which fields are hidden or read-only — the same service and checks as the
    API's permissions."""
    row = designed_form(scope, principal, app, form)
    roles = role_choices(scope, principal)
    error = ""
    if request.method == "POST":
        items = []
        for key, _name in roles:
            if not request.form.get(f"{key}.on"):
                continue   # no entry: the role has no rights of its own on this form
            items.append({
                "role": key, "can_create": bool(request.form.get(f"{key}.create")),
                **{action: _scope(request.form.get(f"{key}.{action}"))
                   for action in ("read", "update", "delete")},
                "hidden_fields": request.form.getlist(f"{key}.hidden"),
                "readonly_fields": request.form.getlist(f"{key}.readonly"),
                "pool": bool(request.form.get(f"{key}.pool"))})
        try:
            with scope.session.begin_nested():
                set_permissions(scope, principal, row, items)
        except LoomError as problem:
            error = error_text(problem, principal.locale)
        else:
            flash(ui_text("design_permissions_saved", principal.locale), "done")
            return redirect(url_for("web.design_permissions", app=app, form=form))
    current = {item["role"]: item for item in permissions_of(scope, principal, row)}
    fields = list(row.draft.get("fields", []))
    return render_template("design/permissions.html", app_key=app, form_row=row,
                           roles=roles, current=current, fields=fields, scopes=SCOPES,
                           error=error), 422 if error else 200


def _scope(value: str | None) -> str:
    return value if value in SCOPES else "none"
