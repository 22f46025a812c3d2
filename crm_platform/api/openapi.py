"""`/api/v1/openapi.json`: the platform API, assembled from the `@operation` declarations."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask, current_app

from crm_platform.api import api, schemas
from crm_platform.api.operations import operation
from crm_platform.api.schemas import FORM_DEFINITION

_CONVERTER = re.compile(r"<(?:(\w+):)?(\w+)>")
_PARAM_TYPES = {"int": schemas.ID, None: {"type": "string"},
                "string": {"type": "string"}}
_STATUS_TEXT = {200: "OK", 201: "Created", 204: "No content"}
_ERRORS = {
    "400": "Malformed request (for example, invalid JSON)",
    "401": "Not authenticated",
    "403": "Not allowed",
    "404": "Not found (also for objects of another tenant)",
    "413": "Body larger than the configured limit",
    "415": "Body is not JSON",
    "422": "Body or query does not match the schema; `fields` lists each problem",
    "429": "Too many attempts; see Retry-After",
}


def _path_and_parameters(rule: str) -> tuple[str, list[dict[str, Any]]]:
    parameters = []
    for converter, name in _CONVERTER.findall(rule):
        parameters.append({"name": name, "in": "path", "required": True,
                           "schema": _PARAM_TYPES.get(converter or None, {"type": "string"})})
    return _CONVERTER.sub(r"{\2}", rule), parameters


def _response(schema: dict[str, Any] | None, status: int, content_type: str
              ) -> dict[str, Any]:
    response: dict[str, Any] = {"description": _STATUS_TEXT.get(status, "OK")}
    if schema is not None:
        response["content"] = {content_type: {"schema": schema}}
    return response


def build_document(app: Flask) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        view = app.view_functions.get(rule.endpoint)
        spec = getattr(view, "openapi", None)
        if spec is None:
            continue
        path, parameters = _path_and_parameters(rule.rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            entry: dict[str, Any] = {
                "operationId": rule.endpoint.replace(".", "_"),
                "summary": spec.summary,
                "tags": list(spec.tags),
                "responses": {str(status): _response(schema, status, spec.content_type)
                              for status, schema in spec.responses.items()},
            }
            if spec.description:
                entry["description"] = spec.description
            query = [{"name": name, "in": "query", "required": False, "schema": schema,
                      **({"description": schema["description"]} if "description" in schema
                         else {})}
                     for name, schema in spec.query.items()]
            if parameters or query:
                entry["parameters"] = parameters + query
            body = spec.body if spec.body is not None else spec.raw_body
            if body is not None:
                entry["requestBody"] = {"required": True, "content": {
                    "application/json": {"schema": body}}}
            elif spec.upload is not None:
                entry["requestBody"] = {"required": True, "content": {
                    "multipart/form-data": {"schema": {
                        "type": "object", "required": ["file"],
                        "properties": {"file": {"type": "string", "format": "binary"},
                                       **spec.upload}}}}}
            for status, text in _ERRORS.items():
                entry["responses"].setdefault(status, {
                    "description": text,
                    "content": {"application/json": {
                        "schema": {"$ref": "#/components/schemas/Error"}}},
                })
            if not spec.authenticated:
                entry["security"] = []
            paths.setdefault(path, {})[method.lower()] = entry
    return {
        "openapi": "3.1.0",
        "info": {"title": "Loom platform API", "version": "1",
                 "description": "Tenancy, identity and administration. Errors always use the "
                                "`Error` body; messages follow the caller's locale (en, zh)."},
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": {"Error": schemas.ERROR, "FormDefinition": FORM_DEFINITION},
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer",
                           "description": "An API token from POST /api/v1/auth/token."},
                "session": {"type": "apiKey", "in": "cookie", "name": "session",
                            "description": "The web UI's session; unsafe methods also need "
                                           "the X-CSRFToken header."},
            },
        },
        "security": [{"bearer": []}, {"session": []}],
    }


@api.get("/openapi.json")
@operation("This document", tags=("Meta",), authenticated=False,
           responses={200: {"type": "object"}})
def openapi_document():
    return build_document(current_app)
