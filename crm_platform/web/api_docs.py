"""`/api/docs`: a readable reference of the REST API, rendered on the server from the very
OpenAPI document clients read — no third-party viewer, no script, nothing from a CDN."""

from __future__ import annotations

from typing import Any

from flask import current_app, render_template

from crm_platform.api.openapi import build_document
from crm_platform.web import web

METHODS = ("get", "post", "put", "patch", "delete")


def _schema_name(schema: Any) -> str:
    if not isinstance(schema, dict):
        return ""
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    return schema.get("type", "") if isinstance(schema.get("type"), str) else ""


def operations(document: dict[str, Any]) -> list[tuple[str, list[dict[str, Any]]]]:
    """(tag, its operations) in the document's order; each operation as the page shows it."""
    by_tag: dict[str, list[dict[str, Any]]] = {}
    for path, item in document.get("paths", {}).items():
        for method in METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            body = operation.get("requestBody", {}).get("content", {})
            by_tag.setdefault((operation.get("tags") or ["Other"])[0], []).append({
                "method": method.upper(), "path": path,
                "summary": operation.get("summary", ""),
                "description": operation.get("description", ""),
                "parameters": [{"name": p.get("name"), "in": p.get("in"),
                                "required": p.get("required", False),
                                "description": p.get("description", "")}
                               for p in operation.get("parameters", [])],
                "body": [(kind, _schema_name(value.get("schema")))
                         for kind, value in body.items()],
                "responses": [(status, value.get("description", ""))
                              for status, value in operation.get("responses", {}).items()],
                "id": f"{method}-{path}".replace("/", "-").replace("{", "").replace("}", ""),
            })
    return list(by_tag.items())


@web.get("/api/docs")
def api_reference():
    document = build_document(current_app)
    return render_template("docs/api.html", info=document.get("info", {}),
                           tags=operations(document))
