"""Saved views: a form's records arranged as a list (columns, sort, filter, search) or a
kanban board (grouped by a select field, with a total), saved by a user for themselves or
shared — by a designer — with some roles or everyone.

A view's body is checked by its meta-schema (`VIEW_SCHEMA`, JSON Schema 2020-12), then
against the form as its author sees it: every column, sort key, filter condition and
grouping must name a field they may see. A reader meets a shared view through their own
permissions: it never shows them more than their list would.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jsonschema import Draft202012Validator
from sqlalchemy import or_

from crm_platform.auth.principal import Principal
from crm_platform.errors import FieldError, Forbidden, NotFound, ValidationFailed
from crm_platform.models import Form, Role, SavedView
from crm_platform.scoping import TenantScope
from crm_platform.services.forms.definitions import now_in
from crm_platform.services.records import operations as record_service
from crm_platform.services.records.query import parse_sort, without
from crm_platform.services.storage.filters import plan_filter
from form_engine.field_types.rollup import result_of

KEY = {"type": "string", "pattern": "^[a-z][a-z0-9_]{0,62}$"}
NAME = {"oneOf": [{"type": "string", "minLength": 1, "maxLength": 100},
                  {"type": "object", "additionalProperties": False, "minProperties": 1,
                   "properties": {"en": {"type": "string", "maxLength": 100},
                                  "zh": {"type": "string", "maxLength": 100}}}]}
VIEW_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Loom saved view", "type": "object", "additionalProperties": False,
    "required": ["name", "kind"],
    "properties": {
        "name": NAME,
        "kind": {"enum": ["list", "kanban"]},
        "columns": {"type": "array", "items": KEY, "maxItems": 100, "uniqueItems": True},
        "sort": {"type": "string", "maxLength": 200},
        "filter": {"type": ["object", "null"]},
        "search": {"type": "string", "maxLength": 200},
        "group_by": KEY,
        "total": KEY,
        "visibility": {"enum": ["personal", "roles", "everyone"]},
        "roles": {"type": "array", "items": KEY, "maxItems": 50, "uniqueItems": True},
    },
}
_CHECKER = Draft202012Validator(VIEW_SCHEMA)
DEFINITION_KEYS = ("columns", "sort", "filter", "search", "group_by", "total")
SYSTEM_COLUMNS = ("owner", "updated_at")
MAX_VIEWS = 200  # per form and owner


def _invalid(problems: list[FieldError]) -> ValidationFailed:
    return ValidationFailed(fields=problems, count=len(problems))


def _schema_problems(body: Any) -> list[FieldError]:
    problems = []
    for error in sorted(_CHECKER.iter_errors(body), key=lambda item: list(item.path)):
        path = ".".join(str(part) for part in error.path)
        if error.validator == "additionalProperties":
            extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
            problems += [FieldError(f"{path}.{name}" if path else name, "unknown_field", {})
                         for name in extra]
        elif error.validator == "required":
            problems += [FieldError(name, "required", {}) for name in error.validator_value
                         if name not in error.instance]
        else:
            problems.append(FieldError(path, "invalid", {}))
    return problems


def _checked(scope: TenantScope, actor: Principal, form: Form, body: Any) -> dict[str, Any]:
    """The body, checked; the view's fields against the form as `actor` sees it."""
    problems = _schema_problems(body)
    if problems:
        raise _invalid(problems)
    _version, compiled = record_service.current_version(scope, form)
    seen = without(compiled, record_service.access(scope, actor, form).hidden)
    for index, key in enumerate(body.get("columns", [])):
        if key not in seen.by_key and key not in SYSTEM_COLUMNS:
            problems.append(FieldError(f"columns[{index}]", "unknown_filter_field",
                                       {"value": key}))
    for name, check in (("sort", lambda: parse_sort(seen, body.get("sort") or None)),
                        ("filter", lambda: plan_filter(seen, body["filter"], now_in(scope))
                         if body.get("filter") else None)):
        try:
            check()
        except ValidationFailed as error:
            problems += [FieldError(f"{name}.{item.path}" if name == "sort" else item.path,
                                    item.code, item.params) for item in error.fields]
    for option, types in (("group_by", ("select",)),
                          ("total", ("currency", "number", "percent", "rollup"))):
        key = body.get(option)
        if key is not None and (key not in seen.by_key or seen.by_key[key].type not in types
                                or (option == "total" and seen.by_key[key].type == "rollup"
                                    and result_of(seen.by_key[key].spec) != "number")):
            problems.append(FieldError(option, "unknown_filter_field", {"value": key}))
    visibility = body.get("visibility", "personal")
    roles = body.get("roles", [])
    if visibility == "roles":
        known = set(scope.session.scalars(scope.select(Role).with_only_columns(Role.key)))
        problems += [FieldError(f"roles[{index}]", "no_such_reference",
                                {"resource": "role", "value": key})
                     for index, key in enumerate(roles) if key not in known]
        if not roles:
            problems.append(FieldError("roles", "required", {}))
    if problems:
        raise _invalid(problems)
    if visibility != "personal":
        actor.require_designer()  # sharing a view is designing the workspace
    return body


def visible_views(scope: TenantScope, actor: Principal, form: Form) -> list[SavedView]:
    """The form's views the caller may use, in one statement: their own, and those shared
    with everyone or with one of their roles."""
    candidates = scope.session.scalars(scope.select(
        SavedView, SavedView.form_id == form.id,
        or_(SavedView.owner_id == actor.user_id,
            SavedView.visibility.in_(("everyone", "roles")))).order_by(SavedView.id))
    return [view for view in candidates if _may_use(view, actor)]


def _may_use(view: SavedView, actor: Principal) -> bool:
    return (view.owner_id == actor.user_id or view.visibility == "everyone"
            or (view.visibility == "roles" and bool(set(view.roles) & actor.role_keys)))


def get_view(scope: TenantScope, actor: Principal, form: Form, view_id: Any) -> SavedView:
    view = scope.session.scalars(scope.select(
        SavedView, SavedView.form_id == form.id, SavedView.id == view_id)).first() \
        if isinstance(view_id, int) else None
    if view is None or not _may_use(view, actor):
        raise NotFound("resource_not_found", resource="view", id=view_id)
    return view


def create_view(scope: TenantScope, actor: Principal, form: Form, body: Any) -> SavedView:
    body = _checked(scope, actor, form, body)
    count = scope.session.scalars(scope.select(
        SavedView, SavedView.form_id == form.id, SavedView.owner_id == actor.user_id)
        .with_only_columns(SavedView.id).limit(MAX_VIEWS + 1)).all()
    if len(count) >= MAX_VIEWS:
        raise _invalid([FieldError("", "too_many_items", {"limit": MAX_VIEWS})])
    view = scope.add(SavedView(form_id=form.id, owner_id=actor.user_id, **_columns(body)))
    scope.session.flush()
    return view


def update_view(scope: TenantScope, actor: Principal, form: Form, view_id: Any,
                body: Any) -> SavedView:
    view = get_view(scope, actor, form, view_id)
    _may_change(actor, view)
    for key, value in _columns(_checked(scope, actor, form, body)).items():
        setattr(view, key, value)
    scope.session.flush()
    return view


def delete_view(scope: TenantScope, actor: Principal, form: Form, view_id: Any) -> None:
    view = get_view(scope, actor, form, view_id)
    _may_change(actor, view)
    scope.session.delete(view)
    scope.session.flush()


def _may_change(actor: Principal, view: SavedView) -> None:
    """Its owner changes a view; a shared one, a designer too."""
    if view.owner_id != actor.user_id and not (
            view.visibility != "personal" and (actor.is_tenant_admin
                                               or actor.has_role("designer"))):
        raise Forbidden("view_change_forbidden")


def _columns(body: Mapping[str, Any]) -> dict[str, Any]:
    return {"name": body["name"], "kind": body["kind"],
            "definition": {key: body[key] for key in DEFINITION_KEYS if key in body},
            "visibility": body.get("visibility", "personal"),
            "roles": list(body.get("roles", [])) if body.get("visibility") == "roles"
            else []}


def render_view(view: SavedView, form_key: str) -> dict[str, Any]:
    return {"id": view.id, "form": form_key, "owner": view.owner_id, "name": view.name,
            "kind": view.kind, **view.definition, "visibility": view.visibility,
            "roles": view.roles, "created_at": view.created_at.isoformat(),
            "updated_at": view.updated_at.isoformat()}
