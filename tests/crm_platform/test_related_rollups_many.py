"""A customer with rollups over two other forms that both point at it through a lookup
named `customer` (a follow-up's, a contract's): each rollup follows its own records as
they are added, changed, moved, deleted and restored — the one over follow-ups is not
forgotten because the one over contracts links through a field of the same name."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.conftest import created

CUSTOMER = {"key": "customer", "fields": [
    {"key": "name", "type": "text", "required": True},
    {"key": "follow_ups", "type": "rollup", "function": "count",
     "related": {"form": "follow_up", "link_field": "customer"}},
    {"key": "contracts", "type": "rollup", "function": "count",
     "related": {"form": "contract", "link_field": "customer"}},
    {"key": "contract_value", "type": "rollup", "function": "sum", "column": "amount",
     "related": {"form": "contract", "link_field": "customer"}}]}
FOLLOW_UP = {"key": "follow_up", "fields": [
    {"key": "customer", "type": "lookup", "form": "customer"},
    {"key": "note", "type": "text"}]}
CONTRACT = {"key": "contract", "fields": [
    {"key": "customer", "type": "lookup", "form": "customer"},
    {"key": "amount", "type": "currency"}]}
FORMS = "/api/v1/apps/sales/forms"


@pytest.fixture
def customers(client, tenant_a) -> list[int]:
    post = lambda path, body: created(client, path, body, tenant_a.headers)  # noqa: E731
    post("/api/v1/apps", {"key": "sales", "name": "Sales"})
    post(FORMS, {**CUSTOMER, "fields": CUSTOMER["fields"][:1]})
    post(FORMS, FOLLOW_UP)
    post(FORMS, CONTRACT)
    assert client.put(f"{FORMS}/customer/draft", json=CUSTOMER,
                      headers=tenant_a.headers).status_code == 200
    for form in ("customer", "follow_up", "contract"):
        post(f"{FORMS}/{form}/publish", {})
    return [post(f"{FORMS}/customer/records", {"data": {"name": name}})["id"]
            for name in ("Acme", "Globex")]


def totals(client, tenant_a, customer_id: int) -> tuple[int, int, Decimal]:
    data = client.get(f"{FORMS}/customer/records/{customer_id}",
                      headers=tenant_a.headers).get_json()["data"]
    return data["follow_ups"], data["contracts"], Decimal(str(data["contract_value"]))


def add(client, tenant_a, form: str, **data) -> str:
    record = created(client, f"{FORMS}/{form}/records", {"data": data}, tenant_a.headers)
    return f"{FORMS}/{form}/records/{record['id']}"


def test_rollups_over_two_forms_linked_by_the_same_field_name(client, tenant_a,
                                                              customers) -> None:
    acme, globex = customers
    patch = lambda url, data: client.patch(  # noqa: E731
        url, json={"data": data}, headers=tenant_a.headers).status_code

    call = add(client, tenant_a, "follow_up", customer=acme, note="call")
    assert totals(client, tenant_a, acme) == (1, 0, Decimal(0))
    deal = add(client, tenant_a, "contract", customer=acme, amount=Decimal("500"))
    assert totals(client, tenant_a, acme) == (1, 1, Decimal(500))
    add(client, tenant_a, "follow_up", customer=acme, note="visit")
    assert totals(client, tenant_a, acme) == (2, 1, Decimal(500))

    # changed: a contract's amount; moved: a follow-up, then a contract, to Globex
    assert patch(deal, {"amount": 750}) == 200
    assert totals(client, tenant_a, acme) == (2, 1, Decimal(750))
    assert patch(call, {"customer": globex}) == 200
    assert totals(client, tenant_a, acme) == (1, 1, Decimal(750))
    assert totals(client, tenant_a, globex) == (1, 0, Decimal(0))
    assert patch(deal, {"customer": globex}) == 200
    assert totals(client, tenant_a, acme) == (1, 0, Decimal(0))
    assert totals(client, tenant_a, globex) == (1, 1, Decimal(750))

    # deleted and restored, each kind
    for url, gone, back in ((call, (0, 1, Decimal(750)), (1, 1, Decimal(750))),
                            (deal, (1, 0, Decimal(0)), (1, 1, Decimal(750)))):
        assert client.delete(url, headers=tenant_a.headers).status_code in (200, 204)
        assert totals(client, tenant_a, globex) == gone
        assert client.post(f"{url}/restore", json={},
                           headers=tenant_a.headers).status_code == 200
        assert totals(client, tenant_a, globex) == back
    assert totals(client, tenant_a, acme) == (1, 0, Decimal(0))
