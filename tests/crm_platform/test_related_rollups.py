"""Related rollups are current whenever they are read: a member's total and count of
purchases follow every purchase created, changed, moved to another member, deleted or
restored — through the API, a batch or an import — without saving the member, and without
a lost update when purchases are written at the same time."""

from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest

from tests.conftest import created

MEMBER = {"key": "member", "fields": [
    {"key": "name", "type": "text", "required": True},
    {"key": "spent", "type": "rollup", "function": "sum", "column": "amount",
     "related": {"form": "purchase", "link_field": "member"}},
    {"key": "purchases", "type": "rollup", "function": "count",
     "related": {"form": "purchase", "link_field": "member"}},
    {"key": "vip", "type": "formula", "expression": "spent >= 1000", "result": "boolean"}]}
PURCHASE = {"key": "purchase", "fields": [
    {"key": "member", "type": "lookup", "form": "member"},
    {"key": "amount", "type": "currency"}]}
FORMS = "/api/v1/apps/shop/forms"


@pytest.fixture
def shop(client, tenant_a):
    post = lambda path, body: created(client, path, body, tenant_a.headers)  # noqa: E731
    post("/api/v1/apps", {"key": "shop", "name": "Shop"})
    post(FORMS, {**MEMBER, "fields": MEMBER["fields"][:1]})
    post(FORMS, PURCHASE)
    assert client.put(f"{FORMS}/member/draft", json=MEMBER,
                      headers=tenant_a.headers).status_code == 200
    for form in ("member", "purchase"):
        post(f"{FORMS}/{form}/publish", {})
    return [post(f"{FORMS}/member/records", {"data": {"name": name}})["id"]
            for name in ("Li Na", "Wang Wei")]


def member(client, tenant_a, member_id: int) -> tuple[Decimal, int, bool]:
    data = client.get(f"{FORMS}/member/records/{member_id}",
                      headers=tenant_a.headers).get_json()["data"]
    return Decimal(str(data["spent"])), data["purchases"], data["vip"]


def buy(client, tenant_a, member_id: int, amount: str) -> int:
    return created(client, f"{FORMS}/purchase/records",
                   {"data": {"member": member_id, "amount": Decimal(amount)}},
                   tenant_a.headers)["id"]


def test_rollups_follow_creates_changes_moves_deletes_and_restores(client, tenant_a,
                                                                   shop) -> None:
    li, wang = shop
    first = buy(client, tenant_a, li, "100.5")
    buy(client, tenant_a, li, "200.25")
    assert member(client, tenant_a, li) == (Decimal("300.75"), 2, False)
    url = f"{FORMS}/purchase/records/{first}"
    assert client.patch(url, json={"data": {"amount": 900}},
                        headers=tenant_a.headers).status_code == 200
    assert member(client, tenant_a, li) == (Decimal("1100.25"), 2, True)   # formula too
    assert client.patch(url, json={"data": {"member": wang}},
                        headers=tenant_a.headers).status_code == 200
    assert member(client, tenant_a, li) == (Decimal("200.25"), 1, False)
    assert member(client, tenant_a, wang) == (Decimal(900), 1, False)
    assert client.delete(url, headers=tenant_a.headers).status_code in (200, 204)
    assert member(client, tenant_a, wang) == (Decimal(0), 0, False)
    assert client.post(f"{url}/restore", json={}, headers=tenant_a.headers).status_code == 200
    assert member(client, tenant_a, wang) == (Decimal(900), 1, False)


def test_a_refresh_is_not_a_change_of_the_members_own(client, tenant_a, shop) -> None:
    li, _wang = shop
    before = client.get(f"{FORMS}/member/records/{li}", headers=tenant_a.headers).get_json()
    buy(client, tenant_a, li, "10")
    after = client.get(f"{FORMS}/member/records/{li}", headers=tenant_a.headers).get_json()
    assert after["version"] == before["version"]           # an If-Match still holds
    history = client.get(f"{FORMS}/member/records/{li}/history",
                         headers=tenant_a.headers).get_json()["items"]
    assert [h["action"] for h in history] == ["create"]


def test_rollups_follow_batches_and_imports(client, tenant_a, shop) -> None:
    li, wang = shop
    batch = client.post(f"{FORMS}/purchase/records/batch", headers=tenant_a.headers, json={
        "items": [{"data": {"member": li, "amount": 1}}, {"data": {"member": li, "amount": 2}}]})
    assert batch.status_code == 200
    sheet = f"member,amount\n{wang},5.5\n{wang},4.5\n{li},3\n".encode()
    response = client.post(f"{FORMS}/purchase/imports", headers=tenant_a.headers,
                           data={"file": (io.BytesIO(sheet), "p.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 201, response.get_json()
    assert member(client, tenant_a, li) == (Decimal(6), 3, False)
    assert member(client, tenant_a, wang) == (Decimal(10), 2, False)


def test_concurrent_purchases_are_all_counted(app, client, tenant_a, shop) -> None:
    li, _wang = shop

    def one(_):
        response = app.test_client().post(
            f"{FORMS}/purchase/records", headers=tenant_a.headers,
            json={"data": {"member": li, "amount": Decimal("10.01")}})
        return response.status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(one, range(16)))
    made = statuses.count(201)
    assert made >= 1 and set(statuses) <= {201, 503}
    assert member(client, tenant_a, li)[:2] == (Decimal("10.01") * made, made)
