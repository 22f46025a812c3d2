"""Templates: the gallery, installing a shipped template or a bundle file, exporting an app
as a bundle, and upgrading an installed app by three-way merge."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app

from crm_platform.api import api, schemas, scope_of
from crm_platform.api.operations import operation
from crm_platform.auth.principal import Principal
from crm_platform.db import write_from_here
from crm_platform.services.forms.apps import app_by_key
from crm_platform.services.templates import gallery
from crm_platform.services.templates.checks import parsed
from crm_platform.services.templates.export import export_app, installed
from crm_platform.services.templates.install import install_bundle
from crm_platform.services.templates.upgrade import plan_upgrade, upgrade_app
from templates_gallery.bundles import dump_bundle
from templates_gallery.schema import BUNDLE_SCHEMA, MAX_BUNDLE_BYTES

TAGS = ("Templates",)
TEXT = {"type": "object", "properties": {"en": {"type": "string"}, "zh": {"type": "string"}}}
SUMMARY = schemas.obj({
    "key": schemas.KEY, "version": {"type": "string"}, "industry": {"type": "string"},
    "name": TEXT, "description": TEXT, "app": {"type": "object"},
    "extends": {"type": ["object", "null"]}, "screenshots": {"type": "array"},
    "counts": {"type": "object"}}, ("key", "version", "industry", "name", "counts"))
DETAIL = schemas.obj({**SUMMARY["properties"], "contents": {"type": "object"}},
                     ("key", "version", "contents"))
INSTALLED = schemas.obj({"app": schemas.KEY, "template": schemas.KEY,
                         "version": {"type": "string"}}, ("app", "template", "version"))
INSTALL = schemas.obj({"app": schemas.KEY, "sample_data": {"type": "boolean"}})
UPLOAD = {"app": {"type": "string", "maxLength": 63,
                  "description": "The new app's key (default: the bundle's)."},
          "sample_data": {"type": "boolean", "description": "Install the sample records "
                          "(default true)."}}
UPGRADE = schemas.obj({
    "template": schemas.KEY,
    "bundle": {"type": "object", "description": "A bundle file's content, instead of a "
               "shipped `template`."},
    "token": {"type": "string", "maxLength": 64, "description": "The plan's `token`: the "
              "upgrade applies only if it is still that plan (409 `upgrade_changed`)."},
    "resolutions": {"type": "object", "maxProperties": 100_000,
                    "additionalProperties": {"enum": ["mine", "theirs"]},
                    "description": "For each conflict's path: keep `mine` or take `theirs`."},
    "migrations": {"type": "object", "maxProperties": 100, "propertyNames": schemas.KEY,
                   "additionalProperties": schemas.PUBLISH_REQUEST["properties"]["migrations"],
                   "description": "By form key: the migration choices a breaking change of "
                   "that form needs, as its publish takes them."}})
PLAN = schemas.obj({"app": schemas.KEY, "template": schemas.KEY, "token": {"type": "string"},
                    "from_version": {"type": "string"}, "to_version": {"type": "string"},
                    "conflicts": {"type": "array"}, "changes": {"type": "array"}},
                   ("conflicts", "changes"))
BUNDLE_DOC = {key: value for key, value in BUNDLE_SCHEMA.items() if key != "$schema"}


def _installed(principal: Principal, app_key: str) -> dict[str, Any]:
    scope = scope_of(principal)
    row = installed(scope, app_by_key(scope, app_key))
    assert row is not None
    return {"app": app_key, "template": row.template_key, "version": row.version}


@api.get("/templates")
@operation("The template gallery", tags=TAGS,
           responses={200: schemas.obj({"items": {"type": "array", "items": SUMMARY}})})
def list_templates(principal: Principal):
    return {"items": [gallery.summary(bundle) for bundle in gallery.templates().values()]}


@api.get("/templates/<key>")
@operation("A template and what it holds", tags=TAGS, responses={200: DETAIL},
           description="Its forms with their fields, flows, automation rules, roles and "
                       "views, composed with the template it extends (the sales core).")
def get_template(principal: Principal, key: str):
    bundle = gallery.template(key)
    return {**gallery.summary(bundle), "contents": gallery.contents(bundle)}


@api.post("/templates/<key>/install")
@operation("Install a shipped template as a new app", tags=TAGS, body=INSTALL,
           responses={201: INSTALLED},
           description="Tenant administrators. All or nothing: a refusal leaves nothing.")
def install_template(principal: Principal, key: str, body: dict[str, Any]):
    scope = scope_of(principal)
    write_from_here(scope.session)
    app = install_bundle(scope, principal, gallery.template(key),
                         sample_data=body.get("sample_data", True), app_key=body.get("app"))
    return _installed(principal, app.key), 201


@api.post("/templates/install")
@operation("Install a bundle file (from another Loom) as a new app", tags=TAGS,
           upload=UPLOAD, upload_limit=lambda: MAX_BUNDLE_BYTES, responses={201: INSTALLED},
           description="The file is untrusted: at most 8 MB, checked against the bundle "
                       "meta-schema, every form, expression, pattern, flow and reference "
                       "checked; every problem is named (422). Tenant administrators.")
def install_file(principal: Principal, body: dict[str, Any]):
    scope = scope_of(principal)
    write_from_here(scope.session)
    _filename, content = body["file"]
    app = install_bundle(scope, principal, parsed(content),
                         sample_data=body.get("sample_data", True), app_key=body.get("app"))
    return _installed(principal, app.key), 201


@api.get("/templates/schema")
@operation("The bundle meta-schema (JSON Schema 2020-12)", tags=TAGS,
           responses={200: {"type": "object"}})
def bundle_schema(principal: Principal):
    return BUNDLE_SCHEMA


@api.get("/apps/<app>/export")
@operation("Export an app as a template bundle", tags=TAGS,
           query={"sample_data": {"type": "boolean", "description":
                                  "Include the records as sample data (administrators)."}},
           responses={200: BUNDLE_DOC},
           description="Forms and flows as published, rules, roles, permissions, shared "
                       "views. Installing the file elsewhere clones the app.")
def export_as_bundle(principal: Principal, app: str, query: dict[str, Any]):
    scope = scope_of(principal)
    bundle = export_app(scope, principal, app_by_key(scope, app),
                        sample_data=query.get("sample_data", False))
    version = bundle["manifest"]["version"]
    return Response(dump_bundle(bundle), mimetype="application/json", headers={
        "Content-Disposition": f'attachment; filename="{app}-{version}.loom.json"'})


def _offered(principal: Principal, body: dict[str, Any]) -> Any:
    principal.require_tenant_admin()   # before the template is looked up
    if "bundle" in body:
        return body["bundle"]
    return gallery.template(body.get("template") or "")


@api.post("/apps/<app>/upgrade/plan")
@operation("What upgrading an app to a newer template version would do", tags=TAGS,
           body=UPGRADE, responses={200: PLAN},
           description="The conflicts (both you and the new version changed the same "
                       "thing: base, mine and theirs) and the changes. Nothing is written.")
def upgrade_plan(principal: Principal, app: str, body: dict[str, Any]):
    scope = scope_of(principal)
    return plan_upgrade(scope, principal, app_by_key(scope, app), _offered(principal, body),
                        body.get("resolutions")).as_dict()


@api.post("/apps/<app>/upgrade")
@operation("Upgrade an app to a newer version of its template", tags=TAGS, body=UPGRADE,
           responses={200: PLAN},
           description="409 while a conflict has no resolution, or a form or flow has "
                       "unpublished changes; new form and flow versions are published.")
def upgrade_to_version(principal: Principal, app: str, body: dict[str, Any]):
    scope = scope_of(principal)
    write_from_here(scope.session)
    plan = upgrade_app(scope, principal, app_by_key(scope, app), _offered(principal, body),
                       body.get("resolutions"), body.get("migrations"), body.get("token"))
    current_app.logger.info("app %s upgraded to %s", app, plan.theirs["manifest"]["version"])
    return plan.as_dict()
