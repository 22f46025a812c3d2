"""Installing a bundle into a tenant, as a new app, through the same services a person
building it by hand goes through: roles, the app, each form (created, then published),
each form's permissions, the sample records, the approval flows and automation rules
(created, then published), the shared views. Sample records come before the rules, so
installing does not fire a rule once per sample record.

All or nothing: everything runs in one savepoint; a refusal anywhere (a bad sample
phone, an app key in use) undoes the lot and is reported with the path of what was
refused (`sample_data.customer[3].data.phone`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from crm_platform.auth.login import principal_for
from crm_platform.auth.principal import Principal
from crm_platform.db import utcnow
from crm_platform.errors import FieldError, LoomError
from crm_platform.models import App, Form, Role, TemplateInstall, User
from crm_platform.scoping import TenantScope
from crm_platform.services.flows import definitions as flow_service
from crm_platform.services.forms import apps as app_service
from crm_platform.services.forms import definitions as form_service
from crm_platform.services.forms.permissions import set_permissions
from crm_platform.services.identity.directory import PlatformDirectory
from crm_platform.services.identity.roles import create_role
from crm_platform.services.records import operations as record_service
from crm_platform.services.records.views import create_view
from crm_platform.services.templates.checks import checked_bundle, marker
from templates_gallery.bundles import without_samples

KINDS = (("flows", "approval"), ("automations", "automation"))


def install_bundle(scope: TenantScope, actor: Principal, document: Any, *,
                   sample_data: bool = True, app_key: str | None = None,
                   bundle: dict[str, Any] | None = None) -> App:
    """Install `document` (a bundle; `bundle` when it is already checked and composed) as
    a new app, `app_key` or the manifest's."""
    actor.require_tenant_admin()
    bundle = bundle or checked_bundle(document, actor.locale, form_service.type_env(scope))
    manifest = bundle["manifest"]
    try:
        with scope.session.begin_nested():
            app = _install(scope, actor, bundle, app_key or manifest["app"]["key"],
                           sample_data)
    except LoomError as error:
        error.params.setdefault("template", manifest["key"])
        raise
    return app


def _install(scope: TenantScope, actor: Principal, bundle: Mapping[str, Any], app_key: str,
             sample_data: bool) -> App:
    manifest = bundle["manifest"]
    ensure_roles(scope, actor, bundle.get("roles", []))
    app = app_service.create_app_record(scope, actor, {
        "key": app_key, "name": manifest["app"]["name"],
        "description": manifest["description"]})
    forms = create_forms(scope, actor, app, bundle["forms"])
    for key, items in bundle.get("permissions", {}).items():
        set_permissions(scope, actor, forms[key], items)
    if sample_data:
        insert_samples(scope, actor, forms, bundle.get("sample_data", {}))
    for part, kind in KINDS:
        for definition in bundle.get(part, []):
            add_flow(scope, actor, app, definition, kind)
    viewer = view_owner(scope, actor)
    for index, view in enumerate(bundle.get("views", [])):
        add_view(scope, viewer, forms[view["form"]], view, f"views[{index}]")
    scope.add(TemplateInstall(app_id=app.id, template_key=manifest["key"],
                              version=manifest["version"], bundle=without_samples(bundle),
                              installed_by_id=actor.acting_user_id))
    scope.session.flush()
    return app


def ensure_roles(scope: TenantScope, actor: Principal, roles: list[Mapping[str, Any]]) -> None:
    """The bundle's roles the tenant lacks (a role it has already is used as it is)."""
    have = set(scope.session.scalars(scope.select(Role).with_only_columns(Role.key)))
    for role in roles:
        if role["key"] not in have:
            create_role(scope, actor, {
                "key": role["key"], "name": role_name(role["name"]),
                "description": role_name(role["description"]) if "description" in role
                else ""})


def role_name(text: Mapping[str, str]) -> str:
    """A role's one name (roles are named once, for administrators): "销售经理 Sales manager"."""
    english, chinese = text["en"], text["zh"]
    return english if english == chinese else f"{chinese} {english}"[:200]


def create_forms(scope: TenantScope, actor: Principal, app: App,
                 definitions: list[Mapping[str, Any]]) -> dict[str, Form]:
    """Each form created, then each published: they may refer to one another."""
    keys = [definition["key"] for definition in definitions]
    forms = {}
    for definition in definitions:
        with under(f"forms.{definition['key']}"):
            forms[definition["key"]] = form_service.create_form(
                scope, actor, app, dict(definition), coming=keys)
    for key, form in forms.items():
        with under(f"forms.{key}"):
            form_service.publish_form_version(scope, actor, form)
    return forms


def add_flow(scope: TenantScope, actor: Principal, app: App, definition: Mapping[str, Any],
             kind: str) -> None:
    part = "flows" if kind == "approval" else "automations"
    with under(f"{part}.{definition['key']}"):
        flow = flow_service.create_flow(scope, actor, app, dict(definition), kind)
        flow_service.publish(scope, actor, app, flow)


def add_view(scope: TenantScope, owner: Principal, form: Form, view: Mapping[str, Any],
             where: str) -> None:
    with under(where):
        create_view(scope, owner, form, {name: value for name, value in view.items()
                                         if name != "form"})


def view_owner(scope: TenantScope, actor: Principal) -> Principal:
    """Who owns the shared views: the installer, or (from the command line) the tenant's
    first administrator."""
    if actor.acting_user_id is not None:
        return actor
    admins = PlatformDirectory(scope).users_with_roles(["admin"])
    admin = scope.find(User, admins[0]) if admins else None
    return principal_for(scope.session, admin, "session") if admin is not None else actor


def insert_samples(scope: TenantScope, actor: Principal, forms: Mapping[str, Form],
                   samples: Mapping[str, list[Mapping[str, Any]]]) -> None:
    """The sample records, form by form in the bundle's order of forms (so a lookup's
    record exists before the records pointing at it), each created through the record
    service and then given to the next user with its `owner_role`."""
    today = form_service.now_in(scope).date()
    now = utcnow()
    ids: dict[str, int] = {}
    owners = _Owners(scope)
    for key in forms:
        for index, row in enumerate(samples.get(key, [])):
            data = {name: _resolved(value, ids, today, now) for name, value in
                    row["data"].items()}
            with under(f"sample_data.{key}[{index}]"):   # its errors say data.<field>
                record, _new = record_service.create_record(scope, actor, forms[key], data)
            owner = owners.next(row.get("owner_role"))
            if owner is not None:
                record.owner_id, record.department_id = owner.id, owner.department_id
            if "ref" in row:
                ids[row["ref"]] = record.id
    scope.session.flush()


def _resolved(value: Any, ids: Mapping[str, int], today: Any, now: Any) -> Any:
    """The value with its markers replaced — in subtable rows too."""
    if isinstance(value, list):
        return [{name: _resolved(cell, ids, today, now) for name, cell in row.items()}
                if isinstance(row, Mapping) else row for row in value]
    found = marker(value)
    if found is None:
        return value
    kind, target = found
    if kind == "$ref":
        return ids[target]
    if kind == "$days":
        return (today + timedelta(days=target)).isoformat()
    return (now + timedelta(hours=target)).isoformat().replace("+00:00", "Z")


class _Owners:
    """The active users of each role, in turn."""

    def __init__(self, scope: TenantScope) -> None:
        self.scope = scope
        self.turn: dict[str, Iterator[User]] = {}
        self.users: dict[str, list[User]] = {}

    def next(self, role: str | None) -> User | None:
        if role is None:
            return None
        if role not in self.users:
            ids = PlatformDirectory(self.scope).users_with_roles([role])
            self.users[role] = list(self.scope.session.scalars(
                self.scope.select(User, User.id.in_(ids)).order_by(User.id)))
            self.turn[role] = _cycle(self.users[role])
        return next(self.turn[role], None)


def _cycle(users: list[User]) -> Iterator[User]:
    while users:
        yield from users


@contextmanager
def under(path: str) -> Iterator[None]:
    """A refusal inside names its place in the bundle (`sample_data.customer[3].data`)."""
    try:
        yield
    except LoomError as error:
        error.fields = [FieldError(f"{path}.{item.path}" if item.path else path, item.code,
                                   item.params) for item in error.fields] or [
            FieldError(path, error.code, dict(error.params))]
        raise
