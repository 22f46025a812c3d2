"""Records through the API: validated writes, ETag / If-Match, recycle bin, history,
lookups, autonumbers and related rollups from the database — on SQLite and PostgreSQL."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.conftest import bearer

CUSTOMER = {"key": "customer", "fields": [
    {"key": "name", "type": "text", "required": True},
    {"key": "phone", "type": "phone"},
    {"key": "level", "type": "select", "options": [{"value": "a"}, {"value": "b"}]},
    {"key": "order_total", "type": "rollup", "function": "sum",
     "related": {"form": "order", "link_field": "customer"}, "column": "total"},
    {"key": "orders", "type": "rollup", "function": "count",
     "related": {"form": "order", "link_field": "customer"}},
]}
ORDER = {"key": "order", "fields": [
    {"key": "number", "type": "autonumber", "pattern": "SO-{seq:4}"},
    {"key": "customer", "type": "lookup", "form": "customer", "required": True},
    {"key": "signed", "type": "date"},
    {"key": "lines", "type": "subtable", "fields": [
        {"key": "qty", "type": "number", "kind": "integer", "min": 1, "required": True},
        {"key": "price", "type": "currency", "required": True},
        {"key": "sub", "type": "formula", "expression": "qty * price", "precision": 2}]},
    {"key": "total", "type": "rollup", "function": "sum", "subtable": "lines",
     "column": "sub"},
]}


@pytest.fixture
def crm(client, tenant_a):
    headers = tenant_a.headers
    assert client.post("/api/v1/apps", json={"key": "crm", "name": "CRM"},
                       headers=headers).status_code == 201
    # customer first without its rollups (order does not exist yet), then both complete
    draft = {**CUSTOMER, "fields": CUSTOMER["fields"][:3]}
    assert client.post("/api/v1/apps/crm/forms", json=draft, headers=headers).status_code == 201
    assert client.post("/api/v1/apps/crm/forms", json=ORDER, headers=headers).status_code == 201
    assert client.put("/api/v1/apps/crm/forms/customer/draft", json=CUSTOMER,
                      headers=headers).status_code == 200
    for form in ("customer", "order"):
        assert client.post(f"/api/v1/apps/crm/forms/{form}/publish", json={},
                           headers=headers).status_code == 201
    return "/api/v1/apps/crm/forms"


def create(client, world, url, data, **headers):
    return client.post(f"{url}/records", json={"data": data},
                       headers={**world.headers, **headers})


def test_create_validates_and_returns_the_record_with_its_etag(client, tenant_a, crm) -> None:
    response = create(client, tenant_a, f"{crm}/customer", {"name": "Acme", "level": "a"})
    assert response.status_code == 201
    record = response.get_json()
    assert record["data"]["name"] == "Acme" and record["version"] == 1
    assert record["owner"] == tenant_a.admin_id
    assert response.headers["ETag"] == '"1"'
    fetched = client.get(f"{crm}/customer/records/{record['id']}", headers=tenant_a.headers)
    assert fetched.get_json()["data"] == record["data"]


def test_every_problem_is_listed_under_data(client, tenant_a, crm) -> None:
    response = create(client, tenant_a, f"{crm}/customer", {"level": "z", "phone": "123",
                                                            "extra": 1})
    assert response.status_code == 422
    paths = {f["path"]: f["code"] for f in response.get_json()["error"]["fields"]}
    assert paths == {"data.name": "required", "data.level": "not_an_option",
                     "data.phone": "phone_needs_country_code", "data.extra": "unknown_field"}
    listed = client.get(f"{crm}/customer/records", headers=tenant_a.headers).get_json()
    assert listed["items"] == []


def test_money_is_exact_from_request_to_storage_and_back(client, tenant_a, crm) -> None:
    customer = create(client, tenant_a, f"{crm}/customer", {"name": "Acme"}).get_json()
    response = client.post(f"{crm}/order/records", headers=tenant_a.headers,
                           content_type="application/json",
                           data='{"data": {"customer": ' + str(customer["id"]) +
                           ', "lines": [{"qty": 3, "price": 0.1}, {"qty": 1, "price": 0.2}]}}')
    assert response.status_code == 201, response.get_json()
    order = client.get(f"{crm}/order/records/{response.get_json()['id']}",
                       headers=tenant_a.headers)
    text = order.get_data(as_text=True)
    assert '"total": 0.5' in text and '"sub": 0.3' in text


def test_lookups_must_point_at_existing_records(client, tenant_a, crm) -> None:
    response = create(client, tenant_a, f"{crm}/order", {"customer": 999})
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"][0]["path"] == "data.customer"
    assert response.get_json()["error"]["fields"][0]["code"] == "no_such_record"


def test_autonumbers_count_up_and_related_rollups_follow(client, tenant_a, crm) -> None:
    customer = create(client, tenant_a, f"{crm}/customer", {"name": "Acme"}).get_json()
    numbers = []
    for qty in (1, 2):
        order = create(client, tenant_a, f"{crm}/order", {
            "customer": customer["id"], "lines": [{"qty": qty, "price": 10}]}).get_json()
        numbers.append(order["data"]["number"])
    assert numbers == ["SO-0001", "SO-0002"]
    # the customer's rollups follow its orders without the customer being saved
    read = client.get(f"{crm}/customer/records/{customer['id']}",
                      headers=tenant_a.headers).get_json()
    assert Decimal(str(read["data"]["order_total"])) == Decimal(30)
    assert read["data"]["orders"] == 2


def test_patch_changes_only_the_given_fields_and_records_history(client, tenant_a,
                                                                  crm) -> None:
    record = create(client, tenant_a, f"{crm}/customer", {"name": "Acme",
                                                          "level": "a"}).get_json()
    url = f"{crm}/customer/records/{record['id']}"
    changed = client.patch(url, json={"data": {"level": "b"}}, headers=tenant_a.headers)
    assert changed.status_code == 200
    assert changed.get_json()["data"]["name"] == "Acme"
    assert changed.get_json()["version"] == 2 and changed.headers["ETag"] == '"2"'
    history = client.get(f"{url}/history", headers=tenant_a.headers).get_json()["items"]
    assert [entry["action"] for entry in history] == ["create", "update"]
    assert history[1]["changes"] == {"level": ["a", "b"]}
    assert history[1]["actor"] == tenant_a.admin_id


def test_a_stale_if_match_is_412_and_changes_nothing(client, tenant_a, crm) -> None:
    record = create(client, tenant_a, f"{crm}/customer", {"name": "Acme"}).get_json()
    url = f"{crm}/customer/records/{record['id']}"
    client.patch(url, json={"data": {"level": "a"}}, headers=tenant_a.headers)
    stale = client.patch(url, json={"data": {"level": "b"}},
                         headers={**tenant_a.headers, "If-Match": '"1"'})
    assert stale.status_code == 412
    assert stale.get_json()["error"]["code"] == "stale_record"
    assert client.get(url, headers=tenant_a.headers).get_json()["data"]["level"] == "a"
    fresh = client.patch(url, json={"data": {"level": "b"}},
                         headers={**tenant_a.headers, "If-Match": '"2"'})
    assert fresh.status_code == 200
    garbage = client.patch(url, json={"data": {}}, headers={**tenant_a.headers,
                                                           "If-Match": "yesterday"})
    assert garbage.status_code == 400


def test_delete_goes_to_the_recycle_bin_and_restore_brings_it_back(client, tenant_a,
                                                                    crm) -> None:
    record = create(client, tenant_a, f"{crm}/customer", {"name": "Acme"}).get_json()
    url = f"{crm}/customer/records/{record['id']}"
    assert client.delete(url, headers=tenant_a.headers).status_code == 200
    assert client.get(url, headers=tenant_a.headers).status_code == 404
    binned = client.get(f"{crm}/customer/records?deleted=true", headers=tenant_a.headers)
    assert [r["id"] for r in binned.get_json()["items"]] == [record["id"]]
    assert client.post(f"{url}/restore", headers=tenant_a.headers).status_code == 200
    assert client.get(url, headers=tenant_a.headers).status_code == 200
    actions = [e["action"] for e in client.get(f"{url}/history", headers=tenant_a.headers)
               .get_json()["items"]]
    assert actions == ["create", "delete", "restore"]


def test_a_deleted_customer_cannot_be_looked_up(client, tenant_a, crm) -> None:
    record = create(client, tenant_a, f"{crm}/customer", {"name": "Acme"}).get_json()
    client.delete(f"{crm}/customer/records/{record['id']}", headers=tenant_a.headers)
    response = create(client, tenant_a, f"{crm}/order", {"customer": record["id"]})
    assert response.status_code == 422


def test_members_see_and_change_only_their_own_records(client, tenant_a, crm,
                                                       member_token) -> None:
    admins = create(client, tenant_a, f"{crm}/customer", {"name": "Boss's"}).get_json()
    member = bearer(member_token)
    mine = client.post(f"{crm}/customer/records", json={"data": {"name": "Mine"}},
                       headers=member).get_json()
    listed = client.get(f"{crm}/customer/records", headers=member).get_json()["items"]
    assert [r["id"] for r in listed] == [mine["id"]]
    for response in (
        client.get(f"{crm}/customer/records/{admins['id']}", headers=member),
        client.patch(f"{crm}/customer/records/{admins['id']}",
                     json={"data": {"name": "x"}}, headers=member),
        client.delete(f"{crm}/customer/records/{admins['id']}", headers=member),
    ):
        assert response.status_code == 404
    everything = client.get(f"{crm}/customer/records", headers=tenant_a.headers)
    assert len(everything.get_json()["items"]) == 2


def test_an_unpublished_form_takes_no_records(client, tenant_a, crm) -> None:
    client.post(f"{crm}", json={"key": "draft_only", "fields": [{"key": "x", "type": "text"}]},
                headers=tenant_a.headers)
    response = create(client, tenant_a, f"{crm}/draft_only", {"x": "1"})
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "no_published_version"


def test_records_follow_a_new_version_with_its_migration(client, tenant_a, crm) -> None:
    record = create(client, tenant_a, f"{crm}/customer", {"name": "Acme",
                                                          "level": "a"}).get_json()
    changed = {**CUSTOMER, "fields": [*CUSTOMER["fields"][:2],
                                      {"key": "level", "type": "select",
                                       "options": [{"value": "gold"}, {"value": "b"}]},
                                      *CUSTOMER["fields"][3:]]}
    client.put(f"{crm}/customer/draft", json=changed, headers=tenant_a.headers)
    published = client.post(f"{crm}/customer/publish", headers=tenant_a.headers,
                            json={"migrations": {"level": {"map": {"a": "gold"}}}})
    assert published.status_code == 201
    url = f"{crm}/customer/records/{record['id']}"
    updated = client.patch(url, json={"data": {"name": "Acme Ltd"}},
                           headers=tenant_a.headers).get_json()
    assert updated["form_version"] == 2
    assert updated["data"]["level"] == "gold"


def test_concurrent_read_modify_write_with_if_match_loses_no_update(app, client, tenant_a,
                                                                    crm) -> None:
    """Eight clients each add 1 five times; stale writes get 412 and retry."""
    from concurrent.futures import ThreadPoolExecutor

    counter_form = {"key": "counter", "fields": [{"key": "n", "type": "number",
                                                   "kind": "integer"}]}
    client.post(crm, json=counter_form, headers=tenant_a.headers)
    client.post(f"{crm}/counter/publish", json={}, headers=tenant_a.headers)
    record = create(client, tenant_a, f"{crm}/counter", {"n": 0}).get_json()
    url = f"{crm}/counter/records/{record['id']}"

    def add_one_five_times(_: int) -> int:
        worker = app.test_client()
        retries = 0
        for _ in range(5):
            while True:
                current = worker.get(url, headers=tenant_a.headers)
                value = current.get_json()["data"]["n"]
                response = worker.patch(url, json={"data": {"n": value + 1}}, headers={
                    **tenant_a.headers, "If-Match": current.headers["ETag"]})
                if response.status_code == 200:
                    break
                assert response.status_code in (412, 503), response.get_json()
                retries += 1
        return retries

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(add_one_five_times, range(8)))
    final = client.get(url, headers=tenant_a.headers).get_json()
    assert final["data"]["n"] == 40
    assert final["version"] == 41


MEMBER_FORM = {"key": "member", "fields": [
    {"key": "name", "type": "text", "required": True},
    {"key": "phone", "type": "phone", "unique": True},
    {"key": "city", "type": "text"},
], "dedup": [["name", "city"]]}


@pytest.fixture
def members(client, tenant_a, crm):
    client.post(crm, json=MEMBER_FORM, headers=tenant_a.headers)
    assert client.post(f"{crm}/member/publish", json={},
                       headers=tenant_a.headers).status_code == 201
    return f"{crm}/member"


def test_a_retried_create_with_the_same_idempotency_key_makes_one_record(
        client, tenant_a, members) -> None:
    body = {"name": "Li Lei", "phone": "+8613812345678"}
    first = create(client, tenant_a, members, body, **{"Idempotency-Key": "order-7781"})
    again = create(client, tenant_a, members, body, **{"Idempotency-Key": "order-7781"})
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json()["id"] == first.get_json()["id"]
    listed = client.get(f"{members}/records", headers=tenant_a.headers).get_json()["items"]
    assert len(listed) == 1
    other = create(client, tenant_a, members, {"name": "Han Meimei"},
                   **{"Idempotency-Key": "order-7781"})
    assert other.status_code == 409
    assert other.get_json()["error"]["code"] == "idempotency_mismatch"


def test_an_idempotency_key_is_the_callers_own(client, tenant_a, members) -> None:
    """A salesperson who repeats an admin's key and body gets a record of their own, not a
    replay of the admin's (which they may not read)."""
    headers = tenant_a.headers
    role = client.post("/api/v1/admin/roles", json={"key": "sales", "name": "Sales"},
                       headers=headers).get_json()["id"]
    rep = client.post("/api/v1/admin/users", json={"email": "rep@alpha.example",
                                                   "roles": [role]}, headers=headers)
    token = client.post("/api/v1/admin/tokens", json={"user_id": rep.get_json()["id"],
                                                      "name": "rep"}, headers=headers)
    assert client.put(f"{members}/permissions", headers=headers, json={"items": [
        {"role": "sales", "can_create": True, "read": "own", "update": "own",
         "delete": "none"}]}).status_code == 200
    body = {"name": "Li Lei"}
    admins = create(client, tenant_a, members, body, **{"Idempotency-Key": "k-1"})
    rep_headers = bearer(token.get_json()["token"], **{"Idempotency-Key": "k-1"})
    mine = client.post(f"{members}/records", json={"data": body}, headers=rep_headers)
    assert mine.status_code == 201 and "Idempotent-Replayed" not in mine.headers
    assert mine.get_json()["id"] != admins.get_json()["id"]
    again = client.post(f"{members}/records", json={"data": body}, headers=rep_headers)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json()["id"] == mine.get_json()["id"]


def test_concurrent_retries_of_one_create_make_one_record(app, client, tenant_a,
                                                          members) -> None:
    from concurrent.futures import ThreadPoolExecutor

    def send(_: int) -> tuple[int, int | None]:
        response = app.test_client().post(
            f"{members}/records", json={"data": {"name": "Wang Fang"}},
            headers={**tenant_a.headers, "Idempotency-Key": "burst-1"})
        return response.status_code, (response.get_json() or {}).get("id")

    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(pool.map(send, range(6)))
    created = {record_id for status, record_id in answers if status == 201}
    assert len(created) == 1, answers
    assert all(status in (201, 409, 412, 503) for status, _ in answers)
    listed = client.get(f"{members}/records", headers=tenant_a.headers).get_json()["items"]
    assert len(listed) == 1


def test_a_unique_field_refuses_a_second_record_with_the_same_value(client, tenant_a,
                                                                    members) -> None:
    first = create(client, tenant_a, members, {"name": "Li Lei", "phone": "+8613812345678"})
    again = create(client, tenant_a, members, {"name": "Someone", "phone": "+8613812345678"})
    assert again.status_code == 409
    error = again.get_json()["error"]
    assert error["code"] == "duplicate_record"
    assert error["fields"][0]["path"] == "data.phone"
    assert str(first.get_json()["id"]) in error["message"]
    forced = client.post(f"{members}/records?confirm_duplicate=true", headers=tenant_a.headers,
                         json={"data": {"name": "Someone", "phone": "+8613812345678"}})
    assert forced.status_code == 409  # unique is not negotiable


def test_dedup_keys_warn_unless_the_caller_confirms(client, tenant_a, members) -> None:
    first = create(client, tenant_a, members, {"name": "Li Lei", "city": "Beijing"})
    again = create(client, tenant_a, members, {"name": "Li Lei", "city": "Beijing"})
    assert again.status_code == 409
    assert again.get_json()["error"]["code"] == "possible_duplicate"
    assert {f["path"] for f in again.get_json()["error"]["fields"]} == {"data.name", "data.city"}
    assert str(first.get_json()["id"]) in again.get_json()["error"]["message"]
    confirmed = client.post(f"{members}/records?confirm_duplicate=true",
                            json={"data": {"name": "Li Lei", "city": "Beijing"}},
                            headers=tenant_a.headers)
    assert confirmed.status_code == 201
    elsewhere = create(client, tenant_a, members, {"name": "Li Lei", "city": "Shanghai"})
    assert elsewhere.status_code == 201


def test_an_update_into_a_duplicate_is_refused_too(client, tenant_a, members) -> None:
    create(client, tenant_a, members, {"name": "A", "phone": "+8613812345678"})
    second = create(client, tenant_a, members, {"name": "B", "phone": "+8613912345678"})
    response = client.patch(f"{members}/records/{second.get_json()['id']}",
                            json={"data": {"phone": "+8613812345678"}},
                            headers=tenant_a.headers)
    assert response.status_code == 409
    same = client.patch(f"{members}/records/{second.get_json()['id']}",
                        json={"data": {"name": "B2"}}, headers=tenant_a.headers)
    assert same.status_code == 200  # its own value is no duplicate of itself


def test_publishing_a_breaking_change_over_existing_records_needs_a_migration(
        client, tenant_a, crm) -> None:
    create(client, tenant_a, f"{crm}/customer", {"name": "Acme", "level": "a"})
    create(client, tenant_a, f"{crm}/customer", {"name": "Globex"})
    required_level = {**CUSTOMER, "fields": [
        *CUSTOMER["fields"][:2],
        {**CUSTOMER["fields"][2], "required": True}, *CUSTOMER["fields"][3:]]}
    client.put(f"{crm}/customer/draft", json=required_level, headers=tenant_a.headers)
    refused = client.post(f"{crm}/customer/publish", json={}, headers=tenant_a.headers)
    assert refused.status_code == 409
    error = refused.get_json()["error"]
    assert error["code"] == "breaking_change"
    assert error["fields"] == [{
        "path": "migrations.level", "code": "newly_required",
        "message": "Field 'level' becomes required; records without it need a default."}]
    accepted = client.post(f"{crm}/customer/publish", headers=tenant_a.headers,
                           json={"migrations": {"level": {"default": "b"}}})
    assert accepted.status_code == 201
    assert accepted.get_json()["impact"]["fields"]["level"] == {"newly_required": True,
                                                               "missing": 1}


def test_a_batch_creates_and_updates_each_item_on_its_own(client, tenant_a, crm) -> None:
    first = create(client, tenant_a, f"{crm}/customer", {"name": "Acme"}).get_json()
    response = client.post(f"{crm}/customer/records/batch", headers=tenant_a.headers, json={
        "items": [{"data": {"name": "Globex"}},
                  {"data": {"level": "nope"}},
                  {"id": first["id"], "data": {"level": "a"}, "version": 1},
                  {"id": first["id"], "data": {"level": "b"}, "version": 1},
                  {"id": 999999, "data": {"level": "b"}}]})
    assert response.status_code == 200
    results = response.get_json()["items"]
    assert [item["status"] for item in results] == [201, 422, 200, 412, 404]
    assert {f["path"] for f in results[1]["error"]["fields"]} == {"data.name", "data.level"}
    stored = client.get(f"{crm}/customer/records", headers=tenant_a.headers).get_json()
    assert sorted(item["data"]["name"] for item in stored["items"]) == ["Acme", "Globex"]
    acme = client.get(f"{crm}/customer/records/{first['id']}", headers=tenant_a.headers)
    assert acme.get_json()["data"]["level"] == "a" and acme.get_json()["version"] == 2


def test_a_batch_is_at_most_1000_items(client, tenant_a, crm) -> None:
    response = client.post(f"{crm}/customer/records/batch", headers=tenant_a.headers,
                           json={"items": [{"data": {"name": "x"}}] * 1001})
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"][0]["code"] == "too_many_items"


def batch(client, world, url, items, **options):
    response = client.post(f"{url}/records/batch", headers=world.headers,
                           json={"items": items, **options})
    assert response.status_code == 200, response.get_json()
    return response.get_json()["items"]


def test_a_batch_checks_duplicates_against_records_and_earlier_items(client, tenant_a,
                                                                     members) -> None:
    create(client, tenant_a, members, {"name": "Li Lei", "phone": "+8613812345678"})
    results = batch(client, tenant_a, members, [
        {"data": {"name": "A", "phone": "+8613812345678"}},          # an existing phone
        {"data": {"name": "B", "phone": "+8613900000001"}},
        {"data": {"name": "C", "phone": "+8613900000001"}},          # item 1's phone
        {"data": {"name": "Li Lei", "city": "Beijing"}},
        {"data": {"name": "Li Lei", "city": "Beijing"}}])            # item 3's dedup key
    assert [r["status"] for r in results] == [409, 201, 409, 201, 409]
    assert results[0]["error"]["code"] == "duplicate_record"
    assert results[2]["error"]["code"] == "batch_duplicate_item"
    assert results[2]["error"]["fields"][0]["path"] == "data.phone"
    listed = client.get(f"{members}/records?count=true", headers=tenant_a.headers).get_json()
    assert listed["count"] == 3
    history = client.get(f"{members}/records/{results[1]['id']}/history",
                         headers=tenant_a.headers).get_json()["items"]
    assert [(h["action"], h["changes"]["name"]) for h in history] == [("create", [None, "B"])]


def test_an_all_or_nothing_batch_writes_nothing_when_an_item_fails(client, tenant_a,
                                                                   members) -> None:
    results = batch(client, tenant_a, members, [
        {"data": {"name": "A"}}, {"data": {"phone": "not a phone"}}, {"data": {"name": "C"}}],
        on_error="all_or_nothing")
    assert [r["status"] for r in results] == [424, 422, 424]
    assert results[0]["error"]["code"] == "batch_not_written"
    assert client.get(f"{members}/records?count=true",
                      headers=tenant_a.headers).get_json()["count"] == 0
    results = batch(client, tenant_a, members, [{"data": {"name": "A"}},
                                                {"data": {"name": "C"}}],
                    on_error="all_or_nothing")
    assert [r["status"] for r in results] == [201, 201]


def test_a_batch_runs_the_forms_rules_for_each_new_record(client, tenant_a, members) -> None:
    rule = {"key": "tag", "form": "member", "trigger": {"on": "created"},
            "actions": [{"type": "set_fields", "values": {"city": "Shanghai"}}]}
    assert client.post("/api/v1/apps/crm/automations", json=rule,
                       headers=tenant_a.headers).status_code == 201
    assert client.post("/api/v1/apps/crm/automations/tag/publish",
                       headers=tenant_a.headers).status_code == 201
    results = batch(client, tenant_a, members, [{"data": {"name": f"M{i}"}} for i in range(3)])
    for result in results:
        record = client.get(f"{members}/records/{result['id']}",
                            headers=tenant_a.headers).get_json()
        assert record["data"]["city"] == "Shanghai"


def test_a_batch_checks_new_items_against_what_its_changes_leave(client, tenant_a,
                                                                 members) -> None:
    first = create(client, tenant_a, members, {"name": "A"}).get_json()
    results = batch(client, tenant_a, members, [
        {"data": {"name": "B", "phone": "+8613900000009"}},
        {"id": first["id"], "data": {"phone": "+8613900000009"}}])
    assert [r["status"] for r in results] == [409, 200]
    listed = client.get(f"{members}/records?filter=" + '{"field":"phone","op":"eq","value":'
                        '"+8613900000009"}', headers=tenant_a.headers).get_json()["items"]
    assert len(listed) == 1


def test_a_refused_create_does_not_use_up_its_idempotency_key(client, tenant_a,
                                                              members) -> None:
    key = {"Idempotency-Key": "retry-after-fix"}
    refused = create(client, tenant_a, members, {"phone": "not a phone"}, **key)
    assert refused.status_code == 422
    fixed = create(client, tenant_a, members, {"name": "Fixed"}, **key)
    assert fixed.status_code == 201, fixed.get_json()
