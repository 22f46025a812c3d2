"""Role × form permissions: scopes (own, department, department tree, all), create rights
and field-level hidden / read-only — one policy for every way records are reached."""

from __future__ import annotations

from functools import partial

import pytest

from tests.conftest import bearer, created

DEAL = {"key": "deal", "fields": [
    {"key": "name", "type": "text", "required": True},
    {"key": "amount", "type": "currency"},
    {"key": "margin", "type": "percent"},
    {"key": "stage", "type": "select", "options": [{"value": "new"}, {"value": "won"}]},
]}


@pytest.fixture
def company(client, tenant_a):
    """Sales (North under it) with a manager, two reps and a finance clerk."""
    headers = tenant_a.headers
    post = partial(created, client, headers=headers)

    sales = post("/api/v1/admin/departments", {"name": "Sales"})
    north = post("/api/v1/admin/departments", {"name": "North", "parent_id": sales["id"]})
    roles = {key: post("/api/v1/admin/roles", {"key": key, "name": key})["id"]
             for key in ("rep", "manager", "finance")}
    people = {}
    for name, department, role in (("manager", sales, "manager"), ("ann", north, "rep"),
                                   ("bob", north, "rep"), ("fay", None, "finance")):
        user = post("/api/v1/admin/users", {
            "email": f"{name}@alpha.example", "roles": [roles[role]],
            **({"department_id": department["id"]} if department else {})})
        token = post("/api/v1/admin/tokens", {"user_id": user["id"], "name": name})["token"]
        people[name] = {"id": user["id"], "headers": bearer(token)}
    post("/api/v1/apps", {"key": "crm", "name": "CRM"})
    post("/api/v1/apps/crm/forms", DEAL)
    client.post("/api/v1/apps/crm/forms/deal/publish", json={}, headers=headers)
    response = client.put("/api/v1/apps/crm/forms/deal/permissions", headers=headers, json={
        "items": [
            {"role": "rep", "can_create": True, "read": "own", "update": "own",
             "delete": "none", "hidden_fields": ["margin"]},
            {"role": "manager", "can_create": True, "read": "department_tree",
             "update": "department_tree", "delete": "department_tree"},
            {"role": "finance", "read": "all", "update": "all",
             "readonly_fields": ["name", "amount", "stage"]},
        ]})
    assert response.status_code == 200, response.get_json()
    return people


URL = "/api/v1/apps/crm/forms/deal/records"


def new_deal(client, person, name, **data):
    response = client.post(URL, json={"data": {"name": name, **data}},
                           headers=person["headers"])
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def visible(client, person) -> list[str]:
    items = client.get(URL, headers=person["headers"]).get_json()["items"]
    return sorted(item["data"]["name"] for item in items)


def test_reps_see_their_own_managers_their_tree_finance_all(client, tenant_a,
                                                            company) -> None:
    new_deal(client, company["ann"], "Ann's deal")
    new_deal(client, company["bob"], "Bob's deal")
    new_deal(client, company["manager"], "Manager's deal")
    admin = {"headers": tenant_a.headers}
    new_deal(client, admin, "Head office deal")
    assert visible(client, company["ann"]) == ["Ann's deal"]
    assert visible(client, company["manager"]) == ["Ann's deal", "Bob's deal", "Manager's deal"]
    assert len(visible(client, company["fay"])) == 4
    assert len(visible(client, admin)) == 4


def test_a_record_out_of_scope_is_the_same_404_everywhere(client, company) -> None:
    bobs = new_deal(client, company["bob"], "Bob's deal")
    ann = company["ann"]["headers"]
    for response in (client.get(f"{URL}/{bobs['id']}", headers=ann),
                     client.patch(f"{URL}/{bobs['id']}", json={"data": {"stage": "won"}},
                                  headers=ann),
                     client.delete(f"{URL}/{bobs['id']}", headers=ann),
                     client.get(f"{URL}/{bobs['id']}/history", headers=ann)):
        assert response.status_code == 404


def test_seeing_is_not_changing(client, company) -> None:
    anns = new_deal(client, company["ann"], "Ann's deal")
    refused = client.delete(f"{URL}/{anns['id']}", headers=company["ann"]["headers"])
    assert refused.status_code == 403
    assert refused.get_json()["error"]["code"] == "record_delete_forbidden"
    assert client.delete(f"{URL}/{anns['id']}",
                         headers=company["manager"]["headers"]).status_code == 200


def test_finance_may_not_create(client, company) -> None:
    response = client.post(URL, json={"data": {"name": "x"}}, headers=company["fay"]["headers"])
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "record_create_forbidden"


def test_hidden_fields_are_never_shown_nor_written(client, tenant_a, company) -> None:
    deal = new_deal(client, company["ann"], "Ann's deal", amount=1000)
    assert "margin" not in deal["data"]
    client.patch(f"{URL}/{deal['id']}", json={"data": {"margin": 12}},
                 headers=company["manager"]["headers"])
    shown = client.get(f"{URL}/{deal['id']}", headers=company["ann"]["headers"]).get_json()
    assert "margin" not in shown["data"]
    history = client.get(f"{URL}/{deal['id']}/history",
                         headers=company["ann"]["headers"]).get_json()["items"]
    assert all("margin" not in entry["changes"] for entry in history)
    written = client.patch(f"{URL}/{deal['id']}", json={"data": {"margin": 50}},
                           headers=company["ann"]["headers"])
    assert written.status_code == 422
    assert written.get_json()["error"]["fields"][0]["code"] == "field_hidden"
    manager_view = client.get(f"{URL}/{deal['id']}", headers=company["manager"]["headers"])
    assert manager_view.get_json()["data"]["margin"] == 12


def test_read_only_fields_cannot_be_changed(client, company) -> None:
    deal = new_deal(client, company["ann"], "Ann's deal", amount=1000)
    fay = company["fay"]["headers"]
    refused = client.patch(f"{URL}/{deal['id']}", json={"data": {"amount": 1}}, headers=fay)
    assert refused.status_code == 422
    assert refused.get_json()["error"]["fields"][0]["code"] == "field_read_only"
    same = client.patch(f"{URL}/{deal['id']}", json={"data": {"amount": 1000, "margin": 8}},
                        headers=fay)
    assert same.status_code == 200  # unchanged read-only values and other fields are fine


def test_filters_and_counts_obey_the_scope(client, company) -> None:
    new_deal(client, company["ann"], "Ann's deal", stage="won")
    new_deal(client, company["bob"], "Bob's deal", stage="won")
    response = client.get(
        f'{URL}?count=true&filter=%7B%22field%22%3A%22stage%22%2C%22op%22%3A%22eq%22%2C'
        f'%22value%22%3A%22won%22%7D', headers=company["ann"]["headers"]).get_json()
    assert response["count"] == 1


def test_a_record_can_be_handed_to_another_owner(client, company) -> None:
    deal = new_deal(client, company["ann"], "Ann's deal")
    moved = client.post(f"{URL}/{deal['id']}/transfer", json={"owner": company["bob"]["id"]},
                        headers=company["manager"]["headers"])
    assert moved.status_code == 200
    assert moved.get_json()["owner"] == company["bob"]["id"]
    assert visible(client, company["ann"]) == []
    assert visible(client, company["bob"]) == ["Ann's deal"]
    history = client.get(f"{URL}/{deal['id']}/history",
                         headers=company["manager"]["headers"]).get_json()["items"]
    assert history[-1]["action"] == "transfer"
    assert history[-1]["changes"]["owner"] == [company["ann"]["id"], company["bob"]["id"]]


def test_permissions_name_their_mistakes(client, tenant_a, company) -> None:
    response = client.put("/api/v1/apps/crm/forms/deal/permissions", headers=tenant_a.headers,
                          json={"items": [{"role": "ghost", "read": "all"},
                                          {"role": "rep", "hidden_fields": ["salary"]}]})
    assert response.status_code == 422
    assert {f["path"] for f in response.get_json()["error"]["fields"]} == {
        "items[0].role", "items[1].hidden_fields[0]"}
    members = client.get("/api/v1/apps/crm/forms/deal/permissions",
                         headers=company["ann"]["headers"])
    assert members.status_code == 403
