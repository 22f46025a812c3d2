"""The platform's OpenAPI document is valid and describes every API route."""

from __future__ import annotations

import re

from openapi_spec_validator import validate


def test_document_is_a_valid_openapi_3_1_description(client) -> None:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.get_json()
    validate(document)
    assert document["openapi"].startswith("3.1")


def test_every_api_route_and_method_is_documented(app, client) -> None:
    document = client.get("/api/v1/openapi.json").get_json()
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("api."):  # /api/docs is a page about the API
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}:
            assert method.lower() in document["paths"].get(path, {}), f"{method} {path}"


def test_request_bodies_and_errors_are_described(client) -> None:
    document = client.get("/api/v1/openapi.json").get_json()
    create_user = document["paths"]["/api/v1/admin/users"]["post"]
    schema = create_user["requestBody"]["content"]["application/json"]["schema"]
    assert schema["required"] == ["email"]
    assert schema["additionalProperties"] is False
    assert create_user["responses"]["422"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Error"}
    assert document["paths"]["/api/v1/auth/token"]["post"]["security"] == []
    assert {"/healthz", "/readyz"} <= set(document["paths"])
