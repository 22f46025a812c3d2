"""What an approver sees and does through a task: the record as the node shows it (edit
this, read that, nothing of the rest) — even someone with no role on the form — and the
handler step, where a warehouse clerk must fill in the delivery date before the order
goes on."""

from __future__ import annotations

from functools import partial

import pytest

from crm_platform.errors import FieldError, ValidationFailed
from tests.conftest import bearer, created

ORDER_FORM = {"key": "order", "fields": [
    {"key": "customer", "type": "text", "required": True},
    {"key": "amount", "type": "currency"},
    {"key": "discount", "type": "percent"},
    {"key": "cost", "type": "currency"},
    {"key": "margin", "type": "formula", "expression": "amount - cost"},
    {"key": "delivery_date", "type": "date"},
    {"key": "note", "type": "text"}]}
RECORDS = "/api/v1/apps/shop/forms/order/records"


def flow(clerk: int) -> dict:
    return {"key": "order_flow", "form": "order", "nodes": [
        {"key": "start", "type": "start", "next": "manager"},
        {"key": "manager", "type": "approval", "mode": "any", "on_nobody": "admin",
         "approvers": [{"source": "manager_chain", "levels": 1}],
         "fields": {"discount": "edit", "cost": "hidden"}, "next": "warehouse"},
        {"key": "warehouse", "type": "handler",
         "approvers": [{"source": "users", "users": [clerk]}],
         "required": ["delivery_date"], "fields": {"note": "edit", "margin": "hidden",
                                                   "amount": "hidden"},
         "next": "end"},
        {"key": "end", "type": "end"}]}


@pytest.fixture
def shop(client, tenant_a):
    headers = tenant_a.headers
    post = partial(created, client, headers=headers)

    post("/api/v1/apps", {"key": "shop", "name": "Shop"})
    post("/api/v1/apps/shop/forms", ORDER_FORM)
    post("/api/v1/apps/shop/forms/order/publish", {})
    sales = post("/api/v1/admin/roles", {"key": "sales", "name": "Sales"})["id"]
    people = {}
    for name, manager, roles in (("max", None, [sales]), ("ann", "max", [sales]),
                                 ("wes", None, []), ("zoe", None, [])):
        user = post("/api/v1/admin/users", {
            "email": f"{name}@alpha.example", "roles": roles,
            **({"manager_id": people[manager]["id"]} if manager else {})})
        token = post("/api/v1/admin/tokens", {"user_id": user["id"], "name": name})["token"]
        people[name] = {"id": user["id"], "headers": bearer(token)}
    # Sales may not see what an order costs; Wes (the warehouse) has no role on the form.
    response = client.put("/api/v1/apps/shop/forms/order/permissions", headers=headers, json={
        "items": [{"role": "sales", "can_create": True, "read": "all", "update": "own",
                   "delete": "none", "hidden_fields": ["cost", "margin"]}]})
    assert response.status_code == 200, response.get_json()
    post("/api/v1/apps/shop/flows", flow(people["wes"]["id"]))
    post("/api/v1/apps/shop/flows/order_flow/publish", {})
    order = client.post(RECORDS, headers=headers, json={"data": {
        "customer": "Acme", "amount": 1000, "discount": 5, "cost": 600}})
    assert order.status_code == 201, order.get_json()
    people["order"] = order.get_json()["id"]
    ann = people["ann"]
    moved = client.post(f"{RECORDS}/{people['order']}/transfer", headers=headers,
                        json={"owner": ann["id"]})
    assert moved.status_code == 200, moved.get_json()
    submitted = client.post(f"{RECORDS}/{people['order']}/submit", headers=ann["headers"],
                            json={"flow": "order_flow"})
    assert submitted.status_code == 201, submitted.get_json()
    return people


def only_task(client, person):
    (task,) = client.get("/api/v1/tasks", headers=person["headers"]).get_json()["items"]
    return client.get(f"/api/v1/tasks/{task['id']}", headers=person["headers"])


def act(client, person, task, action, body):
    return client.post(f"/api/v1/tasks/{task}/{action}", headers=person["headers"], json=body)


def at_the_warehouse(client, shop):
    """The manager approves; the order reaches Wes's handling node: his task, as he sees it."""
    (manager_task,) = client.get("/api/v1/tasks",
                                 headers=shop["max"]["headers"]).get_json()["items"]
    act(client, shop["max"], manager_task["id"], "approve", {})
    return only_task(client, shop["wes"]).get_json()


def test_the_approver_sees_what_the_node_allows_and_edits_only_that(client, shop) -> None:
    view = only_task(client, shop["max"])
    assert view.status_code == 200, view.get_json()
    body = view.get_json()
    # discount is editable; cost is hidden by the node; margin by Max's role; the rest read
    assert body["fields"] == {"customer": "read", "amount": "read", "discount": "edit",
                              "delivery_date": "read", "note": "read"}
    assert "cost" not in body["record"]["data"] and "margin" not in body["record"]["data"]
    assert body["record"]["data"]["customer"] == "Acme"
    assert body["actions"] == ["approve", "reject", "return", "transfer", "add_signer",
                               "comment"]
    task = body["task"]["id"]
    refused = act(client, shop["max"], task, "approve", {"fields": {"cost": 1}})
    assert refused.status_code == 422
    assert refused.get_json()["error"]["code"] == "flow_field_not_editable"
    done = act(client, shop["max"], task, "approve", {"fields": {"discount": 8},
                                                      "comment": "ok at 8"})
    assert done.status_code == 200, done.get_json()
    # Decided, the task no longer opens the record (Max reads it as his role allows).
    closed = client.get(f"/api/v1/tasks/{task}", headers=shop["max"]["headers"]).get_json()
    assert closed["fields"] == {} and closed["record"]["data"] == {}
    assert closed["actions"] == []
    assert closed["task"]["status"] == "approved" and closed["task"]["comment"] == "ok at 8"
    record = client.get(f"{RECORDS}/{shop['order']}", headers=shop["max"]["headers"])
    assert record.get_json()["data"]["discount"] == 8


def test_someone_without_a_role_on_the_form_works_through_the_task(client, shop) -> None:
    wes = shop["wes"]
    assert client.get(f"{RECORDS}/{shop['order']}", headers=wes["headers"]).status_code == 404
    body = at_the_warehouse(client, shop)
    # The node hides amount and margin and lets Wes edit the note and the delivery date.
    # Wes has no role on the form: the cost, which the sales role hides, stays hidden
    # from him too — nobody sees more for having less access.
    assert body["fields"] == {"customer": "read", "discount": "read",
                              "delivery_date": "edit", "note": "edit"}
    assert set(body["record"]["data"]) <= set(body["fields"])
    assert body["node"] == {"key": "warehouse", "type": "handler", "label": None,
                            "required": ["delivery_date"]}
    assert body["actions"][0] == "complete"
    instance = client.get(f"/api/v1/instances/{body['instance']['id']}",
                          headers=wes["headers"])
    assert instance.status_code == 200
    # Nothing to see for someone with neither a task in it nor a role on the form.
    assert client.get(f"/api/v1/instances/{body['instance']['id']}",
                      headers=shop["zoe"]["headers"]).status_code == 404


def test_a_handler_completes_after_filling_in_what_the_node_requires(client, shop) -> None:
    wes, ann = shop["wes"], shop["ann"]
    task = at_the_warehouse(client, shop)["task"]["id"]

    wrong = act(client, wes, task, "approve", {})
    assert wrong.status_code == 422 and wrong.get_json()["error"]["code"] == "flow_wrong_action"
    assert act(client, wes, task, "reject", {}).get_json()["error"]["code"] == (
        "flow_wrong_action")
    missing = act(client, wes, task, "complete", {"fields": {"note": "dock 3"}})
    assert missing.status_code == 422
    error = missing.get_json()["error"]
    assert error["code"] == "flow_fields_required" and "delivery_date" in error["message"]
    bad = act(client, wes, task, "complete", {"fields": {"delivery_date": "soon"}})
    assert bad.status_code == 422, bad.get_json()
    assert bad.get_json()["error"]["fields"][0]["path"] == "fields.delivery_date"
    order = client.get(f"{RECORDS}/{shop['order']}", headers=ann["headers"]).get_json()
    assert order["data"].get("note") is None and order["locked"] is True   # nothing changed

    done = act(client, wes, task, "complete", {"fields": {"delivery_date": "2026-12-01",
                                                          "note": "dock 3"},
                                               "comment": "booked"})
    assert done.status_code == 200, done.get_json()
    assert done.get_json()["status"] == "approved"
    order = client.get(f"{RECORDS}/{shop['order']}", headers=ann["headers"]).get_json()
    assert order["data"]["delivery_date"] == "2026-12-01" and order["data"]["note"] == "dock 3"
    assert order["locked"] is False
    history = client.get(f"{RECORDS}/{shop['order']}/history",
                         headers=ann["headers"]).get_json()["items"]
    assert ("flow_complete", "booked") in [(h["action"], h["comment"]) for h in history]
    completed = client.get("/api/v1/tasks?status=completed", headers=wes["headers"])
    assert [t["id"] for t in completed.get_json()["items"]] == [task]


def test_a_task_is_nobody_elses_to_see(client, shop, tenant_a) -> None:
    (task,) = client.get("/api/v1/tasks", headers=shop["max"]["headers"]).get_json()["items"]
    for person in (shop["ann"], shop["wes"]):
        assert client.get(f"/api/v1/tasks/{task['id']}",
                          headers=person["headers"]).status_code == 404
    assert client.get(f"/api/v1/tasks/{task['id']}", headers=tenant_a.headers).status_code == 200


def test_a_task_handed_on_no_longer_opens_the_record(client, shop) -> None:
    wes, zoe = shop["wes"], shop["zoe"]
    task = at_the_warehouse(client, shop)["task"]["id"]
    moved = act(client, wes, task, "transfer", {"to": zoe["id"], "comment": "on leave"})
    assert moved.status_code == 200, moved.get_json()
    mine = client.get(f"/api/v1/tasks/{task}", headers=wes["headers"]).get_json()
    assert mine["task"]["status"] == "transferred"
    assert mine["record"]["data"] == {} and mine["fields"] == {} and mine["actions"] == []
    theirs = only_task(client, zoe).get_json()
    assert theirs["fields"]["delivery_date"] == "edit" and "customer" in theirs["record"]["data"]


def test_only_what_the_approver_sent_is_reported_under_fields(client, shop) -> None:
    (manager_task,) = client.get("/api/v1/tasks",
                                 headers=shop["max"]["headers"]).get_json()["items"]
    refused = act(client, shop["max"], manager_task["id"], "approve",
                  {"fields": {"discount": "lots"}})
    assert refused.status_code == 422
    assert [f["path"] for f in refused.get_json()["error"]["fields"]] == ["fields.discount"]
    # a problem with a field the approver did not send (a rule, an action's change) keeps
    # the record's own path
    error = ValidationFailed(fields=[FieldError("data.discount", "not_a_number", {}),
                                     FieldError("data.cost", "too_small", {}),
                                     FieldError("data", "rule", {})])
    assert [f.path for f in error.moved("data", "fields", {"discount"}).fields] == [
        "fields.discount", "data.cost", "data"]
