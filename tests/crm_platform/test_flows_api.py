"""Approval flows through the API: designers create, check, draft, publish and roll back
flows of a form; every problem comes back at its path; nobody else may change them."""

from __future__ import annotations

import copy

from tests.conftest import bearer

QUOTE_FORM = {"key": "quote", "fields": [
    {"key": "customer", "type": "text", "required": True},
    {"key": "amount", "type": "currency"},
    {"key": "discount", "type": "percent"},
    {"key": "rep", "type": "user"}]}
FLOW = {
    "key": "quote_approval", "form": "quote", "entry_condition": "discount > 10",
    "nodes": [
        {"key": "start", "type": "start", "next": "manager"},
        {"key": "manager", "type": "approval", "mode": "any", "on_nobody": "admin",
         "approvers": [{"source": "manager_chain", "levels": 1}],
         "fields": {"discount": "edit"}, "next": "end"},
        {"key": "end", "type": "end"}]}
URL = "/api/v1/apps/crm/flows"


def setup_app(client, world) -> None:
    for path, body in (("/api/v1/apps", {"key": "crm", "name": "CRM"}),
                       ("/api/v1/apps/crm/forms", QUOTE_FORM),
                       ("/api/v1/apps/crm/forms/quote/publish", {})):
        response = client.post(path, json=body, headers=world.headers)
        assert response.status_code == 201, response.get_json()


def test_create_read_publish_and_list(client, tenant_a) -> None:
    setup_app(client, tenant_a)
    created = client.post(URL, json=FLOW, headers=tenant_a.headers)
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["published_version"] is None
    published = client.post(f"{URL}/quote_approval/publish", headers=tenant_a.headers)
    assert published.status_code == 201
    assert published.get_json()["version"] == 1
    assert published.get_json()["form_version"] == 1
    flow = client.get(f"{URL}/quote_approval", headers=tenant_a.headers).get_json()
    assert flow["published"] == FLOW and not flow["has_unpublished_changes"]
    listed = client.get(URL, headers=tenant_a.headers).get_json()["items"]
    assert listed == [{"key": "quote_approval", "form": "quote", "published_version": 1}]


def test_every_problem_is_reported_with_its_path_and_nothing_is_saved(client,
                                                                      tenant_a) -> None:
    setup_app(client, tenant_a)
    broken = copy.deepcopy(FLOW)
    broken["nodes"][1]["fields"] = {"margin": "edit"}
    broken["nodes"][1].pop("on_nobody")
    broken["nodes"].append({"key": "lost", "type": "end"})
    broken["entry_condition"] = "discont > 10"
    response = client.post(URL, json=broken, headers=tenant_a.headers)
    assert response.status_code == 422
    paths = {field["path"]: field["code"] for field in response.get_json()["error"]["fields"]}
    assert paths == {"nodes[1].fields.margin": "flow_unknown_field",
                     "nodes[1].on_nobody": "flow_nobody_policy",
                     "nodes[3]": "flow_unreachable",
                     "entry_condition": "unknown_name"}
    assert client.get(URL, headers=tenant_a.headers).get_json()["items"] == []
    checked = client.post(f"{URL}/check", json=broken, headers=tenant_a.headers).get_json()
    assert not checked["ok"] and len(checked["problems"]) == 4


def test_a_flow_needs_a_published_form_of_the_app(client, tenant_a) -> None:
    setup_app(client, tenant_a)
    response = client.post(URL, json={**FLOW, "form": "invoice"}, headers=tenant_a.headers)
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"][0]["code"] == "flow_no_such_form"


def test_draft_publish_v2_and_roll_back_to_v1(client, tenant_a) -> None:
    setup_app(client, tenant_a)
    client.post(URL, json=FLOW, headers=tenant_a.headers)
    client.post(f"{URL}/quote_approval/publish", headers=tenant_a.headers)
    v2 = copy.deepcopy(FLOW)
    v2["entry_condition"] = "discount > 20"
    saved = client.put(f"{URL}/quote_approval/draft", json=v2, headers=tenant_a.headers)
    assert saved.status_code == 200 and saved.get_json()["has_unpublished_changes"]
    assert client.post(f"{URL}/quote_approval/publish",
                       headers=tenant_a.headers).get_json()["version"] == 2
    rolled = client.post(f"{URL}/quote_approval/rollback", json={"version": 1},
                         headers=tenant_a.headers)
    assert rolled.status_code == 201
    assert rolled.get_json()["version"] == 3 and rolled.get_json()["restores"] == 1
    assert rolled.get_json()["definition"] == FLOW
    versions = client.get(f"{URL}/quote_approval/versions",
                          headers=tenant_a.headers).get_json()["items"]
    assert [v["version"] for v in versions] == [1, 2, 3]
    assert client.post(f"{URL}/quote_approval/rollback", json={"version": 9},
                       headers=tenant_a.headers).status_code == 404


def test_the_key_and_the_form_of_a_flow_are_fixed(client, tenant_a) -> None:
    setup_app(client, tenant_a)
    client.post(URL, json=FLOW, headers=tenant_a.headers)
    renamed = client.put(f"{URL}/quote_approval/draft", json={**FLOW, "key": "other"},
                         headers=tenant_a.headers)
    assert renamed.status_code == 422
    assert client.post(URL, json=FLOW, headers=tenant_a.headers).status_code == 422  # taken


def test_only_designers_change_flows(client, tenant_a, member_token) -> None:
    setup_app(client, tenant_a)
    client.post(URL, json=FLOW, headers=tenant_a.headers)
    member = bearer(member_token)
    assert client.post(URL, json={**FLOW, "key": "mine"}, headers=member).status_code == 403
    assert client.put(f"{URL}/quote_approval/draft", json=FLOW,
                      headers=member).status_code == 403
    assert client.post(f"{URL}/quote_approval/publish", headers=member).status_code == 403
    assert client.post(f"{URL}/check", json=FLOW, headers=member).status_code == 403


def test_messages_follow_the_callers_language(client, tenant_a) -> None:
    setup_app(client, tenant_a)
    client.patch(f"/api/v1/admin/users/{tenant_a.admin_id}", json={"locale": "zh"},
                 headers=tenant_a.headers)
    broken = copy.deepcopy(FLOW)
    broken["nodes"][1]["next"] = "nowhere"
    field = client.post(URL, json=broken, headers=tenant_a.headers).get_json()["error"][
        "fields"]
    assert any("不存在节点 nowhere" in item["message"] for item in field)


def test_a_definition_holding_odd_people_lists_is_a_422_not_a_500(client, tenant_a) -> None:
    from tests.conftest import published_app

    published_app(client, tenant_a.headers, "odd", {"key": "memo", "fields": [
        {"key": "title", "type": "text"}]})
    response = client.post("/api/v1/apps/odd/flows", headers=tenant_a.headers, json={
        "key": "odd", "form": "memo", "nodes": [
            {"key": "start", "type": "start", "next": "boss"},
            {"key": "boss", "type": "approval", "approvers": [
                {"source": "users", "users": [[1], {"x": 1}]}], "next": "end"},
            {"key": "end", "type": "end"}]})
    assert 400 <= response.status_code < 500, response.get_json()
