"""`/api/v1/apps/{app}/openapi.json`: one app's forms as typed schemas, with their record
endpoints — what an integrator generates a client from."""

from __future__ import annotations

import re
from typing import Any

from crm_platform.api import api, schemas, scope_of
from crm_platform.api.operations import operation
from crm_platform.auth.principal import Principal
from crm_platform.models import Form
from crm_platform.services.forms import apps as app_service
from crm_platform.services.forms import definitions as form_service
from form_engine.messages import label_text
from form_engine.schema_export import input_schema, record_schema

_ERROR = {"$ref": "#/components/schemas/Error"}


def _name(key: str) -> str:
    return "".join(part.capitalize() for part in re.split(r"_+", key)) or "Form"


def _clean(schema: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in schema.items() if key != "$schema"}


def _errors(*statuses: int) -> dict[str, Any]:
    return {str(status): {"description": "Error", "content": {
        "application/json": {"schema": _ERROR}}} for status in statuses}


def _record(name: str) -> dict[str, Any]:
    return {"type": "object", "required": ["id", "version", "data"], "properties": {
        "id": {"type": "integer"}, "form": {"type": "string"}, "version": {"type": "integer"},
        "form_version": {"type": "integer"}, "owner": {"type": ["integer", "null"]},
        "state": {"type": ["string", "null"]}, "created_at": {"type": "string",
                                                              "format": "date-time"},
        "updated_at": {"type": "string", "format": "date-time"},
        "data": {"$ref": f"#/components/schemas/{name}Data"}}}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


def _form_paths(app: str, form: str, name: str, title: str) -> dict[str, Any]:
    base = f"/api/v1/apps/{app}/forms/{form}/records"
    record_ref = {"$ref": f"#/components/schemas/{name}Record"}
    write = {"type": "object", "required": ["data"], "additionalProperties": False,
             "properties": {"data": {"$ref": f"#/components/schemas/{name}Input"}}}
    patch = {"type": "object", "required": ["data"], "additionalProperties": False,
             "properties": {"data": {"type": "object"}}}
    record_id = {"name": "id", "in": "path", "required": True,
                 "schema": schemas.ID}
    return {
        base: {
            "get": {"operationId": f"list_{form}", "summary": f"Find {title} records",
                    "tags": [title], "parameters": [
                        {"name": key, "in": "query", "required": False,
                         "schema": {"type": "string"}}
                        for key in ("filter", "sort", "search", "fields", "cursor")],
                    "responses": {"200": {"description": "A page", **_json({
                        "type": "object", "properties": {
                            "items": {"type": "array", "items": record_ref},
                            "next_cursor": {"type": ["string", "null"]}}})},
                        **_errors(401, 404, 422)}},
            "post": {"operationId": f"create_{form}", "summary": f"Create a {title} record",
                     "tags": [title], "requestBody": {"required": True, **_json(write)},
                     "responses": {"201": {"description": "Created", **_json(record_ref)},
                                   **_errors(401, 403, 404, 409, 422)}},
        },
        f"{base}/{{id}}": {
            "parameters": [record_id],
            "get": {"operationId": f"get_{form}", "summary": f"Get a {title} record",
                    "tags": [title],
                    "responses": {"200": {"description": "The record", **_json(record_ref)},
                                  **_errors(401, 404)}},
            "patch": {"operationId": f"update_{form}", "summary": f"Change a {title} record",
                      "tags": [title], "requestBody": {"required": True, **_json(patch)},
                      "responses": {"200": {"description": "Changed", **_json(record_ref)},
                                    **_errors(401, 403, 404, 409, 412, 422)}},
            "delete": {"operationId": f"delete_{form}", "tags": [title],
                       "summary": f"Move a {title} record to the recycle bin",
                       "responses": {"200": {"description": "Deleted", **_json(record_ref)},
                                     **_errors(401, 403, 404, 412)}},
        },
    }


def build_app_document(principal: Principal, app_key: str) -> dict[str, Any]:
    scope = scope_of(principal)
    app = app_service.app_by_key(scope, app_key)
    components: dict[str, Any] = {"Error": schemas.ERROR}
    paths: dict[str, Any] = {}
    forms = scope.session.scalars(scope.select(Form, Form.app_id == app.id).order_by(Form.key))
    for form in forms:
        if form.published_version is None:
            continue
        compiled = form_service.compiled(scope, form_service.version_row(scope, form))
        name = _name(form.key)
        title = label_text(compiled.label, principal.locale)
        components[f"{name}Input"] = _clean(input_schema(compiled))
        components[f"{name}Data"] = _clean(record_schema(compiled))
        components[f"{name}Record"] = _record(name)
        paths.update(_form_paths(app.key, form.key, name, title))
    return {
        "openapi": "3.1.0",
        "info": {"title": f"{label_text(app.name, principal.locale)} (Loom app {app.key})",
                 "version": "1", "description": "Records of this app's published forms."},
        "servers": [{"url": "/"}], "paths": paths,
        "components": {"schemas": components, "securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer"}}},
        "security": [{"bearer": []}],
    }


@api.get("/apps/<app>/openapi.json")
@operation("This app's forms as typed schemas, with their record endpoints",
           tags=("Apps and forms",), responses={200: {"type": "object"}})
def app_openapi(principal: Principal, app: str):
    return build_app_document(principal, app)
