"""Fields marked `indexed` (or `unique`) get real indexes when the form is published, and
filters on them use those indexes."""

from __future__ import annotations

import json
from urllib.parse import quote

from sqlalchemy import text

from crm_platform.jobs import wait_for_jobs
from tests.conftest import runtime_indexes

MEMBER = {"key": "member", "fields": [
    {"key": "phone", "type": "text", "indexed": True},
    {"key": "card", "type": "text", "unique": True},
    {"key": "points", "type": "number", "kind": "integer", "indexed": True},
    {"key": "note", "type": "text"},
]}


def publish(client, world):
    client.post("/api/v1/apps", json={"key": "crm", "name": "CRM"}, headers=world.headers)
    client.post("/api/v1/apps/crm/forms", json=MEMBER, headers=world.headers)
    response = client.post("/api/v1/apps/crm/forms/member/publish", json={},
                           headers=world.headers)
    assert response.status_code == 201
    wait_for_jobs(client.application)  # the indexes are built by a job after the publish


def form_id(db) -> int:
    with db.engine.connect() as connection:
        return connection.execute(text("SELECT id FROM forms WHERE key = 'member'")).scalar()


def test_publishing_builds_one_index_per_indexed_field(client, db, tenant_a) -> None:
    publish(client, tenant_a)
    with db.engine.connect() as connection:
        names = set(runtime_indexes(connection))
    number = form_id(db)
    assert {f"ix_records_f{number}_phone", f"ix_records_f{number}_card",
            f"ix_records_f{number}_points"} <= names
    assert f"ix_records_f{number}_note" not in names


def test_a_filter_on_an_indexed_field_uses_the_index(client, db, tenant_a) -> None:
    publish(client, tenant_a)
    for index in range(30):
        client.post("/api/v1/apps/crm/forms/member/records", headers=tenant_a.headers,
                    json={"data": {"phone": f"138{index:08d}", "card": f"C{index}",
                                   "points": index}})
    rule = json.dumps({"field": "phone", "op": "eq", "value": "13800000007"})
    found = client.get(f"/api/v1/apps/crm/forms/member/records?filter={quote(rule)}",
                       headers=tenant_a.headers).get_json()["items"]
    assert [item["data"]["card"] for item in found] == ["C7"]
    number = form_id(db)
    with db.engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SET enable_seqscan = off"))
            plan = connection.execute(text(
                f"EXPLAIN SELECT id FROM records WHERE form_id = {number} "
                f"AND (data ->> 'phone') = '13800000007'")).scalars().all()
        else:
            plan = [row[-1] for row in connection.execute(text(
                f"EXPLAIN QUERY PLAN SELECT id FROM records WHERE form_id = {number} "
                f"AND json_extract(data, '$.phone') = '13800000007'"))]
    assert any(f"ix_records_f{number}_phone" in line for line in plan), plan
