"""An app as a bundle: its forms (as published), approval flows and automation rules (as
published), the roles they and the permissions name, each form's permissions, the shared
views, and — for an administrator who asks — its records as sample data.

An app installed from a template exports under that template's manifest, so install →
export gives the installed bundle back (ids and timestamps aside); any other app exports
under a manifest made from the app. Installing the file in another tenant is cloning.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from sqlalchemy import select

from crm_platform.auth.principal import Principal
from crm_platform.errors import FieldError, ValidationFailed
from crm_platform.models import App, Flow, Form, Record, Role, SavedView, TemplateInstall
from crm_platform.scoping import TenantScope
from crm_platform.services.flows import definitions as flow_service
from crm_platform.services.forms import definitions as form_service
from crm_platform.services.forms.permissions import permissions_of
from crm_platform.services.identity.roles import SYSTEM_ROLES
from crm_platform.services.templates.checks import named_roles
from form_engine.compiled import CompiledForm
from templates_gallery.bundles import normalised
from templates_gallery.schema import FORMAT, MAX_SAMPLE_RECORDS

REFERENCE_TYPES = ("user", "department")   # ids of this tenant: meaningless elsewhere


def installed(scope: TenantScope, app: App) -> TemplateInstall | None:
    return scope.session.scalars(scope.select(TemplateInstall,
                                              TemplateInstall.app_id == app.id)).first()


def export_app(scope: TenantScope, actor: Principal, app: App, *,
               sample_data: bool = False) -> dict[str, Any]:
    actor.require_designer()
    if sample_data:
        actor.require_tenant_admin()   # every record of every form: an administrator's
    origin = installed(scope, app)
    forms = list(scope.session.scalars(scope.select(Form, Form.app_id == app.id)
                                       .order_by(Form.id)))
    bundle: dict[str, Any] = {"format": FORMAT,
                              "manifest": _manifest(app, origin),
                              "forms": [_definition(scope, form) for form in forms]}
    permissions = {form.key: permissions_of(scope, actor, form) for form in forms}
    bundle["permissions"] = {key: items for key, items in permissions.items() if items}
    for part, kind in (("flows", "approval"), ("automations", "automation")):
        bundle[part] = [flow_service.version_row(scope, flow).definition
                        for flow in scope.session.scalars(flow_service.flows_query(
                            scope, app, kind).order_by(Flow.id))
                        if flow.published_version is not None]
    bundle["views"] = list(_views(scope, forms))
    roles = _roles(scope, bundle, origin)
    if roles:
        bundle["roles"] = roles
    if origin is not None:
        for part in ("reports", "dashboards"):   # kept for the reports issue to fill
            if origin.bundle.get(part):
                bundle[part] = origin.bundle[part]
    if sample_data:
        bundle["sample_data"] = _records(scope, forms)
    ordered = {name: bundle[name] for name in (
        "format", "manifest", "roles", "forms", "permissions", "flows", "automations",
        "views", "reports", "dashboards", "sample_data") if bundle.get(name)}
    return normalised(ordered)


def _manifest(app: App, origin: TemplateInstall | None) -> dict[str, Any]:
    if origin is not None:
        manifest = dict(origin.bundle["manifest"])
        manifest["app"] = {**manifest["app"], "key": app.key}
        return manifest
    name = _text(app.name)
    return {"key": app.key, "version": "1.0.0", "industry": "other", "name": name,
            "description": _text(app.description) if app.description else name,
            "app": {"key": app.key, "name": name}}


def _text(value: Any) -> dict[str, str]:
    """{en, zh} from a name saved as text or as {en} or {zh} only."""
    if isinstance(value, Mapping):
        english = value.get("en") or value.get("zh") or "?"
        return {"en": english, "zh": value.get("zh") or english}
    return {"en": str(value), "zh": str(value)}


def _definition(scope: TenantScope, form: Form) -> dict[str, Any]:
    """As published; a form never published, as its draft."""
    if form.published_version is None:
        return dict(form.draft)
    return dict(form_service.version_row(scope, form).definition)


def _views(scope: TenantScope, forms: list[Form]) -> Iterator[dict[str, Any]]:
    keys = {form.id: form.key for form in forms}
    rows = scope.session.scalars(scope.select(
        SavedView, SavedView.form_id.in_(keys), SavedView.visibility != "personal")
        .order_by(SavedView.id))
    for view in rows:
        yield {"form": keys[view.form_id], "name": view.name, "kind": view.kind,
               **view.definition, "visibility": view.visibility,
               **({"roles": view.roles} if view.visibility == "roles" else {})}


def _roles(scope: TenantScope, bundle: Mapping[str, Any], origin: TemplateInstall | None
           ) -> list[dict[str, Any]]:
    """The tenant's own roles the bundle names, bilingual as the template had them."""
    named = set(named_roles({part: bundle.get(part) for part in (
        "flows", "automations", "views")}))
    named |= {item["role"] for items in bundle["permissions"].values() for item in items}
    named -= set(SYSTEM_ROLES)
    known = {role["key"]: role for role in (origin.bundle.get("roles", []) if origin else [])}
    found = {role.key: role for role in scope.session.scalars(
        scope.select(Role, Role.key.in_(named)))}
    ordered = [key for key in known if key in found] + sorted(set(found) - set(known))
    return [known.get(key) or {"key": key, "name": _text(found[key].name)}
            for key in ordered]


def _records(scope: TenantScope, forms: list[Form]) -> dict[str, list[dict[str, Any]]]:
    """Every live record as a sample record: lookups as `$ref`s to one another, computed
    values left out (installing computes them), people and departments left out (they are
    this tenant's). An app with more records than a bundle may carry is refused, not cut."""
    rows: dict[str, list[Any]] = {}
    compiled: dict[str, CompiledForm] = {}
    for form in forms:
        if form.published_version is None:
            continue
        compiled[form.key] = form_service.compiled(scope, form_service.version_row(scope, form))
        rows[form.key] = scope.session.execute(scope.filter(select(Record.id, Record.data).where(
            Record.form_id == form.id, Record.deleted_at.is_(None)).order_by(Record.id)
            .limit(MAX_SAMPLE_RECORDS + 1), Record)).all()
    total = sum(len(items) for items in rows.values())
    if total > MAX_SAMPLE_RECORDS:
        raise ValidationFailed(fields=[FieldError("sample_data", "too_many_items",
                                                  {"limit": MAX_SAMPLE_RECORDS})], count=1)
    exported = {f"{key}_{record_id}" for key, items in rows.items() for record_id, _ in items}
    return {key: [{"ref": f"{key}_{record_id}",
                   "data": _sample(compiled[key], data, exported)}
                  for record_id, data in items] for key, items in rows.items() if items}


def _sample(compiled: CompiledForm, data: Mapping[str, Any], exported: set[str]
            ) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for item in compiled.inputs:
        value = data.get(item.key)
        if value is None or item.type in REFERENCE_TYPES:
            continue
        if item.rows is not None:
            values[item.key] = [_sample_row(item.rows.inputs, row, exported) for row in value
                                if isinstance(row, Mapping)]
        else:
            _carry(values, item, value, exported)
    return values


def _sample_row(columns: Any, row: Mapping[str, Any], exported: set[str]) -> dict[str, Any]:
    """A subtable line: its inputs, lookups as `$ref`s as on the record itself."""
    values: dict[str, Any] = {}
    for column in columns:
        value = row.get(column.key)
        if value is not None and column.type not in REFERENCE_TYPES:
            _carry(values, column, value, exported)
    return values


def _carry(values: dict[str, Any], item: Any, value: Any, exported: set[str]) -> None:
    if item.type != "lookup":
        values[item.key] = value
        return
    ref = f"{item.spec['form']}_{value}"
    if ref in exported:   # a lookup of a deleted record is not carried
        values[item.key] = {"$ref": ref}
