"""Forms of an app: definitions, drafts, publishing, versions, schema, rendering, preview."""

from __future__ import annotations

from typing import Any

from flask import Response

from crm_platform.api import api, form_of, render, schemas, scope_of
from crm_platform.api.operations import operation
from crm_platform.api.pagination import paginate
from crm_platform.auth.principal import Principal
from crm_platform.models import Form, FormVersion
from crm_platform.scoping import TenantScope
from crm_platform.services.forms import apps as app_service
from crm_platform.services.forms import definitions as service
from crm_platform.services.forms import design, indexes
from crm_platform.services.records import operations as record_service
from form_engine.compiled import CompiledForm
from form_engine.rendering import render_form
from form_engine.schema_export import input_schema, record_schema, ui_schema

TAGS = ("Apps and forms",)
FORM_PATH = "/apps/<app>/forms/<form>"


def _version(scope: TenantScope, form: Form, query: dict[str, Any]
             ) -> tuple[CompiledForm, int | str]:
    if query.get("draft"):
        return service.compiled_draft(scope, form), "draft"
    row = service.version_row(scope, form, query.get("version"))
    return service.compiled(scope, row), row.version


def _unwrap(body: Any) -> Any:
    """Accept the definition itself, or `{"definition": {...}}`."""
    if isinstance(body, dict) and set(body) == {"definition"} and isinstance(
            body["definition"], dict):
        return body["definition"]
    return body


@api.get("/apps/<app>/forms")
@operation("List the forms of an app", tags=TAGS, query=schemas.PAGE_QUERY,
           responses={200: schemas.page_of(schemas.FORM_SUMMARY)})
def list_forms(principal: Principal, app: str, query: dict[str, Any]):
    scope = scope_of(principal)
    statement = service.forms_query(scope, principal, app_service.app_by_key(scope, app))
    return paginate(scope.session, statement, Form, query, render.form_summary)


@api.post("/apps/<app>/forms")
@operation("Create a form by posting its definition", tags=TAGS,
           raw_body=schemas.DEFINITION_REF, responses={201: schemas.FORM},
           description="The definition is checked in full; every problem comes back with its "
                       "JSON path (`fields[3].options[0].value`) and nothing is saved.")
def create_form(principal: Principal, app: str, body: Any):
    scope = scope_of(principal)
    parent = app_service.app_by_key(scope, app)
    created = service.create_form(scope, principal, parent, _unwrap(body))
    return render.form(created, parent.key, None), 201


@api.get(FORM_PATH)
@operation("The form's draft and its current published version", tags=TAGS,
           responses={200: schemas.FORM})
def get_form(principal: Principal, app: str, form: str):
    scope, row = form_of(principal, app, form)
    published = service.version_row(scope, row) if row.published_version else None
    pending = indexes.pending_indexes(scope, row) if published else []
    return {**render.form(row, app, published),
            "indexes": {"ready": not pending, "pending": pending}}


@api.put(FORM_PATH + "/draft")
@operation("Save the draft", tags=TAGS, raw_body=schemas.DEFINITION_REF,
           responses={200: schemas.FORM},
           description="An invalid definition is refused with every problem and its path.")
def save_draft(principal: Principal, app: str, form: str, body: Any):
    scope, row = form_of(principal, app, form)
    design.save_draft(scope, principal, row, _unwrap(body))
    published = service.version_row(scope, row) if row.published_version else None
    return render.form(row, app, published)


@api.post(FORM_PATH + "/publish")
@operation("Publish the draft as a new immutable version", tags=TAGS,
           body=schemas.PUBLISH_REQUEST, responses={201: schemas.PUBLISH_RESPONSE},
           description="Returns the diff and its impact on existing records. A breaking change "
                       "(409) needs `migrations`: per field `drop`, `default`, `convert` or "
                       "`map` (old option → new).")
def publish(principal: Principal, app: str, form: str, body: dict[str, Any]):
    scope, row = form_of(principal, app, form)
    version = service.publish_form_version(scope, principal, row, body.get("migrations"))
    return {"version": version.version, "diff": version.diff, "impact": version.impact}, 201


@api.get(FORM_PATH + "/versions")
@operation("Published versions, newest last", tags=TAGS, query=schemas.PAGE_QUERY,
           responses={200: schemas.page_of(schemas.VERSION_SUMMARY)})
def list_versions(principal: Principal, app: str, form: str, query: dict[str, Any]):
    scope, row = form_of(principal, app, form)
    return paginate(scope.session, service.versions_query(scope, row), FormVersion, query,
                    render.version)


@api.get(FORM_PATH + "/schema")
@operation("JSON Schema (input and record) and UI schema of a version", tags=TAGS,
           query=schemas.VERSION_QUERY, responses={200: schemas.SCHEMA_RESPONSE})
def form_schema(principal: Principal, app: str, form: str, query: dict[str, Any]):
    scope, row = form_of(principal, app, form)
    compiled, number = _version(scope, row, query)
    return {"version": number, "input": input_schema(compiled),
            "record": record_schema(compiled), "ui": ui_schema(compiled)}


@api.get(FORM_PATH + "/render")
@operation("The form as an HTML fragment (in the caller's language)", tags=TAGS,
           query=schemas.VERSION_QUERY, responses={200: {"type": "string"}},
           content_type="text/html")
def render_html(principal: Principal, app: str, form: str, query: dict[str, Any]):
    scope, row = form_of(principal, app, form)
    compiled, _number = _version(scope, row, query)
    return Response(render_form(compiled, locale=principal.locale), mimetype="text/html")


@api.post(FORM_PATH + "/evaluate")
@operation("Live preview: visibility, formulas and every error for a partial record",
           tags=TAGS, body=schemas.EVALUATE_REQUEST, responses={200: schemas.EVALUATE_RESPONSE})
def evaluate(principal: Principal, app: str, form: str, body: dict[str, Any]):
    scope, row = form_of(principal, app, form)
    compiled, _number = _version(scope, row, body)
    result = record_service.evaluate(scope, principal, row, compiled, body["data"],
                                     body.get("mode", "json"))
    return {
        "data": {key: compiled.by_key[key].field_type.to_json(value) if key in compiled.by_key
                 else value for key, value in result.data.items()},
        "visible": result.visible, "required": result.required,
        "read_only": result.read_only, "errors": result.messages(principal.locale),
    }
