"""Fields marked `indexed` (or `unique`) get real indexes when the form is published, and
filters on them use those indexes."""

from __future__ import annotations

import json
import re
from urllib.parse import quote

import pytest
from sqlalchemy import text

from crm_platform.jobs import wait_for_jobs
from crm_platform.services.storage.data_fields import runtime_indexes

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


def indexed_keys(names, number: int) -> set[str]:
    """The fields the form's plain field indexes are on (`ix_records_f<form>_<key>_<digest
    of the definition>`; the sort indexes end in `__asc_id_…` / `__desc_id_…`)."""
    pattern = re.compile(rf"ix_records_f{number}_([a-z0-9_]+?)_[0-9a-f]{{8}}")
    return {match.group(1) for match in map(pattern.fullmatch, names)
            if match and "__" not in match.group(1)}


def test_an_index_whose_definition_changes_is_built_anew(client, db, tenant_a) -> None:
    """A field that changes type keeps its key but not its index: the old index (on text)
    is dropped and one on the number is built (on SQLite the field itself reads the same,
    json_extract, and keeps its index; its sort orders change). On PostgreSQL the
    full-text index, over the text fields, is rebuilt too: card is no longer text."""
    publish(client, tenant_a)
    number = form_id(db)
    with db.engine.connect() as connection:
        before = {name for name in runtime_indexes(connection, number) if "_card" in name}
        search_before = {name for name in runtime_indexes(connection, number)
                         if "__search_" in name}
    as_number = {**MEMBER, "fields": [{**field, "type": "number", "kind": "integer"}
                                      if field["key"] == "card" else field
                                      for field in MEMBER["fields"]]}
    client.put("/api/v1/apps/crm/forms/member/draft", json=as_number, headers=tenant_a.headers)
    response = client.post("/api/v1/apps/crm/forms/member/publish", json={},
                           headers=tenant_a.headers)
    assert response.status_code == 201, response.get_json()
    wait_for_jobs(client.application)
    with db.engine.connect() as connection:
        after = {name for name in runtime_indexes(connection, number) if "_card" in name}
        search_after = {name for name in runtime_indexes(connection, number)
                        if "__search_" in name}
    assert len(after) == len(before) == 3 and after != before  # the field, its 2 sort orders
    if db.engine.dialect.name == "postgresql":
        assert not after & before  # the field is read as a number now: CAST(… AS BIGINT)
        assert len(search_before) == len(search_after) == 1
        assert search_before != search_after


def form_id(db) -> int:
    with db.engine.connect() as connection:
        return connection.execute(text("SELECT id FROM forms WHERE key = 'member'")).scalar()


def test_publishing_builds_one_index_per_indexed_field(client, db, tenant_a) -> None:
    publish(client, tenant_a)
    with db.engine.connect() as connection:
        names = set(runtime_indexes(connection))
    number = form_id(db)
    assert {"phone", "card", "points"} <= indexed_keys(names, number)
    assert "note" not in indexed_keys(names, number)


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
            connection.execute(text("ANALYZE records"))
            connection.execute(text("SET enable_seqscan = off"))
            plan = connection.execute(text(
                f"EXPLAIN SELECT id FROM records WHERE form_id = {number} "
                f"AND (data ->> 'phone') = '13800000007'")).scalars().all()
        else:
            plan = [row[-1] for row in connection.execute(text(
                f"EXPLAIN QUERY PLAN SELECT id FROM records WHERE form_id = {number} "
                f"AND json_extract(data, '$.phone') = '13800000007'"))]
    assert any(f"ix_records_f{number}_phone" in line for line in plan), plan


def test_republishing_without_indexed_drops_the_fields_indexes(client, db, tenant_a) -> None:
    publish(client, tenant_a)
    number = form_id(db)
    unindexed = {**MEMBER, "fields": [{**field, "indexed": False}
                                      if field["key"] == "points" else field
                                      for field in MEMBER["fields"]]}
    response = client.put("/api/v1/apps/crm/forms/member/draft", json=unindexed,
                          headers=tenant_a.headers)
    assert response.status_code == 200, response.get_json()
    assert client.post("/api/v1/apps/crm/forms/member/publish", json={},
                       headers=tenant_a.headers).status_code == 201
    wait_for_jobs(client.application)
    with db.engine.connect() as connection:
        names = set(runtime_indexes(connection, number))
    assert not {name for name in names if "points" in name}   # writes stop paying for it
    assert "phone" in indexed_keys(names, number)


def sorted_points(client, world, sort: str) -> list[int]:
    """Every record's points, page by page (3 a page) in `sort` order."""
    seen, cursor = [], None
    while True:
        url = f"/api/v1/apps/crm/forms/member/records?sort={sort}&limit=3&fields=points,card"
        body = client.get(url + (f"&cursor={cursor}" if cursor else ""),
                          headers=world.headers).get_json()
        seen += [(item["data"]["points"], item["id"]) for item in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            return seen


def test_ties_follow_the_sort_direction_across_pages(client, db, tenant_a) -> None:
    publish(client, tenant_a)
    for index in range(8):  # points 0, 0, 1, 1, 2, 2, 3, 3: ties fall across pages
        client.post("/api/v1/apps/crm/forms/member/records", headers=tenant_a.headers,
                    json={"data": {"card": f"C{index}", "points": index // 2}})
    down = sorted_points(client, tenant_a, "-points")
    assert down == sorted(down, reverse=True)   # biggest first; the newest first among equals
    up = sorted_points(client, tenant_a, "points")
    assert up == sorted(up) and len(up) == 8 == len({record for _p, record in up})
    with db.engine.connect() as connection:
        if connection.dialect.name != "postgresql":
            return
        # the page is read from the field's sort index (points, id) already in order
        from crm_platform.services.records.query import _PAGES

        sql = next(page.sql for page in _PAGES.values()
                   if "'points'" in page.sql and "DESC" in page.sql)
        connection.execute(text("ANALYZE records"))
        connection.execute(text("SET enable_seqscan = off"))
        plan = connection.exec_driver_sql(
            "EXPLAIN " + sql, dict.fromkeys(("tenant_id_1", "param_1", "param_2"), 1)
        ).scalars().all()
    assert any(f"ix_records_f{form_id(db)}_points__desc_id" in line for line in plan), plan
    assert not any("Sort" in line for line in plan), plan


def test_forms_published_back_to_back_all_get_their_indexes(client, db, tenant_a) -> None:
    """Two CREATE INDEX CONCURRENTLY at once deadlocked on PostgreSQL and one form was left
    without its indexes: builds are serialised, and the form says when they are ready."""
    from crm_platform.jobs import wait_for_jobs

    headers = tenant_a.headers
    client.post("/api/v1/apps", json={"key": "two", "name": "Two"}, headers=headers)
    for key in ("first", "second", "third"):
        assert client.post("/api/v1/apps/two/forms", headers=headers, json={
            "key": key, "fields": [{"key": "code", "type": "text", "indexed": True},
                                   {"key": "amount", "type": "number", "indexed": True}]}
                           ).status_code == 201
    for key in ("first", "second", "third"):
        assert client.post(f"/api/v1/apps/two/forms/{key}/publish", json={},
                           headers=headers).status_code == 201
    wait_for_jobs(client.application)
    for key in ("first", "second", "third"):
        form = client.get(f"/api/v1/apps/two/forms/{key}", headers=headers).get_json()
        assert form["indexes"] == {"ready": True, "pending": []}, key


def test_an_index_a_failed_build_left_invalid_is_built_again(db, client, tenant_a) -> None:
    from sqlalchemy import text

    from crm_platform.services.storage.data_fields import (
        build_indexes,
        index_status,
        wanted_indexes,
    )

    if db.engine.dialect.name != "postgresql":
        return  # only PostgreSQL builds CONCURRENTLY, which can leave an invalid index
    fields = [("code", "text")]
    name = wanted_indexes(db.engine.dialect, 999, fields)[0][0]
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        # what a CONCURRENTLY build that died (a deadlock, a cancel) leaves: the index
        # under its name, marked not valid — which IF NOT EXISTS would keep for ever
        connection.execute(text(f"CREATE INDEX {name} ON records (tenant_id) WHERE false"))
        connection.execute(text(f"UPDATE pg_index SET indisvalid = false WHERE indexrelid = "
                                f"'{name}'::regclass"))
    assert name in index_status(db.engine, 999, fields)
    assert name in build_indexes(db.engine, 999, fields, pause=0)
    assert index_status(db.engine, 999, fields) == []


@pytest.mark.parametrize(("sort", "filtered"), [
    (sort, filtered) for sort in ("points", "-points", "card", "-card", "phone", "-phone")
    for filtered in (False, True, "range")
    if filtered != "range" or sort.endswith("points")])  # text filters by range not at all
def test_a_sorted_page_reads_the_sort_index_without_sorting(client, db, tenant_a, sort,
                                                            filtered) -> None:
    """SQLite's planner preferred the (tenant, form, updated) index and a temporary sort;
    a page sorted by an indexed field now reads that field's sort index in order — with
    or without an equality filter on another indexed field, in both directions, blanks
    last, ties by id — and stops after the page."""
    from crm_platform.services.records.query import _PAGES

    if db.engine.dialect.name != "sqlite":
        return  # PostgreSQL's plan: test_ties_follow_the_sort_direction_across_pages
    publish(client, tenant_a)
    for index in range(30):
        client.post("/api/v1/apps/crm/forms/member/records", headers=tenant_a.headers,
                    json={"data": {"card": f"C{index:02}", "phone": f"{index % 3}",
                                   "points": index % 7 if index % 5 else None}})
    url = f"/api/v1/apps/crm/forms/member/records?sort={sort}&limit=5"
    key = sort.lstrip("-")
    if filtered == "range":   # a bound on the sorted field: the page starts at the bound
        url += "&filter=" + quote(json.dumps({"field": key, "op": "lte", "value": 3}))
    elif filtered:
        other = "phone" if key != "phone" else "card"
        url += "&filter=" + quote(json.dumps({"field": other, "op": "eq", "value": "1"}))
    _PAGES.clear()
    first = client.get(url, headers=tenant_a.headers)
    assert first.status_code == 200, first.get_json()
    (sql,) = [page.sql for page in _PAGES.values()]
    direction = "desc" if sort.startswith("-") else "asc"
    assert f"_{key}__{direction}_id_" in sql                  # INDEXED BY the sort index
    with db.engine.connect() as connection:
        plan = [row[-1] for row in connection.exec_driver_sql(
            "EXPLAIN QUERY PLAN " + sql, tuple([1] * sql.count("?")))]
    assert any(f"_{key}__{direction}_id_" in line for line in plan), plan
    assert not any("TEMP B-TREE" in line for line in plan), plan
    if filtered == "range":
        assert any(line.startswith("SEARCH") for line in plan), plan
