"""Upgrading an app installed from a template to a newer version of it, by three-way merge:
base — the bundle as installed (kept with the install), theirs — the new version, mine —
the app as it is now (exported). What either side changed alone is kept; what both changed
differently is a conflict, listed with its three values; nothing is applied until each
conflict has a resolution (`mine` or `theirs`, by path).

Applying goes through the same services as building by hand: new forms are created and
published, changed forms are published as new versions (so records follow the engine's
version rules, and a breaking change asks for its migration as any publish does), flows
and rules are published as new versions (running approvals stay on the version they
started on), permissions and shared views are replaced. Forms, flows and views the new
version dropped but the tenant still has are kept: deleting a form and its records is the
tenant's decision, not an upgrade's.

An upgrade refuses while a form or flow has unpublished changes: it would publish them
unseen.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from crm_platform.auth.principal import Principal
from crm_platform.errors import Conflict, FieldError, ValidationFailed
from crm_platform.models import App, Flow, Form, SavedView, TemplateInstall
from crm_platform.scoping import TenantScope
from crm_platform.services.flows import definitions as flow_service
from crm_platform.services.forms import definitions as form_service
from crm_platform.services.forms import design
from crm_platform.services.forms.permissions import set_permissions
from crm_platform.services.records.views import update_view
from crm_platform.services.templates.checks import check_composed, checked_bundle
from crm_platform.services.templates.export import export_app, installed
from crm_platform.services.templates.install import (
    KINDS,
    add_flow,
    add_view,
    ensure_roles,
    under,
    view_owner,
)
from templates_gallery.bundles import without_samples
from templates_gallery.merge import MISSING, merge_bundles, view_name
from templates_gallery.merge import Conflict as MergeConflict


@dataclass
class UpgradePlan:
    """What an upgrade would do: the merged bundle, its unresolved conflicts, and the
    changes in words a page or the CLI can list."""

    app: App
    installed: TemplateInstall
    theirs: dict[str, Any]
    merged: dict[str, Any]
    conflicts: list[MergeConflict]
    changes: list[dict[str, str]] = field(default_factory=list)

    @property
    def token(self) -> str:
        """What the plan is of: the version on offer and the app as it is, hashed. An
        apply that carries the token of the plan it was shown applies that plan or none."""
        import hashlib

        text = json.dumps([self.theirs, self.merged, [c.as_dict() for c in self.conflicts]],
                          sort_keys=True, ensure_ascii=False, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:32]

    def as_dict(self) -> dict[str, Any]:
        return {"app": self.app.key, "template": self.installed.template_key, "token": self.token,
                "from_version": self.installed.version,
                "to_version": self.theirs["manifest"]["version"],
                "conflicts": [conflict.as_dict() for conflict in self.conflicts],
                "changes": self.changes}


def version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def plan_upgrade(scope: TenantScope, actor: Principal, app: App, document: Any,
                 resolutions: Mapping[str, str] | None = None) -> UpgradePlan:
    """The upgrade of `app` to the bundle `document`; nothing is written."""
    actor.require_tenant_admin()
    origin = installed(scope, app)
    if origin is None:
        raise Conflict("not_from_template", app=app.key)
    theirs = without_samples(checked_bundle(document, actor.locale,
                                            form_service.type_env(scope)))
    offered = theirs["manifest"]
    if offered["key"] != origin.template_key:
        raise Conflict("other_template", app=app.key, installed=origin.template_key,
                       offered=offered["key"])
    if version_tuple(offered["version"]) <= version_tuple(origin.version):
        raise Conflict("not_newer", app=app.key, installed=origin.version,
                       offered=offered["version"])
    _refuse_unpublished(scope, app)
    mine = export_app(scope, actor, app)
    merged = merge_bundles(origin.bundle, theirs, mine, resolutions)
    merged.bundle["manifest"]["app"] = {**merged.bundle["manifest"]["app"], "key": app.key}
    return UpgradePlan(app, origin, theirs, merged.bundle, merged.conflicts,
                       _changes(mine, merged.bundle))


def upgrade_app(scope: TenantScope, actor: Principal, app: App, document: Any,
                resolutions: Mapping[str, str] | None = None,
                migrations: Mapping[str, Any] | None = None,
                token: str | None = None) -> UpgradePlan:
    """Apply the upgrade, or raise: 409 listing the unresolved conflicts, 422 when the
    merged app would not be valid (a rule of theirs naming a field you deleted), 409 when
    a form's publish needs a migration (`migrations` by form key), 409 when `token` is
    not the token of the plan as it is now (the app or the offer changed since)."""
    if token is not None and plan_upgrade(scope, actor, app, document).token != token:
        raise Conflict("upgrade_changed")
    plan = plan_upgrade(scope, actor, app, document, resolutions)
    if plan.conflicts:
        raise Conflict("upgrade_conflicts", fields=[
            FieldError(conflict.path, "upgrade_conflict",
                       {"mine": _shown(conflict.mine), "theirs": _shown(conflict.theirs)})
            for conflict in plan.conflicts], count=len(plan.conflicts))
    check_composed(plan.merged, actor.locale, form_service.type_env(scope))
    with scope.session.begin_nested():
        _apply(scope, actor, app, plan.merged, migrations or {})
        plan.installed.version = plan.theirs["manifest"]["version"]
        plan.installed.bundle = plan.theirs
        scope.session.flush()
    return plan


def _shown(value: Any) -> str:
    if value is MISSING:
        return "~deleted"
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 300 else text[:299] + "…"


def _refuse_unpublished(scope: TenantScope, app: App) -> None:
    problems = []
    for form in scope.session.scalars(scope.select(Form, Form.app_id == app.id)
                                      .order_by(Form.id)):
        if form.published_version is None or form.draft != form_service.version_row(
                scope, form).definition:
            problems.append(FieldError(f"forms.{form.key}", "unpublished_draft"))
    for flow in scope.session.scalars(scope.select(Flow, Flow.app_id == app.id)
                                      .order_by(Flow.id)):
        if flow.published_version is None or flow.draft != flow_service.version_row(
                scope, flow).definition:
            part = "flows" if flow.kind == "approval" else "automations"
            problems.append(FieldError(f"{part}.{flow.key}", "unpublished_draft"))
    if problems:
        raise Conflict("unpublished_draft", fields=problems, count=len(problems))


def _changes(mine: Mapping[str, Any], merged: Mapping[str, Any]) -> list[dict[str, str]]:
    """What applying would change in the app, piece by piece."""
    changes = []
    for part in ("roles", "forms", "flows", "automations"):
        before = {item["key"]: item for item in mine.get(part, [])}
        after = {item["key"]: item for item in merged.get(part, [])}
        for key, item in after.items():
            if key not in before:
                changes.append({"part": part, "key": key, "change": "added"})
            elif before[key] != item:
                changes.append({"part": part, "key": key, "change": "changed"})
        changes += [{"part": part, "key": key, "change": "kept"} for key in before
                    if key not in after]
    for form, items in merged.get("permissions", {}).items():
        if mine.get("permissions", {}).get(form) != items:
            changes.append({"part": "permissions", "key": form, "change": "changed"})
    before_views = {_view_key(view): view for view in mine.get("views", [])}
    for view in merged.get("views", []):
        old = before_views.get(_view_key(view))
        if old != view:
            changes.append({"part": "views", "key": ":".join(_view_key(view)),
                            "change": "added" if old is None else "changed"})
    return changes


def _view_key(view: Mapping[str, Any]) -> tuple[str, str]:
    return view["form"], view_name(view["name"])   # as the merge tells views apart


def _apply(scope: TenantScope, actor: Principal, app: App, merged: Mapping[str, Any],
           migrations: Mapping[str, Any]) -> None:
    ensure_roles(scope, actor, merged.get("roles", []))
    forms = {form.key: form for form in scope.session.scalars(
        scope.select(Form, Form.app_id == app.id))}
    keys = [definition["key"] for definition in merged["forms"]]
    changed = []
    for definition in merged["forms"]:
        key = definition["key"]
        with under(f"forms.{key}"):
            if key not in forms:
                forms[key] = form_service.create_form(scope, actor, app, dict(definition),
                                                      coming=keys)
                changed.append(key)
            elif form_service.version_row(scope, forms[key]).definition != definition:
                form_service.check_draft(scope, app, forms[key], dict(definition),
                                         actor.locale)
                design.save_draft(scope, actor, forms[key], dict(definition))  # undoable
                changed.append(key)
    for key in changed:
        with under(f"forms.{key}"):
            form_service.publish_form_version(scope, actor, forms[key], migrations.get(key))
    for key, items in merged.get("permissions", {}).items():
        with under(f"permissions.{key}"):
            set_permissions(scope, actor, forms[key], items)
    for part, kind in KINDS:
        existing = {flow.key: flow for flow in scope.session.scalars(
            flow_service.flows_query(scope, app, kind))}
        for definition in merged.get(part, []):
            flow = existing.get(definition["key"])
            if flow is None:
                add_flow(scope, actor, app, definition, kind)
            elif flow_service.version_row(scope, flow).definition != definition:
                with under(f"{part}.{definition['key']}"):
                    flow_service.save_draft(scope, actor, app, flow, dict(definition))
                    flow_service.publish(scope, actor, app, flow)
    _apply_views(scope, view_owner(scope, actor), forms, merged.get("views", []))


def _apply_views(scope: TenantScope, actor: Principal, forms: Mapping[str, Form],
                 views: list[Mapping[str, Any]]) -> None:
    shared: dict[tuple[str, str], list[SavedView]] = {}   # by name, in order: each row
    keys = {form.id: key for key, form in forms.items()}  # answers one view, never two
    for view in scope.session.scalars(scope.select(
            SavedView, SavedView.form_id.in_(keys), SavedView.visibility != "personal")
            .order_by(SavedView.id)):
        shared.setdefault(_view_key({"form": keys[view.form_id], "name": view.name}),
                          []).append(view)
    for index, view in enumerate(views):
        body = {name: value for name, value in view.items() if name != "form"}
        rows = shared.get(_view_key(view))
        row = rows.pop(0) if rows else None
        if row is None:
            add_view(scope, actor, forms[view["form"]], view, f"views[{index}]")
            continue
        current = {"name": row.name, "kind": row.kind, **row.definition,
                   "visibility": row.visibility,
                   **({"roles": row.roles} if row.visibility == "roles" else {})}
        if current != body:
            try:
                update_view(scope, actor, forms[view["form"]], row.id, body)
            except ValidationFailed as error:
                raise error.under(f"views[{index}]") from None


def offer_upgrade(scope: TenantScope, actor: Principal, app: App, document: Any) -> UpgradePlan:
    """Keep `document` with the install as the upgrade on offer (the gallery page resolves
    its conflicts over several requests); refused as `plan_upgrade` refuses."""
    plan = plan_upgrade(scope, actor, app, document)
    plan.installed.pending = plan.theirs
    return plan


def pending_plan(scope: TenantScope, actor: Principal, app: App,
                 resolutions: Mapping[str, str] | None = None) -> UpgradePlan | None:
    """The plan of the upgrade on offer, or None when there is none."""
    origin = installed(scope, app)
    if origin is None or origin.pending is None:
        return None
    return plan_upgrade(scope, actor, app, origin.pending, resolutions)


def apply_pending(scope: TenantScope, actor: Principal, app: App,
                  resolutions: Mapping[str, str], token: str | None = None) -> UpgradePlan:
    """Apply the upgrade on offer — only if it is still the one whose plan (`token`) the
    page showed: another file offered since, or a change to the app, is a 409."""
    origin = installed(scope, app)
    if origin is None or origin.pending is None:
        raise Conflict("not_from_template", app=app.key)
    plan = upgrade_app(scope, actor, app, origin.pending, resolutions, token=token)
    plan.installed.pending = None
    return plan


def cancel_pending(scope: TenantScope, actor: Principal, app: App) -> None:
    actor.require_tenant_admin()
    origin = installed(scope, app)
    if origin is not None:
        origin.pending = None
