"""Each app publishes an OpenAPI document with its forms as typed record schemas."""

from __future__ import annotations

from openapi_spec_validator import validate

FORM = {"key": "sales_order", "label": {"en": "Sales order", "zh": "销售订单"}, "fields": [
    {"key": "customer", "type": "text", "required": True},
    {"key": "channel", "type": "select", "options": [{"value": "web"}, {"value": "store"}]},
    {"key": "email", "type": "email"},
    {"key": "signed", "type": "date"},
    {"key": "lines", "type": "subtable", "fields": [
        {"key": "qty", "type": "number", "kind": "integer", "min": 1, "required": True},
        {"key": "price", "type": "currency"}]},
    {"key": "total", "type": "formula", "expression": "1"},
]}


def test_the_app_document_is_valid_and_typed(client, tenant_a) -> None:
    headers = tenant_a.headers
    client.post("/api/v1/apps", json={"key": "crm", "name": "CRM"}, headers=headers)
    client.post("/api/v1/apps/crm/forms", json=FORM, headers=headers)
    client.post("/api/v1/apps/crm/forms", headers=headers,
                json={"key": "unpublished", "fields": [{"key": "x", "type": "text"}]})
    client.post("/api/v1/apps/crm/forms/sales_order/publish", json={}, headers=headers)
    response = client.get("/api/v1/apps/crm/openapi.json", headers=headers)
    assert response.status_code == 200
    document = response.get_json()
    validate(document)
    schemas = document["components"]["schemas"]
    data = schemas["SalesOrderInput"]
    assert data["required"] == ["customer"]
    assert data["additionalProperties"] is False
    assert data["properties"]["channel"]["anyOf"][0]["enum"] == ["web", "store"]
    assert data["properties"]["email"]["anyOf"][0]["format"] == "email"
    assert "total" not in data["properties"]  # computed: not writable
    assert schemas["SalesOrderData"]["properties"]["total"]["anyOf"][0]["readOnly"] is True
    assert set(document["paths"]) == {"/api/v1/apps/crm/forms/sales_order/records",
                                      "/api/v1/apps/crm/forms/sales_order/records/{id}"}


def test_another_tenant_gets_404(client, tenant_a, tenant_b) -> None:
    client.post("/api/v1/apps", json={"key": "crm", "name": "CRM"}, headers=tenant_a.headers)
    assert client.get("/api/v1/apps/crm/openapi.json",
                      headers=tenant_b.headers).status_code == 404
