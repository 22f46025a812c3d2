"""Finding records: the filter language, sort with keyset pages, search, projection and
capped counts — on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest

LEAD = {"key": "lead", "fields": [
    {"key": "name", "type": "text", "required": True},
    {"key": "city", "type": "text"},
    {"key": "budget", "type": "currency"},
    {"key": "stage", "type": "select", "options": [{"value": "new"}, {"value": "quote"},
                                                    {"value": "won"}]},
    {"key": "tags", "type": "multiselect", "options": [{"value": "vip"}, {"value": "web"},
                                                        {"value": "fair"}, {"value": "展会"}]},
    {"key": "hot", "type": "boolean"},
    {"key": "follow_up", "type": "date"},
]}
# "today" is the tenant's day (tenants default to Asia/Shanghai), not the server's.
TODAY = datetime.now(ZoneInfo("Asia/Shanghai")).date()
LEADS = [
    {"name": "Acme Ltd", "city": "Beijing", "budget": 120000, "stage": "quote",
     "tags": ["vip", "web"], "hot": True, "follow_up": TODAY.isoformat()},
    {"name": "Globex", "city": "Shanghai", "budget": 5000.5, "stage": "new", "tags": ["web"],
     "hot": False, "follow_up": (TODAY - timedelta(days=3)).isoformat()},
    {"name": "Initech 100%_off", "city": "Beijing", "stage": "won", "tags": []},
    {"name": "Umbrella", "budget": 98000, "stage": "quote", "tags": ["fair"], "hot": True,
     "follow_up": (TODAY + timedelta(days=40)).isoformat()},
    {"name": "北京科技", "city": "北京", "budget": 300000, "stage": "new", "tags": ["展会"]},
]


@pytest.fixture
def leads(client, tenant_a):
    headers = tenant_a.headers
    client.post("/api/v1/apps", json={"key": "crm", "name": "CRM"}, headers=headers)
    client.post("/api/v1/apps/crm/forms", json=LEAD, headers=headers)
    client.post("/api/v1/apps/crm/forms/lead/publish", json={}, headers=headers)
    url = "/api/v1/apps/crm/forms/lead/records"
    for lead in LEADS:
        response = client.post(url, json={"data": lead}, headers=headers)
        assert response.status_code == 201, response.get_json()
    return url


def find(client, world, url, filter_=None, **params):
    query = dict(params)
    if filter_ is not None:
        query["filter"] = json.dumps(filter_)
    text = "&".join(f"{key}={quote(str(value))}" for key, value in query.items())
    return client.get(f"{url}?{text}", headers=world.headers)


def names(response) -> list[str]:
    assert response.status_code == 200, response.get_json()
    return [item["data"]["name"] for item in response.get_json()["items"]]


@pytest.mark.parametrize(("filter_", "expected"), [
    ({"field": "city", "op": "eq", "value": "Beijing"}, ["Acme Ltd", "Initech 100%_off"]),
    ({"field": "city", "op": "ne", "value": "Beijing"}, ["Globex", "Umbrella", "北京科技"]),
    ({"field": "name", "op": "contains", "value": "%_"}, ["Initech 100%_off"]),
    ({"field": "name", "op": "starts_with", "value": "北京"}, ["北京科技"]),
    ({"field": "budget", "op": "gt", "value": 98000}, ["Acme Ltd", "北京科技"]),
    ({"field": "budget", "op": "between", "value": ["5,000.50", 98000]},
     ["Globex", "Umbrella"]),
    ({"field": "budget", "op": "is_empty"}, ["Initech 100%_off"]),
    ({"field": "stage", "op": "in", "value": ["new", "won"]},
     ["Globex", "Initech 100%_off", "北京科技"]),
    ({"field": "tags", "op": "contains", "value": "web"}, ["Acme Ltd", "Globex"]),
    ({"field": "tags", "op": "not_contains", "value": "web"},
     ["Initech 100%_off", "Umbrella", "北京科技"]),
    ({"field": "tags", "op": "contains", "value": "展会"}, ["北京科技"]),
    ({"field": "tags", "op": "in", "value": ["展会", "fair"]}, ["Umbrella", "北京科技"]),
    ({"field": "hot", "op": "eq", "value": True}, ["Acme Ltd", "Umbrella"]),
    ({"field": "follow_up", "op": "today"}, ["Acme Ltd"]),
    ({"field": "follow_up", "op": "last_n_days", "value": 7}, ["Acme Ltd", "Globex"]),
    ({"field": "follow_up", "op": "next_n_days", "value": 60}, ["Acme Ltd", "Umbrella"]),
    ({"and": [{"field": "stage", "op": "eq", "value": "quote"},
              {"or": [{"field": "city", "op": "eq", "value": "Beijing"},
                      {"field": "city", "op": "is_empty"}]}]}, ["Acme Ltd", "Umbrella"]),
])
def test_filters(client, tenant_a, leads, filter_, expected) -> None:
    assert sorted(names(find(client, tenant_a, leads, filter_))) == sorted(expected)


@pytest.mark.parametrize(("filter_", "path", "code"), [
    ({"field": "budjet", "op": "eq", "value": 1}, "filter.field", "unknown_filter_field"),
    ({"field": "tags", "op": "gt", "value": 1}, "filter.op", "operator_not_allowed"),
    ({"field": "budget", "op": "gt", "value": "lots"}, "filter.value", "bad_filter_value"),
    ({"field": "stage", "op": "eq", "value": "lost"}, "filter.value", "bad_filter_value"),
    ({"and": [{"field": "name", "op": "eq", "value": "x"}, "drop table"]}, "filter.and[1]",
     "bad_filter"),
    ({"and": [{"and": [{"and": [{"and": [{"and": [{"and": [
        {"field": "name", "op": "eq", "value": "x"}]}]}]}]}]}]}, "filter.and[0].and[0].and[0]"
     ".and[0].and[0]", "filter_too_deep"),
    ({"field": "name", "op": "eq", "value": "x", "sql": "1=1"}, "filter.sql", "unknown_field"),
])
def test_bad_filters_name_the_problem(client, tenant_a, leads, filter_, path, code) -> None:
    response = find(client, tenant_a, leads, filter_)
    assert response.status_code == 422
    problem = response.get_json()["error"]["fields"][0]
    assert (problem["path"], problem["code"]) == (path, code)


def test_a_filter_that_is_not_json_is_refused(client, tenant_a, leads) -> None:
    response = client.get(f"{leads}?filter=%7Bnope", headers=tenant_a.headers)
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"][0]["path"] == "filter"


def test_sort_pages_by_keyset_with_blanks_last(client, tenant_a, leads) -> None:
    seen = []
    cursor = None
    while True:
        params = {"sort": "-budget,name", "limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = find(client, tenant_a, leads, **params).get_json()
        seen += [item["data"]["name"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ["北京科技", "Acme Ltd", "Umbrella", "Globex", "Initech 100%_off"]
    ascending = names(find(client, tenant_a, leads, sort="city,name", limit=10))
    assert ascending == ["Acme Ltd", "Initech 100%_off", "Globex", "北京科技", "Umbrella"]


def test_search_finds_text_anywhere_case_insensitively(client, tenant_a, leads) -> None:
    assert names(find(client, tenant_a, leads, search="BEIJ")) == ["Acme Ltd",
                                                                   "Initech 100%_off"]
    assert names(find(client, tenant_a, leads, search="北京")) == ["北京科技"]


def test_search_matches_word_starts_and_digits_anywhere(client, db, tenant_a, leads) -> None:
    assert names(find(client, tenant_a, leads, search="acme")) == ["Acme Ltd"]
    assert names(find(client, tenant_a, leads, search="100")) == ["Initech 100%_off"]
    assert names(find(client, tenant_a, leads, search="科技")) == ["北京科技"]
    assert names(find(client, tenant_a, leads, search="nothing-like-it")) == []
    assert names(find(client, tenant_a, leads, search="%_")) == ["Initech 100%_off"]


# Every term anywhere, in any field and order, on both databases alike: the same answers.
@pytest.mark.parametrize(("query", "found"), [
    ("acm bei", ["Acme Ltd"]),
    ("bei acm ltd", ["Acme Ltd"]),
    ("ACME  beijing", ["Acme Ltd"]),
    ("acm shang", []),
    ("北京 科技", ["北京科技"]),
    ("科技\u3000北京", ["北京科技"]),            # a full-width space separates too
    ("京科", ["北京科技"]),                        # inside a word: Chinese has no spaces
    ("北京 new", ["北京科技"]),                    # a select's stored value
    ("北京 上海", []),
    ("eij off", ["Initech 100%_off"]),
    ("  ", ["Acme Ltd", "Globex", "Initech 100%_off", "Umbrella", "北京科技"]),
])
def test_search_finds_every_term_anywhere(client, tenant_a, leads, query, found) -> None:
    assert names(find(client, tenant_a, leads, search=query, sort="name")) == found


def test_too_many_search_terms_are_refused(client, tenant_a, leads) -> None:
    response = find(client, tenant_a, leads, search=" ".join("abcdefghijk"))
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"][0]["path"] == "search"


def test_postgresql_search_uses_the_forms_trigram_index(client, db, tenant_a, leads) -> None:
    from sqlalchemy import text

    from crm_platform.services.storage.data_fields import SearchText, runtime_indexes

    if db.engine.dialect.name != "postgresql":
        return  # SQLite searches by substring (LIKE) over the form's records
    from crm_platform.jobs import wait_for_jobs

    wait_for_jobs(client.application)  # built by a job after the publish
    with db.engine.begin() as connection:
        number = connection.execute(text("SELECT id FROM forms WHERE key = 'lead'")).scalar()
        assert any(name.startswith(f"ix_records_f{number}__search_")
                   for name in runtime_indexes(connection))
        # enough other records of the form for the index to be worth using
        connection.execute(text(
            "INSERT INTO records (tenant_id, form_id, form_version, data, version, locked, "
            "created_at, updated_at) SELECT tenant_id, form_id, form_version, "
            "jsonb_build_object('name', 'Lead ' || n, 'city', 'Town ' || n), 1, false, "
            "created_at, updated_at FROM records, generate_series(1, 20000) AS n "
            f"WHERE form_id = {number} AND data ->> 'name' = 'Globex'"))
    with db.engine.connect() as connection:
        connection.execute(text("ANALYZE records"))
        connection.execute(text("SET enable_seqscan = off"))
        document = SearchText(("name", "city", "stage")).compile(dialect=connection.dialect)
        plan = "\n".join(connection.execute(text(
            f"EXPLAIN SELECT id FROM records WHERE form_id = {number} AND "
            f"{document} LIKE '%acme%' AND {document} LIKE '%beij%'")).scalars())
    assert f"ix_records_f{number}__search" in plan, plan


def test_hidden_fields_cannot_be_filtered_sorted_or_searched(client, tenant_a,
                                                             leads) -> None:
    from tests.conftest import bearer

    headers = tenant_a.headers
    role = client.post("/api/v1/admin/roles", json={"key": "agent", "name": "Agent"},
                       headers=headers).get_json()["id"]
    user = client.post("/api/v1/admin/users", headers=headers, json={
        "email": "agent@alpha.example", "roles": [role]}).get_json()
    token = client.post("/api/v1/admin/tokens", json={"user_id": user["id"], "name": "a"},
                        headers=headers).get_json()["token"]
    response = client.put("/api/v1/apps/crm/forms/lead/permissions", headers=headers, json={
        "items": [{"role": "agent", "read": "all", "update": "own", "delete": "none",
                   "hidden_fields": ["city"]}]})
    assert response.status_code == 200, response.get_json()

    class Agent:
        headers = bearer(token)

    by_city = find(client, Agent, leads, {"field": "city", "op": "eq", "value": "Beijing"})
    assert by_city.status_code == 422 and "city" in json.dumps(by_city.get_json())
    assert find(client, Agent, leads, sort="city").status_code == 422
    assert names(find(client, Agent, leads, search="beijing")) == []
    assert names(find(client, Agent, leads, search="acme")) == ["Acme Ltd"]
    # the administrator still finds by the field
    assert names(find(client, tenant_a, leads, search="beijing")) == ["Acme Ltd",
                                                                      "Initech 100%_off"]


def test_projection_and_count(client, tenant_a, leads) -> None:
    response = find(client, tenant_a, leads, {"field": "stage", "op": "eq", "value": "new"},
                    fields="name,stage", count="true").get_json()
    assert response["count"] == 2 and response["count_exact"] is True
    assert [set(item["data"]) for item in response["items"]] == [{"name", "stage"}] * 2
    # A projected page shows exactly what the whole records hold for those fields — each
    # field asked for, null where a record has no value — and pages the same way.
    whole = find(client, tenant_a, leads, sort="-budget", limit=2).get_json()
    keys = ["budget", "name", "city", "tags"]
    projected = find(client, tenant_a, leads, sort="-budget", limit=2,
                     fields=",".join(keys)).get_json()
    assert [item["data"] for item in projected["items"]] == [
        {key: item["data"].get(key) for key in keys} for item in whole["items"]]
    assert [item["version"] for item in projected["items"]] == [
        item["version"] for item in whole["items"]]
    assert projected["next_cursor"] == whole["next_cursor"]
    bad = find(client, tenant_a, leads, fields="name,salary")
    assert bad.status_code == 422
    assert bad.get_json()["error"]["fields"][0]["path"] == "fields[1]"


def test_unknown_sort_keys_and_bad_cursors_are_422(client, tenant_a, leads) -> None:
    assert find(client, tenant_a, leads, sort="-salary").status_code == 422
    assert find(client, tenant_a, leads, sort="tags").status_code == 422
    assert find(client, tenant_a, leads, sort="name", cursor="garbage").status_code == 422
    # a cursor Loom did not write: a time without its zone
    naive = base64.urlsafe_b64encode(json.dumps(["2026-01-01T00:00:00", 1]).encode()).decode()
    response = find(client, tenant_a, leads, sort="created_at", cursor=naive)
    assert response.status_code == 422, response.get_json()


def test_null_means_blank_and_computed_fields_read_their_values(client, tenant_a) -> None:
    """`eq null` finds blank records, `ne null` the others — on input and computed
    fields; a value a computed field cannot hold is a 422 naming it, not a server error."""
    headers = tenant_a.headers
    client.post("/api/v1/apps", json={"key": "crm", "name": "CRM"}, headers=headers)
    client.post("/api/v1/apps/crm/forms", headers=headers, json={"key": "order", "fields": [
        {"key": "name", "type": "text"}, {"key": "qty", "type": "number"},
        {"key": "double", "type": "formula", "expression": "qty * 2"}]})
    client.post("/api/v1/apps/crm/forms/order/publish", json={}, headers=headers)
    url = "/api/v1/apps/crm/forms/order/records"
    for data in ({"name": "a", "qty": 2}, {"name": "b"}):
        assert client.post(url, json={"data": data}, headers=headers).status_code == 201
    assert names(find(client, tenant_a, url, {"field": "double", "op": "eq",
                                              "value": None})) == ["b"]
    assert names(find(client, tenant_a, url, {"field": "double", "op": "ne",
                                              "value": None})) == ["a"]
    assert names(find(client, tenant_a, url, {"field": "qty", "op": "eq",
                                              "value": None})) == ["b"]
    assert names(find(client, tenant_a, url, {"field": "double", "op": "gte",
                                              "value": "3"})) == ["a"]
    response = find(client, tenant_a, url, {"field": "double", "op": "eq", "value": "many"})
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"][0]["path"] == "filter.value"
