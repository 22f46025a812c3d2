"""Designers build forms through the API: create, draft, publish, versions, schema, render,
live evaluation — checked by the form engine, permission-checked, tenant-scoped."""

from __future__ import annotations

import copy

import pytest

from form_engine.json_schema import Validator as Draft202012Validator
from tests.conftest import bearer

CUSTOMER = {
    "key": "customer", "label": {"en": "Customer", "zh": "客户"},
    "fields": [
        {"key": "name", "type": "text", "label": {"en": "Name", "zh": "名称"}, "required": True,
         "max_length": 200},
        {"key": "phone", "type": "phone", "unique": True, "indexed": True},
        {"key": "level", "type": "select", "options": [{"value": "a", "label": "A"},
                                                        {"value": "b", "label": "B"}]},
        {"key": "budget", "type": "currency", "currency": "CNY", "visible_if": "level == 'a'",
         "required_if": "level == 'a'"},
        {"key": "score", "type": "formula", "expression": "budget / 10000 if budget else 0",
         "result": "number"},
    ],
    "rules": [{"key": "budget_cap", "error_if": "budget > 5000000", "field": "budget",
               "message": {"en": "Budget above 5M needs a key-account form",
                           "zh": "预算超过500万请使用大客户表单"}}],
    "layout": [{"section": {"en": "Basics", "zh": "基本信息"}, "columns": 2,
                "fields": ["name", "phone", "level", "budget"]}],
    "title": "{name}", "dedup": [["phone"], ["name", "level"]],
}


@pytest.fixture
def crm(client, tenant_a):
    response = client.post("/api/v1/apps", json={"key": "crm", "name": {"en": "CRM"}},
                           headers=tenant_a.headers)
    assert response.status_code == 201
    return "/api/v1/apps/crm"


@pytest.fixture
def customer(client, tenant_a, crm):
    response = client.post(f"{crm}/forms", json=CUSTOMER, headers=tenant_a.headers)
    assert response.status_code == 201, response.get_json()
    return f"{crm}/forms/customer"


def publish(client, world, form_url, **body):
    return client.post(f"{form_url}/publish", json=body, headers=world.headers)


def test_a_designer_creates_and_publishes_a_form(client, tenant_a, customer) -> None:
    shown = client.get(customer, headers=tenant_a.headers).get_json()
    assert shown["published"] is None and shown["has_unpublished_changes"] is True
    response = publish(client, tenant_a, customer)
    assert response.status_code == 201
    assert response.get_json()["version"] == 1
    assert response.get_json()["diff"]["added"] == ["name", "phone", "level", "budget", "score"]
    shown = client.get(customer, headers=tenant_a.headers).get_json()
    assert shown["published_version"] == 1 and shown["has_unpublished_changes"] is False


def test_an_invalid_definition_reports_every_problem_with_its_path(client, tenant_a, crm) -> None:
    broken = copy.deepcopy(CUSTOMER)
    broken["fields"][0]["type"] = "txt"
    broken["fields"][1]["colour"] = "red"
    response = client.post(f"{crm}/forms", json=broken, headers=tenant_a.headers)
    assert response.status_code == 422
    fields = {f["path"]: f for f in response.get_json()["error"]["fields"]}
    assert fields["fields[0].type"]["code"] == "unknown_type"
    assert "'txt'" in fields["fields[0].type"]["message"]
    assert fields["fields[1].colour"]["code"] == "unknown_option"
    assert client.get(f"{crm}/forms", headers=tenant_a.headers).get_json()["items"] == []


def test_expression_problems_name_the_column(client, tenant_a, crm) -> None:
    broken = copy.deepcopy(CUSTOMER)
    broken["fields"][4]["expression"] = "budjet / 10000"
    response = client.post(f"{crm}/forms", json=broken, headers=tenant_a.headers)
    problem = response.get_json()["error"]["fields"][0]
    assert problem["path"] == "fields[4].expression"
    assert problem["message"] == "Unknown name 'budjet' at column 1."


def test_definition_errors_speak_chinese_to_a_chinese_user(client, make_tenant) -> None:
    zhong = make_tenant("zhong", locale="zh")
    client.post("/api/v1/apps", json={"key": "crm", "name": "CRM"}, headers=zhong.headers)
    response = client.post("/api/v1/apps/crm/forms", headers=zhong.headers,
                           json={"key": "x", "fields": [{"key": "a", "type": "txt"}]})
    assert response.get_json()["error"]["message"] == "表单定义中有 1 处问题，详见 fields。"
    assert response.get_json()["error"]["fields"][0]["message"].startswith("未知的字段类型")


def test_saving_the_draft_keeps_the_published_version(client, tenant_a, customer) -> None:
    publish(client, tenant_a, customer)
    draft = copy.deepcopy(CUSTOMER)
    draft["fields"].append({"key": "email", "type": "email"})
    saved = client.put(f"{customer}/draft", json=draft, headers=tenant_a.headers)
    assert saved.status_code == 200
    assert saved.get_json()["has_unpublished_changes"] is True
    assert len(saved.get_json()["published"]["definition"]["fields"]) == 5
    second = publish(client, tenant_a, customer).get_json()
    assert second["version"] == 2 and second["diff"]["added"] == ["email"]
    versions = client.get(f"{customer}/versions", headers=tenant_a.headers).get_json()["items"]
    assert [v["version"] for v in versions] == [1, 2]


def test_the_draft_may_be_wrapped_and_its_key_is_permanent(client, tenant_a, customer) -> None:
    wrapped = client.put(f"{customer}/draft", json={"definition": CUSTOMER},
                         headers=tenant_a.headers)
    assert wrapped.status_code == 200
    renamed = client.put(f"{customer}/draft", json={**CUSTOMER, "key": "client"},
                         headers=tenant_a.headers)
    assert renamed.status_code == 422
    assert renamed.get_json()["error"]["fields"][0]["code"] == "key_is_fixed"


def test_publishing_an_unchanged_draft_is_a_conflict(client, tenant_a, customer) -> None:
    publish(client, tenant_a, customer)
    again = publish(client, tenant_a, customer)
    assert again.status_code == 409
    assert again.get_json()["error"]["code"] == "nothing_to_publish"


def test_lookups_must_point_at_forms_of_the_same_app(client, tenant_a, crm, customer) -> None:
    order = {"key": "order", "fields": [{"key": "customer", "type": "lookup", "form": "customer"},
                                         {"key": "vendor", "type": "lookup", "form": "vendor"}]}
    response = client.post(f"{crm}/forms", json=order, headers=tenant_a.headers)
    assert response.status_code == 422
    assert [f["path"] for f in response.get_json()["error"]["fields"]] == ["fields[1].form"]


def test_schema_exports_json_schema_and_ui_schema(client, tenant_a, customer) -> None:
    publish(client, tenant_a, customer)
    exported = client.get(f"{customer}/schema", headers=tenant_a.headers).get_json()
    assert exported["version"] == 1
    validator = Draft202012Validator(exported["input"])
    assert validator.is_valid({"name": "Acme", "level": "a", "budget": 1000})
    assert not validator.is_valid({"name": "Acme", "score": 3})  # computed: not writable
    assert exported["record"]["properties"]["score"]["anyOf"][0]["readOnly"] is True
    assert exported["ui"]["fields"]["budget"]["visible_if"] == "level == 'a'"
    assert exported["ui"]["layout"][0]["columns"] == 2


def test_draft_schema_and_render_before_publishing(client, tenant_a, customer) -> None:
    assert client.get(f"{customer}/schema", headers=tenant_a.headers).status_code == 404
    assert client.get(f"{customer}/schema?draft=true",
                      headers=tenant_a.headers).get_json()["version"] == "draft"


def test_render_escapes_labels_and_speaks_the_users_language(client, tenant_a, crm,
                                                             make_tenant) -> None:
    hostile = {"key": "evil", "label": "<script>alert(1)</script>",
               "fields": [{"key": "name", "type": "text",
                           "label": {"en": "<script>alert(1)</script>", "zh": "名称"}}]}
    client.post(f"{crm}/forms", json=hostile, headers=tenant_a.headers)
    page = client.get(f"{crm}/forms/evil/render?draft=true", headers=tenant_a.headers)
    assert page.content_type.startswith("text/html")
    html = page.get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_evaluate_previews_visibility_formulas_and_errors(client, tenant_a, customer) -> None:
    publish(client, tenant_a, customer)
    response = client.post(f"{customer}/evaluate", headers=tenant_a.headers, json={
        "data": {"name": "Acme", "level": "a", "budget": "6,000,000"}, "mode": "input"})
    assert response.status_code == 200
    preview = response.get_json()
    assert preview["data"]["score"] == 600
    assert preview["visible"]["budget"] is True and preview["required"]["budget"] is True
    assert preview["errors"] == [{"path": "budget", "code": "rule",
                                  "message": "Budget above 5M needs a key-account form"}]
    hidden = client.post(f"{customer}/evaluate", headers=tenant_a.headers,
                         json={"data": {"level": "b"}}).get_json()
    assert hidden["visible"]["budget"] is False
    assert [e["path"] for e in hidden["errors"]] == ["name"]


def test_money_is_exact_in_and_out(client, tenant_a, customer) -> None:
    publish(client, tenant_a, customer)
    response = client.post(f"{customer}/evaluate", headers=tenant_a.headers,
                           data='{"data": {"name": "x", "level": "a", "budget": 0.07}}',
                           content_type="application/json")
    assert '"budget": 0.07' in response.get_data(as_text=True)
    assert '"score": 0.000007' in response.get_data(as_text=True)


def test_members_read_forms_but_only_designers_change_them(client, tenant_a, member_token,
                                                           customer) -> None:
    member = bearer(member_token)
    assert client.get(customer, headers=member).status_code == 200
    for response in (client.put(f"{customer}/draft", json=CUSTOMER, headers=member),
                     client.post(f"{customer}/publish", json={}, headers=member),
                     client.post("/api/v1/apps", json={"key": "x", "name": "X"},
                                 headers=member)):
        assert response.status_code == 403
        assert response.get_json()["error"]["code"] == "designer_required"


def test_the_designer_role_may_build(client, tenant_a, customer) -> None:
    roles = client.get("/api/v1/admin/roles", headers=tenant_a.headers).get_json()["items"]
    designer = next(r["id"] for r in roles if r["key"] == "designer")
    client.post("/api/v1/admin/users", headers=tenant_a.headers, json={
        "email": "dee@alpha.example", "roles": [designer]})
    token = client.post("/api/v1/admin/tokens", headers=tenant_a.headers, json={
        "user_id": client.get("/api/v1/admin/users", headers=tenant_a.headers)
        .get_json()["items"][-1]["id"], "name": "designer"}).get_json()["token"]
    assert publish(client, tenant_a, customer).status_code == 201
    draft = {**CUSTOMER, "fields": [*CUSTOMER["fields"], {"key": "note", "type": "textarea"}]}
    assert client.put(f"{customer}/draft", json=draft, headers=bearer(token)).status_code == 200
    assert client.post(f"{customer}/publish", json={}, headers=bearer(token)).status_code == 201
