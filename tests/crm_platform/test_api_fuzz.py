"""Schemathesis fuzzes every documented operation of both OpenAPI documents — the platform's
and an app's own, typed by its forms — with `EXAMPLES` cases each, on SQLite and on
PostgreSQL: whatever it sends, never a server error, every answer matches the documented
response schemas, and invalid data is rejected.

Form definitions are recursive (a subtable holds fields), which Schemathesis cannot
generate from; those operations get arbitrary JSON documents and definition-shaped
documents from Hypothesis instead, and must still answer without a server error.
"""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.core.errors import UnsupportedSchema
from schemathesis.specs.openapi.checks import (
    negative_data_rejection,
    response_schema_conformance,
)

from tests.conftest import bearer

CHECKS = [not_a_server_error, response_schema_conformance, negative_data_rejection]
EXAMPLES = 50
# An app whose forms cover the field types a client writes, for the app's own document.
ACCOUNT = {"key": "account", "fields": [
    {"key": "name", "type": "text", "required": True, "max_length": 100},
    {"key": "note", "type": "textarea"},
    {"key": "employees", "type": "number", "kind": "integer", "min": 0},
    {"key": "revenue", "type": "currency"},
    {"key": "share", "type": "percent"},
    {"key": "active", "type": "boolean"},
    {"key": "since", "type": "date"},
    {"key": "called_at", "type": "datetime"},
    {"key": "opens", "type": "time"},
    {"key": "tier", "type": "select", "options": [{"value": "gold"}, {"value": "std"}]},
    {"key": "tags", "type": "multiselect", "options": [{"value": "vip"}, {"value": "new"}]},
    {"key": "email", "type": "email", "unique": True},
    {"key": "phone", "type": "phone", "indexed": True},
    {"key": "site", "type": "url", "pattern": "^https://"},
    {"key": "stars", "type": "rating"},
    {"key": "rep", "type": "user"},
    {"key": "team", "type": "department"},
    {"key": "address", "type": "address"},
    {"key": "lines", "type": "subtable", "fields": [
        {"key": "qty", "type": "number", "kind": "integer", "min": 1},
        {"key": "price", "type": "currency"}]},
    {"key": "code", "type": "autonumber", "pattern": "AC-{seq:4}"},
    {"key": "tax", "type": "formula", "expression": "revenue * 0.1 if revenue else 0"}],
    "dedup": [["name", "phone"]]}
CONTACT = {"key": "contact", "fields": [
    {"key": "name", "type": "text", "required": True},
    {"key": "account", "type": "lookup", "form": "account"}]}
FIELD_TYPES = ["text", "number", "select", "subtable", "formula", "rollup", "lookup", "txt"]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20)
fields = st.fixed_dictionaries(
    {"key": st.from_regex(r"\A[a-z][a-z0-9_]{0,8}\Z") | st.text(max_size=5),
     "type": st.sampled_from(FIELD_TYPES)},
    optional={"required": json_values, "expression": st.text(max_size=30),
              "options": json_values, "fields": st.lists(json_values, max_size=2),
              "visible_if": st.text(max_size=30), "default": json_values})
definitions = st.fixed_dictionaries(
    {"key": st.sampled_from(["lead", "fuzzed"]), "fields": st.lists(fields, max_size=5)},
    optional={"rules": json_values, "layout": json_values, "title": json_values,
              "dedup": json_values}) | json_values


def test_no_operation_fails_or_breaks_its_contract(app, client, tenant_a,
                                                    platform_token) -> None:
    client.post("/api/v1/apps", json={"key": "crm", "name": "CRM"}, headers=tenant_a.headers)
    client.post("/api/v1/apps/crm/forms", headers=tenant_a.headers,
                json={"key": "lead", "fields": [{"key": "name", "type": "text"}]})
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 35
    skipped = []
    for operation in operations:
        token = platform_token if "/admin/tenants" in operation.path else tenant_a.token
        try:
            fuzz_operation(operation, token)
        except UnsupportedSchema:
            skipped.append(operation.path)
    assert sorted(set(skipped)) == ["/api/v1/apps/{app}/forms",
                                    "/api/v1/apps/{app}/forms/{form}/draft"]
    fuzz_definitions(client, tenant_a)


def test_no_operation_of_an_apps_own_document_fails(app, client, tenant_a) -> None:
    headers = tenant_a.headers
    assert client.post("/api/v1/apps", json={"key": "sales", "name": "Sales"},
                       headers=headers).status_code == 201
    for form in (ACCOUNT, CONTACT):
        assert client.post("/api/v1/apps/sales/forms", json=form,
                           headers=headers).status_code == 201, form["key"]
        assert client.post(f"/api/v1/apps/sales/forms/{form['key']}/publish", json={},
                           headers=headers).status_code == 201
    schema = schemathesis.openapi.from_wsgi("/api/v1/apps/sales/openapi.json", app,
                                            headers=headers)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 10
    for operation in operations:
        fuzz_operation(operation, tenant_a.token)


def fuzz_operation(operation, token: str) -> None:
    @given(case=operation.as_strategy())
    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    def fuzz(case) -> None:
        case.call_and_validate(headers=bearer(token), checks=CHECKS)

    fuzz()


def fuzz_definitions(client, world) -> None:
    @given(body=definitions, path=st.sampled_from(["/api/v1/apps/crm/forms",
                                                   "/api/v1/apps/crm/forms/lead/draft"]))
    @settings(max_examples=150, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    def fuzz(body, path) -> None:
        method = "POST" if path.endswith("/forms") else "PUT"
        response = client.open(path, method=method, json=body, headers=world.headers)
        assert response.status_code < 500, (body, response.get_data(as_text=True)[:500])
        if response.status_code >= 400:
            assert response.get_json()["error"]["code"]

    fuzz()
