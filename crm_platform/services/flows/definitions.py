"""Approval flows and automation rules of an app: create, save a draft, check, publish,
list versions, roll back — the same life for both kinds.

A flow belongs to one form and is checked (`check_flow` for approvals, `check_automation`
for automation rules) against that form's published version: the fields it names must
exist there. Publishing
freezes the draft as the next version; rolling back publishes an older version's
definition again, as a new version — versions are never changed or removed, so instances
that run on one keep running on it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Select

from crm_platform.auth.principal import Principal
from crm_platform.errors import FieldError, NotFound, ValidationFailed, invalid
from crm_platform.models import App, Flow, FlowVersion, Form, User
from crm_platform.scoping import TenantScope, is_valid_id
from crm_platform.services.forms import definitions as form_service
from crm_platform.services.forms.definitions import definition_failed
from crm_platform.services.forms.versions import next_version_number, numbered_version
from form_engine.errors import Problem
from workflow_engine.automations import check_automation, value_types
from workflow_engine.definition import check_flow
from workflow_engine.messages import FlowProblem

CHECKERS = {"approval": check_flow, "automation": check_automation}
RESOURCE = {"approval": "flow", "automation": "automation"}


def flows_query(scope: TenantScope, app: App, kind: str = "approval") -> Select[tuple[Flow]]:
    return scope.select(Flow, Flow.app_id == app.id, Flow.kind == kind)


def flow_by_key(scope: TenantScope, app: App, key: str, kind: str = "approval") -> Flow:
    flow = scope.session.scalars(scope.select(Flow, Flow.app_id == app.id, Flow.key == key,
                                              Flow.kind == kind)).first()
    if flow is None:
        raise NotFound("resource_not_found", resource=RESOURCE[kind], id=key)
    return flow


def _form_fields(scope: TenantScope, app: App, key: Any
                 ) -> tuple[Form, dict[str, str], dict[str, str]]:
    """The flow's form, its published fields ({key: type}) and what their values are
    ({key: value type}: a formula's or a rollup's result, else the type)."""
    form = scope.session.scalars(scope.select(Form, Form.app_id == app.id,
                                              Form.key == key)).first() if isinstance(
        key, str) else None
    if form is None:
        raise ValidationFailed(fields=[FieldError("form", "flow_no_such_form",
                                                  {"form": key})], count=1)
    if form.published_version is None:
        raise ValidationFailed(fields=[FieldError("form", "no_published_version",
                                                  {"form": key})], count=1)
    compiled = form_service.compiled(scope, form_service.version_row(scope, form))
    return form, {item.key: item.type for item in compiled.fields}, value_types(
        compiled.fields)


def problems_of(scope: TenantScope, app: App, definition: Any, kind: str = "approval"
                ) -> list[Problem]:
    """Every problem of `definition` as a flow of `app` (nothing is saved)."""
    return _check(scope, app, definition, kind)[1]


def _check(scope: TenantScope, app: App, definition: Any, kind: str
           ) -> tuple[Form | None, list[Problem]]:
    """The flow's form (once it names one) and every problem of `definition`."""
    if not isinstance(definition, Mapping):
        return None, CHECKERS[kind](definition, {})
    if "form" not in definition:
        return None, [Problem("form", "missing", {"name": "form"})]
    form, fields, values = _form_fields(scope, app, definition["form"])
    problems = (check_automation(definition, fields, values) if kind == "automation"
                else CHECKERS[kind](definition, fields))
    return form, problems or [*_created_record_problems(scope, app, definition),
                              *_people_problems(scope, definition)]


def _named_users(value: Any, path: str) -> list[tuple[str, Any]]:
    """(path, id) of every user a definition names by id: parties `{"source": "users",
    "users": [...]}` and `assign_owner` actions' `users`, wherever they sit."""
    found: list[tuple[str, Any]] = []
    if isinstance(value, Mapping):
        if (value.get("source") == "users" or value.get("type") == "assign_owner") and \
                isinstance(value.get("users"), list):
            found += [(f"{path}.users[{i}]".lstrip("."), user)
                      for i, user in enumerate(value["users"])]
        for key, item in value.items():
            if key not in ("data", "values"):  # a created record's contents: not people
                found += _named_users(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _named_users(item, f"{path}[{index}]")
    return found


def _people_problems(scope: TenantScope, definition: Mapping[str, Any]) -> list[Problem]:
    """Users named by id are users of this tenant (another tenant's are no one here)."""
    named = _named_users(definition, "")
    ids = {user for _path, user in named if is_valid_id(user)}
    known = set(scope.session.scalars(scope.select(User, User.id.in_(ids)).with_only_columns(
        User.id))) if ids else set()
    return [FlowProblem(path, "flow_no_such_user", {"value": str(user)[:40]})
            for path, user in named if not is_valid_id(user) or user not in known]


def _created_record_problems(scope: TenantScope, app: App, definition: Mapping[str, Any]
                             ) -> list[Problem]:
    """`create_record` actions name a published form of the app and only its fields."""
    places = [("actions", definition.get("actions", [])),
              ("on_approve", definition.get("on_approve", [])),
              ("on_reject", definition.get("on_reject", []))]
    places += [(f"nodes[{i}].actions", node.get("actions", []))
               for i, node in enumerate(definition.get("nodes", []))]
    problems: list[Problem] = []
    for path, actions in places:
        for index, action in enumerate(actions):
            if action.get("type") != "create_record" or "form" not in action:
                continue
            where = f"{path}[{index}]"
            try:
                _target, target_fields, _values = _form_fields(scope, app, action["form"])
            except ValidationFailed:
                problems.append(FlowProblem(f"{where}.form", "flow_no_such_form",
                                        {"form": action["form"]}))
                continue
            for key in {**action.get("values", {}), **action.get("data", {})}:
                if key not in target_fields:
                    problems.append(FlowProblem(f"{where}.values.{key}", "flow_unknown_field",
                                            {"field": key}))
    return problems


def _checked(scope: TenantScope, app: App, definition: Any, locale: str,
             kind: str = "approval") -> Form:
    form, problems = _check(scope, app, definition, kind)
    if problems or form is None:
        raise definition_failed(problems, locale)
    return form


def create_flow(scope: TenantScope, actor: Principal, app: App, definition: Any,
                kind: str = "approval") -> Flow:
    actor.require_designer()
    form = _checked(scope, app, definition, actor.locale, kind)
    key = definition["key"]
    if scope.session.scalars(scope.select(Flow, Flow.app_id == app.id,
                                          Flow.key == key)).first() is not None:
        raise invalid("key", "taken", value=key)
    flow = scope.add(Flow(app_id=app.id, form_id=form.id, key=key, kind=kind,
                          draft=dict(definition), draft_updated_by_id=actor.acting_user_id))
    scope.session.flush()
    return flow


def save_draft(scope: TenantScope, actor: Principal, app: App, flow: Flow,
               definition: Any) -> Flow:
    actor.require_designer()
    if isinstance(definition, Mapping) and definition.get("key") != flow.key:
        raise ValidationFailed(fields=[FieldError("key", "key_is_fixed", {"value": flow.key})],
                               count=1)
    form = _checked(scope, app, definition, actor.locale, flow.kind)
    if form.id != flow.form_id:
        raise ValidationFailed(fields=[FieldError("form", "flow_form_is_fixed", {})], count=1)
    flow.draft = dict(definition)
    flow.draft_updated_by_id = actor.acting_user_id
    return flow


def publish(scope: TenantScope, actor: Principal, app: App, flow: Flow,
            definition: Mapping[str, Any] | None = None, restores: int | None = None
            ) -> FlowVersion:
    """The draft (or `definition`) as the next version, checked against the form as it is
    published now."""
    actor.require_designer()
    definition = dict(definition if definition is not None else flow.draft)
    form = _checked(scope, app, definition, actor.locale, flow.kind)
    number = next_version_number(scope, FlowVersion, FlowVersion.flow_id, flow)
    row = scope.add(FlowVersion(flow_id=flow.id, version=number, definition=definition,
                                form_version=form.published_version or 0, restores=restores,
                                published_by_id=actor.acting_user_id))
    flow.published_version = number
    scope.session.flush()
    return row


def rollback(scope: TenantScope, actor: Principal, app: App, flow: Flow, version: int
             ) -> FlowVersion:
    """Publish version `version`'s definition again, as a new version."""
    old = version_row(scope, flow, version)
    return publish(scope, actor, app, flow, old.definition, restores=version)


def version_row(scope: TenantScope, flow: Flow, version: int | None = None) -> FlowVersion:
    """Version `version` of the flow (default: the published one)."""
    return numbered_version(scope, FlowVersion, FlowVersion.flow_id, flow, version)


def versions_query(scope: TenantScope, flow: Flow) -> Select[tuple[FlowVersion]]:
    return scope.select(FlowVersion, FlowVersion.flow_id == flow.id)
