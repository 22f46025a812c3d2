"""The latest (or earliest) date among related records: a customer's last follow-up, a
member's last purchase — `max` / `min` of a date or date-time column, on SQLite and on
PostgreSQL. The value is the ISO date, kept current like any related rollup, filtered as
a date; and a rule can count 30 days from it to release the customer to the pool."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import quote

import pytest

from tests.conftest import created

RELATED = {"form": "follow_up", "link_field": "customer"}
CUSTOMER = {"key": "customer", "fields": [
    {"key": "name", "type": "text", "required": True},
    {"key": "last_follow_up", "type": "rollup", "function": "max", "column": "day",
     "result": "date", "related": RELATED},
    {"key": "first_follow_up", "type": "rollup", "function": "min", "column": "day",
     "result": "date", "related": RELATED},
    {"key": "last_call_at", "type": "rollup", "function": "max", "column": "at",
     "result": "datetime", "related": RELATED},
    # a number rollup of a date column: blank, neither the year nor a database error
    {"key": "max_as_number", "type": "rollup", "function": "max", "column": "day",
     "related": RELATED},
    {"key": "due", "type": "formula", "expression": "add_days(last_follow_up, 30)",
     "result": "date"}]}
FOLLOW_UP = {"key": "follow_up", "fields": [
    {"key": "customer", "type": "lookup", "form": "customer"},
    {"key": "day", "type": "date"},
    {"key": "at", "type": "datetime"}]}
FORMS = "/api/v1/apps/sales/forms"
RECORDS = f"{FORMS}/customer/records"


@pytest.fixture
def customers(client, tenant_a) -> list[int]:
    post = lambda path, body: created(client, path, body, tenant_a.headers)  # noqa: E731
    post("/api/v1/apps", {"key": "sales", "name": "Sales"})
    post(FORMS, {**CUSTOMER, "fields": CUSTOMER["fields"][:1]})
    post(FORMS, FOLLOW_UP)
    assert client.put(f"{FORMS}/customer/draft", json=CUSTOMER,
                      headers=tenant_a.headers).status_code == 200
    for form in ("customer", "follow_up"):
        post(f"{FORMS}/{form}/publish", {})
    return [post(RECORDS, {"data": {"name": name}})["id"] for name in ("Acme", "Globex")]


def data_of(client, tenant_a, customer_id: int) -> dict:
    response = client.get(f"{RECORDS}/{customer_id}", headers=tenant_a.headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["data"]


def follow_up(client, tenant_a, customer_id: int, day: date, at: str | None = None) -> str:
    record = created(client, f"{FORMS}/follow_up/records",
                     {"data": {"customer": customer_id, "day": day.isoformat(),
                               **({"at": at} if at else {})}}, tenant_a.headers)
    return f"{FORMS}/follow_up/records/{record['id']}"


def dates(client, tenant_a, customer_id: int) -> tuple:
    data = data_of(client, tenant_a, customer_id)
    return data["first_follow_up"], data["last_follow_up"]


def test_the_last_follow_up_is_a_date_kept_current(client, tenant_a, customers) -> None:
    acme, globex = customers
    assert dates(client, tenant_a, acme) == (None, None)
    older = follow_up(client, tenant_a, acme, date(2026, 9, 30), "2026-09-30T09:00:00+08:00")
    newer = follow_up(client, tenant_a, acme, date(2026, 12, 3), "2026-12-03T23:30:00Z")
    data = data_of(client, tenant_a, acme)
    assert (data["first_follow_up"], data["last_follow_up"]) == ("2026-09-30", "2026-12-03")
    assert data["last_call_at"] == "2026-12-03T23:30:00+00:00"
    assert data["max_as_number"] is None
    assert data["due"] == "2027-01-02"                      # a formula reads it as a date

    # changed, moved, deleted, restored
    patch = lambda url, body: client.patch(  # noqa: E731
        url, json={"data": body}, headers=tenant_a.headers).status_code
    assert patch(older, {"day": "2027-01-15"}) == 200
    assert dates(client, tenant_a, acme) == ("2026-12-03", "2027-01-15")
    assert patch(older, {"customer": globex}) == 200
    assert dates(client, tenant_a, acme) == ("2026-12-03", "2026-12-03")
    assert dates(client, tenant_a, globex) == ("2027-01-15", "2027-01-15")
    assert client.delete(newer, headers=tenant_a.headers).status_code in (200, 204)
    assert dates(client, tenant_a, acme) == (None, None)
    assert data_of(client, tenant_a, acme)["last_call_at"] is None
    assert client.post(f"{newer}/restore", json={},
                       headers=tenant_a.headers).status_code == 200
    assert dates(client, tenant_a, acme) == ("2026-12-03", "2026-12-03")


def test_a_date_rollup_filters_and_sorts_as_a_date(client, tenant_a, customers) -> None:
    acme, globex = customers
    follow_up(client, tenant_a, acme, date(2026, 12, 3))
    follow_up(client, tenant_a, globex, date(2026, 2, 10))
    follow_up(client, tenant_a, globex, date(2025, 12, 31))

    def names(filter_: dict, sort: str = "name") -> list[str]:
        response = client.get(f"{RECORDS}?filter={quote(json.dumps(filter_))}&sort={sort}",
                              headers=tenant_a.headers)
        assert response.status_code == 200, response.get_json()
        return [item["data"]["name"] for item in response.get_json()["items"]]

    assert names({"field": "last_follow_up", "op": "gte", "value": "2026-06-01"}) == ["Acme"]
    assert names({"field": "last_follow_up", "op": "between",
                  "value": ["2026-01-01", "2026-12-31"]}, "-last_follow_up") == [
        "Acme", "Globex"]
    assert names({"field": "first_follow_up", "op": "lt", "value": "2026-01-01"}) == [
        "Globex"]


def test_a_total_of_dates_is_refused_when_the_form_is_saved(client, tenant_a,
                                                            customers) -> None:
    bad = {**CUSTOMER, "fields": [*CUSTOMER["fields"], {
        "key": "nonsense", "type": "rollup", "function": "sum", "column": "day",
        "result": "date", "related": RELATED}]}
    response = client.put(f"{FORMS}/customer/draft", json=bad, headers=tenant_a.headers)
    assert response.status_code == 422, response.get_json()
    fields = response.get_json()["error"]["fields"]
    assert [(f["path"], f["code"]) for f in fields] == [
        ("fields[6].function", "rollup_of_dates")]


def test_a_customer_goes_back_to_the_pool_30_days_after_the_last_follow_up(
        client, app, tenant_a, customers) -> None:
    from crm_platform.services.flows.schedules import run_scheduled_rules

    acme, globex = customers       # Globex has no follow-up: no date, never released
    rule = {"key": "to_pool", "form": "customer",
            "trigger": {"on": "date_relative", "field": "last_follow_up", "days": 30},
            "actions": [{"type": "release_to_pool"}]}
    assert client.post("/api/v1/apps/sales/automations", json=rule,
                       headers=tenant_a.headers).status_code == 201
    assert client.post("/api/v1/apps/sales/automations/to_pool/publish",
                       headers=tenant_a.headers).status_code == 201
    start = date.today()
    follow_up(client, tenant_a, acme, start - timedelta(days=5))
    follow_up(client, tenant_a, acme, start)                     # the latest
    at = lambda day: datetime.combine(day, time(12), UTC)  # noqa: E731 (noon: same day in the tenant's zone)

    def owner(customer_id: int) -> int | None:
        return client.get(f"{RECORDS}/{customer_id}",
                          headers=tenant_a.headers).get_json()["owner"]

    assert run_scheduled_rules(app, now=at(start + timedelta(days=29))) == 0
    assert owner(acme) == tenant_a.admin_id
    follow_up(client, tenant_a, acme, start + timedelta(days=20))   # moves the date on
    assert data_of(client, tenant_a, acme)["last_follow_up"] == (
        start + timedelta(days=20)).isoformat()
    assert run_scheduled_rules(app, now=at(start + timedelta(days=31))) == 0
    assert run_scheduled_rules(app, now=at(start + timedelta(days=20 + 29))) == 0
    assert owner(acme) == tenant_a.admin_id
    assert run_scheduled_rules(app, now=at(start + timedelta(days=20 + 31))) == 1
    assert owner(acme) is None
    assert owner(globex) == tenant_a.admin_id
    assert run_scheduled_rules(app, now=at(start + timedelta(days=20 + 32))) == 0   # once
