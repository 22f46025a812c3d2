"""The customer pool (公海): records nobody owns. A role with `pool` sees them besides its
read scope and may claim one — then it is theirs and leaves the pool for everyone else;
changing one needs claiming it first. Roles without `pool` never see the pool."""

from __future__ import annotations

import threading
from functools import partial

import pytest

from tests.conftest import PASSWORD, bearer, created

CUSTOMER = {"key": "customer", "fields": [
    {"key": "name", "type": "text", "required": True},
    {"key": "stage", "type": "select", "options": [{"value": "new"}, {"value": "lost"}]}]}
URL = "/api/v1/apps/crm/forms/customer/records"
# Customers marked lost go back to the pool (the automation action the pool is fed by).
TO_POOL = {"key": "lost_to_pool", "form": "customer",
           "trigger": {"on": "updated", "fields": ["stage"]}, "condition": "stage == 'lost'",
           "actions": [{"type": "release_to_pool"}]}


@pytest.fixture
def sales(client, tenant_a) -> dict[str, dict]:
    """Ann and Bob sell (their own customers, and the pool); Vic is a junior who reads only
    his own; Fay in finance reads all but has no pool rights."""
    post = partial(created, client, headers=tenant_a.headers)
    department = post("/api/v1/admin/departments", {"name": "Sales"})
    roles = {key: post("/api/v1/admin/roles", {"key": key, "name": key})["id"]
             for key in ("sales", "junior", "finance")}
    people = {}
    for name, role, locale in (("ann", "sales", "en"), ("bob", "sales", "zh"),
                               ("vic", "junior", "en"), ("fay", "finance", "en")):
        user = post("/api/v1/admin/users", {
            "email": f"{name}@alpha.example", "password": PASSWORD, "locale": locale,
            "roles": [roles[role]], "department_id": department["id"]})
        token = post("/api/v1/admin/tokens", {"user_id": user["id"], "name": name})["token"]
        people[name] = {"id": user["id"], "headers": bearer(token),
                        "email": f"{name}@alpha.example"}
    post("/api/v1/apps", {"key": "crm", "name": "CRM"})
    post("/api/v1/apps/crm/forms", CUSTOMER)
    post("/api/v1/apps/crm/forms/customer/publish", {})
    own = {"can_create": True, "read": "own", "update": "own", "delete": "own"}
    response = client.put("/api/v1/apps/crm/forms/customer/permissions",
                          headers=tenant_a.headers, json={"items": [
                              {"role": "sales", **own, "pool": True},
                              {"role": "junior", **own},
                              {"role": "finance", "read": "all"}]})
    assert response.status_code == 200, response.get_json()
    post("/api/v1/apps/crm/automations", TO_POOL)
    post("/api/v1/apps/crm/automations/lost_to_pool/publish", {})
    people["department"] = department["id"]
    return people


def new_customer(client, person, name) -> dict:
    return created(client, URL, {"data": {"name": name, "stage": "new"}}, person["headers"])


def pooled(client, tenant_a, name) -> dict:
    """A customer the administrator created and lost: now in the pool."""
    record = new_customer(client, {"headers": tenant_a.headers}, name)
    lost = client.patch(f"{URL}/{record['id']}", json={"data": {"stage": "lost"}},
                        headers=tenant_a.headers)
    assert lost.status_code == 200, lost.get_json()
    record = client.get(f"{URL}/{record['id']}", headers=tenant_a.headers).get_json()
    assert record["owner"] is None
    return record


def names(client, person, query: str = "") -> list[str]:
    items = client.get(f"{URL}?sort=name{query}", headers=person["headers"]).get_json()["items"]
    return [item["data"]["name"] for item in items]


def count(client, person) -> int:
    return client.get(f"{URL}?count=true", headers=person["headers"]).get_json()["count"]


def claim(client, person, record_id):
    return client.post(f"{URL}/{record_id}/claim", headers=person["headers"])


def test_permissions_carry_pool_and_it_defaults_to_false(client, tenant_a, sales) -> None:
    items = client.get("/api/v1/apps/crm/forms/customer/permissions",
                       headers=tenant_a.headers).get_json()["items"]
    assert {item["role"]: item["pool"] for item in items} == {
        "sales": True, "junior": False, "finance": False}


def test_pool_rights_show_the_pool_in_lists_counts_search_and_export(client, tenant_a,
                                                                     sales) -> None:
    new_customer(client, sales["ann"], "Ann's own")
    new_customer(client, sales["vic"], "Vic's own")
    new_customer(client, {"headers": tenant_a.headers}, "Head office's")
    acme = pooled(client, tenant_a, "Acme")
    assert names(client, sales["ann"]) == ["Acme", "Ann's own"]
    assert count(client, sales["ann"]) == 2
    assert names(client, sales["ann"], "&search=acme") == ["Acme"]
    opened = client.get(f"{URL}/{acme['id']}", headers=sales["ann"]["headers"])
    assert opened.status_code == 200 and opened.get_json()["owner"] is None
    exported = client.get("/api/v1/apps/crm/forms/customer/export?format=csv",
                          headers=sales["ann"]["headers"]).get_data(as_text=True)
    assert "Acme" in exported and "Head office" not in exported


def test_a_pool_record_cannot_be_changed_or_deleted_before_it_is_claimed(client, tenant_a,
                                                                         sales) -> None:
    acme = pooled(client, tenant_a, "Acme")
    changed = client.patch(f"{URL}/{acme['id']}", json={"data": {"name": "Mine now"}},
                           headers=sales["ann"]["headers"])
    assert changed.status_code == 403
    assert changed.get_json()["error"]["code"] == "record_update_forbidden"
    deleted = client.delete(f"{URL}/{acme['id']}", headers=sales["ann"]["headers"])
    assert deleted.status_code == 403
    assert client.get(f"{URL}/{acme['id']}", headers=tenant_a.headers
                      ).get_json()["data"]["name"] == "Acme"


def test_claiming_makes_the_record_yours_and_takes_it_out_of_the_pool(client, tenant_a,
                                                                      sales) -> None:
    acme = pooled(client, tenant_a, "Acme")
    response = claim(client, sales["ann"], acme["id"])
    assert response.status_code == 200, response.get_json()
    claimed = response.get_json()
    assert (claimed["owner"], claimed["department"]) == (sales["ann"]["id"],
                                                         sales["department"])
    assert claimed["version"] == acme["version"] + 1
    assert response.headers["ETag"] == f'"{claimed["version"]}"'
    assert client.get(f"{URL}/{acme['id']}", headers=sales["bob"]["headers"]).status_code == 404
    assert names(client, sales["bob"]) == []
    assert client.patch(f"{URL}/{acme['id']}", json={"data": {"name": "Acme Ltd"}},
                        headers=sales["ann"]["headers"]).status_code == 200
    history = client.get(f"{URL}/{acme['id']}/history",
                         headers=sales["ann"]["headers"]).get_json()["items"]
    entry = next(item for item in history if item["action"] == "claim")
    assert entry["actor"] == sales["ann"]["id"]
    assert entry["changes"] == {"owner": [None, sales["ann"]["id"]],
                                "department": [None, sales["department"]]}


def test_a_second_claim_is_409_already_claimed_in_the_callers_language(client, tenant_a,
                                                                       sales) -> None:
    acme = pooled(client, tenant_a, "Acme")
    assert claim(client, sales["ann"], acme["id"]).status_code == 200
    late = claim(client, sales["bob"], acme["id"])      # no longer sees it, still told why
    assert late.status_code == 409
    assert late.get_json()["error"]["code"] == "already_claimed"
    assert "已被他人领取" in late.get_json()["error"]["message"]   # Bob reads Chinese
    admin = claim(client, {"headers": tenant_a.headers}, acme["id"])
    assert admin.status_code == 409 and "already claimed" in admin.get_json()["error"]["message"]
    assert claim(client, sales["ann"], acme["id"]).status_code == 409   # hers already


def test_a_record_never_in_the_pool_stays_the_same_404(client, tenant_a, sales) -> None:
    vics = new_customer(client, sales["vic"], "Vic's own")
    response = claim(client, sales["ann"], vics["id"])
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "resource_not_found"
    assert claim(client, sales["ann"], 999_999).status_code == 404


def test_a_role_without_pool_rights_never_sees_the_pool(client, tenant_a, sales) -> None:
    new_customer(client, sales["vic"], "Vic's own")
    acme = pooled(client, tenant_a, "Acme")
    assert names(client, sales["vic"]) == ["Vic's own"]
    assert count(client, sales["vic"]) == 1
    assert names(client, sales["vic"], "&search=acme") == []
    for response in (client.get(f"{URL}/{acme['id']}", headers=sales["vic"]["headers"]),
                     client.get(f"{URL}/{acme['id']}/history", headers=sales["vic"]["headers"]),
                     claim(client, sales["vic"], acme["id"])):
        assert response.status_code == 404


def test_reading_everything_is_not_the_right_to_claim(client, tenant_a, sales) -> None:
    acme = pooled(client, tenant_a, "Acme")
    assert "Acme" in names(client, sales["fay"])
    refused = claim(client, sales["fay"], acme["id"])
    assert refused.status_code == 403
    assert refused.get_json()["error"]["code"] == "record_claim_forbidden"


def test_release_to_pool_hands_a_customer_back_for_others_to_claim(client, tenant_a,
                                                                   sales) -> None:
    mine = new_customer(client, sales["ann"], "Ann's lost cause")
    assert names(client, sales["bob"]) == []
    client.patch(f"{URL}/{mine['id']}", json={"data": {"stage": "lost"}},
                 headers=sales["ann"]["headers"])
    released = client.get(f"{URL}/{mine['id']}", headers=sales["ann"]["headers"]).get_json()
    assert (released["owner"], released["department"]) == (None, None)
    assert names(client, sales["bob"]) == ["Ann's lost cause"]
    assert names(client, sales["vic"]) == []
    assert claim(client, sales["bob"], mine["id"]).get_json()["owner"] == sales["bob"]["id"]
    history = client.get(f"{URL}/{mine['id']}/history",
                         headers=sales["bob"]["headers"]).get_json()["items"]
    assert [item["action"] for item in history][-2:] == ["release", "claim"]


def test_of_two_claims_at_once_exactly_one_wins(app, db, client, tenant_a, sales) -> None:
    """Ann's claim holds the row; Bob's, in another session, waits for it and then finds
    the record taken."""
    from crm_platform.auth.login import principal_for
    from crm_platform.errors import Conflict
    from crm_platform.models import Form, User
    from crm_platform.scoping import TenantScope
    from crm_platform.services.records.owners import claim_record

    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite serializes writers: concurrency is PostgreSQL's to show")
    acme = pooled(client, tenant_a, "Acme")

    def claim_as(session, name: str):
        scope = TenantScope(session, tenant_a.id)
        principal = principal_for(session, scope.find(User, sales[name]["id"]), "token")
        form = session.scalars(scope.select(Form, Form.key == "customer")).one()
        return claim_record(scope, principal, form, acme["id"])

    outcome: dict[str, object] = {}

    def bob_claims() -> None:
        try:
            with db.transaction() as session:
                claim_as(session, "bob")
            outcome["bob"] = "claimed"
        except Conflict as conflict:
            outcome["bob"] = conflict.code

    with db.transaction() as session:
        claim_as(session, "ann")
        rival = threading.Thread(target=bob_claims)
        rival.start()
        rival.join(timeout=1)
        assert rival.is_alive()          # waiting for Ann's row lock
    rival.join(timeout=10)
    assert outcome == {"bob": "already_claimed"}
    assert client.get(f"{URL}/{acme['id']}", headers=tenant_a.headers
                      ).get_json()["owner"] == sales["ann"]["id"]


def test_many_claims_through_the_api_at_once_give_one_owner(app, db, client, tenant_a,
                                                            sales) -> None:
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite serializes writers: concurrency is PostgreSQL's to show")
    acme = pooled(client, tenant_a, "Acme")
    start = threading.Barrier(4)
    statuses: list[int] = []

    def claim_once(person) -> None:
        caller = app.test_client()
        start.wait()
        statuses.append(claim(caller, person, acme["id"]).status_code)

    threads = [threading.Thread(target=claim_once, args=(sales[name],))
               for name in ("ann", "bob", "ann", "bob")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200, 409, 409, 409]
    history = client.get(f"{URL}/{acme['id']}/history",
                         headers=tenant_a.headers).get_json()["items"]
    assert [item["action"] for item in history].count("claim") == 1


def test_a_lookup_may_point_at_a_pool_record_the_person_sees(client, tenant_a, sales):
    """A salesperson with the pool may link a note to a pool customer (the picker offers
    it); a junior without the pool is told the customer does not exist, as for any record
    they may not read."""
    post = partial(created, client, headers=tenant_a.headers)
    post("/api/v1/apps/crm/forms", {"key": "note", "fields": [
        {"key": "text", "type": "text"},
        {"key": "customer", "type": "lookup", "form": "customer", "display_field": "name"}]})
    post("/api/v1/apps/crm/forms/note/publish", {})
    customer = pooled(client, tenant_a, "Pooled Ltd")
    notes = "/api/v1/apps/crm/forms/note/records"
    linked = client.post(notes, json={"data": {"text": "call", "customer": customer["id"]}},
                         headers=sales["ann"]["headers"])
    assert linked.status_code == 201, linked.get_json()
    refused = client.post(notes, json={"data": {"text": "call", "customer": customer["id"]}},
                          headers=sales["vic"]["headers"])
    assert refused.status_code == 422
    assert refused.get_json()["error"]["fields"][0]["path"] == "data.customer"
