"""The record-change hook: every write path announces its changes to the subscribed
listeners, in the change's own transaction."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest

from crm_platform.services.records import changes
from tests.conftest import bearer, created, published_app

FORM = "/api/v1/apps/crm/forms/deal/records"
DEAL = {"key": "deal", "fields": [{"key": "name", "type": "text"},
                                  {"key": "stage", "type": "text"}]}


@pytest.fixture
def heard(app, client, tenant_a) -> Iterator[list[tuple[str, str, dict | None]]]:
    """(event, the record's name, its data before) for every change announced."""
    published_app(client, tenant_a.headers, "crm", DEAL)
    events: list[tuple[str, str, dict | None]] = []
    changes.subscribe("test", changes.Listener(
        listens_to=lambda _scope, form: form.key == "deal",
        changed=lambda _s, _a, _f, record, event, before: events.append(
            (event, record.data.get("name"), None if before is None else dict(before)))))
    yield events
    changes._LISTENERS.pop("test")


def test_single_writes_announce_create_update_and_delete(client, tenant_a, heard):
    record = created(client, FORM, {"data": {"name": "Acme", "stage": "new"}},
                     tenant_a.headers)
    path = f"{FORM}/{record['id']}"
    assert client.patch(path, json={"data": {"stage": "won"}},
                        headers=tenant_a.headers).status_code == 200
    assert client.delete(path, headers=tenant_a.headers).status_code == 200
    assert heard == [("created", "Acme", None),
                     ("updated", "Acme", {"name": "Acme", "stage": "new"}),
                     ("deleted", "Acme", {"name": "Acme", "stage": "won"})]


def test_batches_and_imports_announce_each_created_record(client, tenant_a, heard):
    response = client.post(f"{FORM}/batch", headers=tenant_a.headers, json={"items": [
        {"data": {"name": "One"}}, {"data": {"name": "Two"}}]})
    assert response.status_code == 200, response.get_json()
    upload = client.post("/api/v1/apps/crm/forms/deal/imports", headers=tenant_a.headers,
                         content_type="multipart/form-data",
                         data={"file": (io.BytesIO(b"name,stage\nThree,new\n"), "d.csv")})
    assert upload.status_code == 201, upload.get_json()
    assert heard == [("created", "One", None), ("created", "Two", None),
                     ("created", "Three", None)]


def test_a_listener_that_fails_rolls_the_change_back(client, tenant_a, heard):
    def refuse(*_args):
        raise RuntimeError("listener broke")

    changes.subscribe("test", changes.Listener(listens_to=lambda *_: True, changed=refuse))
    client.application.testing = False  # an unexpected error is a 500, not re-raised
    response = client.post(FORM, json={"data": {"name": "Lost"}}, headers=tenant_a.headers)
    assert response.status_code == 500
    listed = client.get(FORM, headers=bearer(tenant_a.token)).get_json()
    assert listed["items"] == []
