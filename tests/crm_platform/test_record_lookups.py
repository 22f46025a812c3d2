"""A lookup may only point at a record the writer can read: one outside their read scope is
refused exactly like one that does not exist, so lookups cannot reveal which ids exist."""

from __future__ import annotations

from tests.conftest import bearer

CUSTOMER = {"key": "customer", "fields": [{"key": "name", "type": "text", "required": True}]}
ORDER = {"key": "order", "fields": [
    {"key": "title", "type": "text", "required": True},
    {"key": "customer", "type": "lookup", "form": "customer"}]}


def test_a_lookup_to_a_record_the_writer_cannot_read_is_refused(client, tenant_a) -> None:
    headers = tenant_a.headers

    def post(path, body, expect=201, who=headers):
        response = client.post(path, json=body, headers=who)
        assert response.status_code == expect, response.get_json()
        return response.get_json()

    post("/api/v1/apps", {"key": "crm", "name": "CRM"})
    for definition in (CUSTOMER, ORDER):
        post("/api/v1/apps/crm/forms", definition)
        post(f"/api/v1/apps/crm/forms/{definition['key']}/publish", {})
    role = post("/api/v1/admin/roles", {"key": "rep", "name": "Rep"})["id"]
    rep = post("/api/v1/admin/users", {"email": "rep@alpha.example", "roles": [role]})
    token = post("/api/v1/admin/tokens", {"user_id": rep["id"], "name": "rep"})["token"]
    for form in ("customer", "order"):
        response = client.put(f"/api/v1/apps/crm/forms/{form}/permissions", headers=headers,
                              json={"items": [{"role": "rep", "can_create": True,
                                               "read": "own", "update": "own",
                                               "delete": "none"}]})
        assert response.status_code == 200, response.get_json()

    customers = "/api/v1/apps/crm/forms/customer/records"
    orders = "/api/v1/apps/crm/forms/order/records"
    theirs = post(customers, {"data": {"name": "Someone else's"}})["id"]
    mine = post(customers, {"data": {"name": "Mine"}}, who=bearer(token))["id"]

    refused = post(orders, {"data": {"title": "A", "customer": theirs}}, 422, bearer(token))
    missing = post(orders, {"data": {"title": "A", "customer": 987654}}, 422, bearer(token))
    assert [f["code"] for f in refused["error"]["fields"]] == ["no_such_record"]
    assert refused["error"]["fields"][0]["path"] == missing["error"]["fields"][0]["path"]

    post(orders, {"data": {"title": "B", "customer": mine}}, 201, bearer(token))
    post(orders, {"data": {"title": "C", "customer": theirs}})  # the administrator reads all
