"""A duplicate is always caught, but a caller learns of the other record only what they may
read: a salesperson who sees only their own customers is told that a matching customer
exists and whom to ask — never its id or its values — through the API, a batch and an
import (dry run included)."""

from __future__ import annotations

import io
import json
import re

import pytest

from tests.conftest import bearer, created, published_app

CUSTOMER = {"key": "customer", "fields": [
    {"key": "name", "type": "text", "required": True},
    {"key": "phone", "type": "phone", "unique": True},
    {"key": "city", "type": "text"}],
    "dedup": [["name", "city"]]}
RECORDS = "/api/v1/apps/crm/forms/customer/records"


@pytest.fixture
def team(client, tenant_a):
    post = lambda path, body: created(client, path, body, tenant_a.headers)  # noqa: E731
    published_app(client, tenant_a.headers, "crm", CUSTOMER)
    role = post("/api/v1/admin/roles", {"key": "sales", "name": "Sales"})["id"]
    people = {}
    for key, name in (("li", "Li Na"), ("wang", "Wang Wei")):
        user = post("/api/v1/admin/users", {"email": f"{key}@alpha.example", "name": name,
                                            "roles": [role]})
        token = post("/api/v1/admin/tokens", {"user_id": user["id"], "name": key})["token"]
        people[key] = bearer(token)
    assert client.put("/api/v1/apps/crm/forms/customer/permissions", headers=tenant_a.headers,
                      json={"items": [{"role": "sales", "can_create": True, "read": "own",
                                       "update": "own", "delete": "none"}]}).status_code == 200
    secret = created(client, RECORDS, {"data": {"name": "Secret Co", "phone": "+8613800001111",
                                                "city": "Hangzhou"}}, people["li"])
    people["secret_id"] = secret["id"]
    return people


def mentions(value, secret_id: int) -> bool:
    """Whether `value` (JSON) holds the secret record's id as a number, or its name."""
    text = json.dumps(value, ensure_ascii=False)
    return re.search(rf"(?<![\d.]){secret_id}(?![\d.])", text) is not None or "Secret" in text


def test_a_unique_clash_with_an_unseen_record_names_only_whom_to_ask(client, team) -> None:
    response = client.post(RECORDS, headers=team["wang"], json={"data": {
        "name": "Mine", "phone": "+8613800001111"}})
    assert response.status_code == 409
    error = response.get_json()["error"]
    assert error["code"] == "duplicate_record_unseen"
    assert error["fields"][0]["code"] == "not_unique_unseen"
    assert "Li Na" in error["fields"][0]["message"]
    assert not mentions(error, team["secret_id"])


def test_the_tenant_may_keep_owners_private(client, tenant_a, team) -> None:
    assert client.patch("/api/v1/admin/settings", json={"show_duplicate_owner": False},
                        headers=tenant_a.headers).status_code == 200
    response = client.post(RECORDS, headers=team["wang"],
                           json={"data": {"name": "Mine", "phone": "+8613800001111"}})
    message = response.get_json()["error"]["fields"][0]["message"]
    assert "Li Na" not in message and message.endswith("ask an administrator.")


def test_a_possible_duplicate_unseen_can_still_be_confirmed(client, team) -> None:
    body = {"data": {"name": "Secret Co", "city": "Hangzhou"}}
    response = client.post(RECORDS, headers=team["wang"], json=body)
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "possible_duplicate_unseen"
    assert not mentions(response.get_json(), team["secret_id"])
    confirmed = client.post(f"{RECORDS}?confirm_duplicate=true", headers=team["wang"],
                            json=body)
    assert confirmed.status_code == 201


def test_a_readable_duplicate_is_named_as_before(client, tenant_a, team) -> None:
    response = client.post(RECORDS, headers=tenant_a.headers, json={"data": {
        "name": "Mine", "phone": "+8613800001111"}})
    error = response.get_json()["error"]
    assert error["code"] == "duplicate_record"
    assert error["fields"][0]["code"] == "not_unique"
    assert str(team["secret_id"]) in error["fields"][0]["message"]


def test_batches_do_not_reveal_it_either(client, team) -> None:
    response = client.post(f"{RECORDS}/batch", headers=team["wang"], json={"items": [
        {"data": {"name": "Mine", "phone": "+8613800001111"}}]})
    (item,) = response.get_json()["items"]
    assert item["status"] == 409 and item["error"]["code"] == "duplicate_record_unseen"
    assert not mentions(item["error"], team["secret_id"])


@pytest.mark.parametrize("mode", ["insert", "upsert"])
def test_an_import_dry_run_does_not_reveal_it(client, team, mode) -> None:
    sheet = b"name,phone,city\nA,+8613800001111,X\nSecret Co,+8613900002222,Hangzhou\n"
    response = client.post("/api/v1/apps/crm/forms/customer/imports", headers=team["wang"],
                           data={"file": (io.BytesIO(sheet), "c.csv"), "dry_run": "true",
                                 "mode": mode, "on_error": "valid_only"},
                           content_type="multipart/form-data")
    assert response.status_code == 201, response.get_json()
    errors = sorted(response.get_json()["row_errors"], key=lambda e: e["row"])
    assert [(e["row"], e["code"]) for e in errors] == [
        (2, "not_unique_unseen"), (3, "import_existing_record_unseen")]
    assert all("Li Na" in e["message"] for e in errors)
    assert not mentions([e["message"] for e in errors], team["secret_id"])
