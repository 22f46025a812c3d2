"""Approval flows and automation rules of an app — the same calls for both: list, create,
read, save a draft, check, publish, versions, roll back (`/flows/…`, `/automations/…`).
The definition formats are in docs/flows.md."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from crm_platform.api import api, schemas, scope_of
from crm_platform.api.operations import operation
from crm_platform.api.pagination import paginate
from crm_platform.api.render import iso
from crm_platform.auth.principal import Principal
from crm_platform.models import Flow, FlowVersion
from crm_platform.scoping import TenantScope
from crm_platform.services.flows import definitions as service
from crm_platform.services.forms import apps as app_service
from crm_platform.services.forms.definitions import definition_failed

DEFINITION = {"type": "object", "description": "A definition (docs/flows.md); checked "
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
ROLLBACK = schemas.obj({"version": schemas.VERSION}, ("version",))


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


def _summary(flow: Flow) -> dict[str, Any]:
    return {"key": flow.key, "form": flow.draft.get("form"),
            "published_version": flow.published_version}


def _register(kind: str, collection: str, param: str, noun: str, tag: str) -> None:
    """The calls for one kind, under /apps/<app>/<collection>/<param>."""
    many, one = f"/apps/<app>/{collection}", f"/apps/<app>/{collection}/<{param}>"
    tags = (tag,)

    def found(principal: Principal, app: str, key: str) -> tuple[TenantScope, Any, Flow]:
        scope = scope_of(principal)
        parent = app_service.app_by_key(scope, app)
        return scope, parent, service.flow_by_key(scope, parent, key, kind)

    def add(rule: str, method: str, name: str, view: Callable[..., Any]) -> None:
        view.__name__ = f"{collection}_{name}"
        api.add_url_rule(rule, view_func=view, methods=[method])

    @operation(f"List the {noun}s of an app", tags=tags, query=schemas.PAGE_QUERY,
               responses={200: schemas.page_of(FLOW_SUMMARY)})
    def list_all(principal: Principal, app: str, query: dict[str, Any]):
        scope = scope_of(principal)
        statement = service.flows_query(scope, app_service.app_by_key(scope, app), kind)
        return paginate(scope.session, statement, Flow, query, _summary)

    @operation(f"Create an {noun} by posting its definition" if noun[0] in "aeiou" else
               f"Create a {noun} by posting its definition", tags=tags,
               raw_body=DEFINITION, responses={201: FLOW},
               description="The definition names its form (`form`); it is checked against "
                           "the form's published fields, every problem at its path.")
    def create(principal: Principal, app: str, body: Any):
        scope = scope_of(principal)
        parent = app_service.app_by_key(scope, app)
        flow = service.create_flow(scope, principal, parent, body, kind)
        return _render(scope, flow, parent.key), 201

    @operation(f"Check an {noun} definition without saving it", tags=tags,
               raw_body=DEFINITION, responses={200: PROBLEMS})
    def check(principal: Principal, app: str, body: Any):
        principal.require_designer()
        scope = scope_of(principal)
        parent = app_service.app_by_key(scope, app)
        problems = service.problems_of(scope, parent, body, kind)
        if not isinstance(body, dict):  # not a definition at all: a bad request
            raise definition_failed(problems, principal.locale)
        return {"ok": not problems, "problems": [p.as_dict(principal.locale)
                                                 for p in problems]}

    @operation(f"An {noun}: its draft and its published version", tags=tags,
               responses={200: FLOW})
    def get(principal: Principal, app: str, **keys: str):
        scope, parent, row = found(principal, app, keys[param])
        return _render(scope, row, parent.key)

    @operation(f"Save an {noun}'s draft", tags=tags, raw_body=DEFINITION,
               responses={200: FLOW})
    def save_draft(principal: Principal, app: str, body: Any, **keys: str):
        scope, parent, row = found(principal, app, keys[param])
        service.save_draft(scope, principal, parent, row, body)
        return _render(scope, row, parent.key)

    @operation("Publish the draft as the next version", tags=tags, responses={201: VERSION},
               description="What already runs on an earlier version keeps running on it.")
    def publish(principal: Principal, app: str, **keys: str):
        scope, parent, row = found(principal, app, keys[param])
        return _version(service.publish(scope, principal, parent, row)), 201

    @operation("Publish an earlier version again, as the next version", tags=tags,
               body=ROLLBACK, responses={201: VERSION})
    def rollback(principal: Principal, app: str, body: dict[str, Any], **keys: str):
        scope, parent, row = found(principal, app, keys[param])
        return _version(service.rollback(scope, principal, parent, row, body["version"])), 201

    @operation(f"The published versions of an {noun}", tags=tags, query=schemas.PAGE_QUERY,
               responses={200: schemas.page_of(VERSION)})
    def versions(principal: Principal, app: str, query: dict[str, Any], **keys: str):
        scope, _parent, row = found(principal, app, keys[param])
        return paginate(scope.session, service.versions_query(scope, row), FlowVersion,
                        query, _version)

    add(many, "GET", "list", list_all)
    add(many, "POST", "create", create)
    add(many + "/check", "POST", "check", check)
    add(one, "GET", "get", get)
    add(one + "/draft", "PUT", "save_draft", save_draft)
    add(one + "/publish", "POST", "publish", publish)
    add(one + "/rollback", "POST", "rollback", rollback)
    add(one + "/versions", "GET", "versions", versions)


_register("approval", "flows", "flow", "approval flow", "Flows")
_register("automation", "automations", "automation", "automation rule", "Automations")
