"""Approval flows of an app: list, create, read, save a draft, check, publish, versions,
roll back. The definition format is in docs/flows.md."""

from __future__ import annotations

from typing import Any

from crm_platform.api import api, schemas, scope_of
from crm_platform.api.operations import operation
from crm_platform.api.pagination import paginate
from crm_platform.api.render import iso
from crm_platform.auth.principal import Principal
from crm_platform.models import Flow, FlowVersion
from crm_platform.scoping import TenantScope
from crm_platform.services import apps as app_service
from crm_platform.services import flows as service
from crm_platform.services.forms import definition_failed
from form_engine.errors import Problem

TAGS = ("Flows",)
FLOWS = "/apps/<app>/flows"
ONE = FLOWS + "/<flow>"
DEFINITION = {"type": "object", "description": "A flow definition (docs/flows.md); checked "
              "in full, every problem at its path."}
FLOW = schemas.obj({
    "key": schemas.KEY, "app": schemas.KEY, "form": schemas.KEY, "draft": {"type": "object"},
    "published_version": {"type": ["integer", "null"]},
    "published": {"type": ["object", "null"]}, "has_unpublished_changes": {"type": "boolean"},
}, ("key", "app", "form", "draft", "published_version"))
FLOW_SUMMARY = schemas.obj({"key": schemas.KEY, "form": schemas.KEY,
                            "published_version": {"type": ["integer", "null"]}},
                           ("key", "form", "published_version"))
VERSION = schemas.obj({"version": {"type": "integer"}, "form_version": {"type": "integer"},
                       "restores": {"type": ["integer", "null"]},
                       "published_at": schemas.TIMESTAMP,
                       "published_by": schemas.nullable(schemas.ID),
                       "definition": {"type": "object"}},
                      ("version", "form_version", "published_at"))
PROBLEMS = schemas.obj({"ok": {"type": "boolean"}, "problems": {"type": "array", "items":
                        schemas.obj({"path": {"type": "string"}, "code": {"type": "string"},
                                     "message": {"type": "string"}},
                                    ("path", "code", "message"))}}, ("ok", "problems"))
ROLLBACK = schemas.obj({"version": {"type": "integer", "minimum": 1}}, ("version",))


def _flow(principal: Principal, app: str, flow: str) -> tuple[TenantScope, Any, Flow]:
    scope = scope_of(principal)
    parent = app_service.app_by_key(scope, app)
    return scope, parent, service.flow_by_key(scope, parent, flow)


def _render(scope: TenantScope, flow: Flow, app: str) -> dict[str, Any]:
    published = service.version_row(scope, flow) if flow.published_version else None
    return {"key": flow.key, "app": app, "form": flow.draft.get("form"), "draft": flow.draft,
            "published_version": flow.published_version,
            "published": published.definition if published else None,
            "has_unpublished_changes": published is None or published.definition != flow.draft}


def _version(row: FlowVersion) -> dict[str, Any]:
    return {"version": row.version, "form_version": row.form_version,
            "restores": row.restores, "published_at": iso(row.published_at),
            "published_by": row.published_by_id, "definition": row.definition}


def _problems(problems: list[Problem], locale: str) -> dict[str, Any]:
    return {"ok": not problems, "problems": [p.as_dict(locale) for p in problems]}


@api.get(FLOWS)
@operation("List the approval flows of an app", tags=TAGS, query=schemas.PAGE_QUERY,
           responses={200: schemas.page_of(FLOW_SUMMARY)})
def list_flows(principal: Principal, app: str, query: dict[str, Any]):
    scope = scope_of(principal)
    statement = service.flows_query(scope, app_service.app_by_key(scope, app))
    return paginate(scope.session, statement, Flow, query, lambda flow: {
        "key": flow.key, "form": flow.draft.get("form"),
        "published_version": flow.published_version})


@api.post(FLOWS)
@operation("Create an approval flow by posting its definition", tags=TAGS,
           raw_body=DEFINITION, responses={201: FLOW},
           description="The definition names its form (`form`); it is checked against the "
                       "form's published fields, and every problem comes back with its path.")
def create_flow(principal: Principal, app: str, body: Any):
    scope = scope_of(principal)
    parent = app_service.app_by_key(scope, app)
    flow = service.create_flow(scope, principal, parent, body)
    return _render(scope, flow, parent.key), 201


@api.post(FLOWS + "/check")
@operation("Check a flow definition without saving it", tags=TAGS, raw_body=DEFINITION,
           responses={200: PROBLEMS})
def check_flow_definition(principal: Principal, app: str, body: Any):
    principal.require_designer()
    scope = scope_of(principal)
    parent = app_service.app_by_key(scope, app)
    problems = service.problems_of(scope, parent, body)
    if not isinstance(body, dict):  # not a definition at all: a bad request, as elsewhere
        raise definition_failed(problems, principal.locale)
    return _problems(problems, principal.locale)


@api.get(ONE)
@operation("A flow: its draft and its published version", tags=TAGS, responses={200: FLOW})
def get_flow(principal: Principal, app: str, flow: str):
    scope, parent, row = _flow(principal, app, flow)
    return _render(scope, row, parent.key)


@api.put(ONE + "/draft")
@operation("Save a flow's draft", tags=TAGS, raw_body=DEFINITION, responses={200: FLOW})
def save_flow_draft(principal: Principal, app: str, flow: str, body: Any):
    scope, parent, row = _flow(principal, app, flow)
    service.save_draft(scope, principal, parent, row, body)
    return _render(scope, row, parent.key)


@api.post(ONE + "/publish")
@operation("Publish the draft as the next version", tags=TAGS, responses={201: VERSION},
           description="Instances already running stay on the version they started on.")
def publish_flow(principal: Principal, app: str, flow: str):
    scope, parent, row = _flow(principal, app, flow)
    return _version(service.publish(scope, principal, parent, row)), 201


@api.post(ONE + "/rollback")
@operation("Publish an earlier version again, as the next version", tags=TAGS,
           body=ROLLBACK, responses={201: VERSION})
def rollback_flow(principal: Principal, app: str, flow: str, body: dict[str, Any]):
    scope, parent, row = _flow(principal, app, flow)
    return _version(service.rollback(scope, principal, parent, row, body["version"])), 201


@api.get(ONE + "/versions")
@operation("The published versions of a flow", tags=TAGS, query=schemas.PAGE_QUERY,
           responses={200: schemas.page_of(VERSION)})
def list_flow_versions(principal: Principal, app: str, flow: str, query: dict[str, Any]):
    scope, _parent, row = _flow(principal, app, flow)
    return paginate(scope.session, service.versions_query(scope, row), FlowVersion, query,
                    _version)
