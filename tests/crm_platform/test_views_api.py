"""Saved views over the API: personal or shared with roles or everyone, checked by their
meta-schema and against the form as their author sees it."""

from __future__ import annotations

import pytest

from tests.conftest import created
from tests.crm_platform.test_web_shell import rep  # noqa: F401  (fixture)

VIEWS = "/api/v1/apps/crm/forms/deal/views"
PIPELINE = {"name": {"en": "My pipeline", "zh": "我的管道"}, "kind": "kanban",
            "group_by": "name", "total": "amount"}


def test_a_personal_view_is_its_owners_alone(client, tenant_a, rep):  # noqa: F811
    mine = created(client, VIEWS, {"name": "Big ones", "kind": "list", "columns": ["name",
                   "amount", "owner"], "sort": "-amount", "filter": {
                   "field": "amount", "op": "gte", "value": 1000}}, rep["headers"])
    assert mine["visibility"] == "personal" and mine["sort"] == "-amount"
    assert [view["id"] for view in client.get(VIEWS, headers=rep["headers"]).get_json()[
        "items"]] == [mine["id"]]
    assert client.get(VIEWS, headers=tenant_a.headers).get_json()["items"] == []
    assert client.get(f"{VIEWS}/{mine['id']}", headers=tenant_a.headers).status_code == 404


def test_a_designer_shares_a_view_with_a_role(client, tenant_a, rep):  # noqa: F811
    shared = created(client, VIEWS, {"name": "Team", "kind": "list", "visibility": "roles",
                                     "roles": ["rep"]}, tenant_a.headers)
    seen = client.get(f"{VIEWS}/{shared['id']}", headers=rep["headers"])
    assert seen.status_code == 200 and seen.get_json()["roles"] == ["rep"]
    refused = client.put(f"{VIEWS}/{shared['id']}", json={"name": "Mine now", "kind": "list"},
                         headers=rep["headers"])
    assert refused.status_code == 403
    sharing = client.post(VIEWS, json={"name": "Everyone", "kind": "list",
                                       "visibility": "everyone"}, headers=rep["headers"])
    assert sharing.status_code == 403   # only designers share


@pytest.mark.parametrize(("body", "path"), [
    ({"name": "x", "kind": "list", "columns": ["nope"]}, "columns[0]"),
    ({"name": "x", "kind": "list", "columns": ["margin"]}, "columns[0]"),   # hidden from rep
    ({"name": "x", "kind": "list", "filter": {"field": "margin", "op": "eq", "value": "1"}},
     "filter.field"),
    ({"name": "x", "kind": "list", "sort": "margin"}, "sort.sort[0]"),
    ({"name": "x", "kind": "table"}, "kind"),
    ({"name": "x", "kind": "list", "colour": "red"}, "colour"),
    ({"kind": "list"}, "name"),
])
def test_a_wrong_view_is_refused_naming_the_problem(client, rep, body, path):  # noqa: F811
    response = client.post(VIEWS, json=body, headers=rep["headers"])
    assert response.status_code == 422
    assert path in {item["path"] for item in response.get_json()["error"]["fields"]}


def test_a_kanban_view_needs_a_select_to_group_by(client, tenant_a, rep):  # noqa: F811
    response = client.post(VIEWS, json=PIPELINE, headers=tenant_a.headers)
    assert response.status_code == 422
    assert {item["path"] for item in response.get_json()["error"]["fields"]} == {"group_by"}


def test_the_owner_changes_and_deletes_their_view(client, rep):  # noqa: F811
    view = created(client, VIEWS, {"name": "Old", "kind": "list"}, rep["headers"])
    changed = client.put(f"{VIEWS}/{view['id']}", json={"name": "New", "kind": "list",
                                                        "search": "acme"},
                         headers=rep["headers"]).get_json()
    assert (changed["name"], changed["search"]) == ("New", "acme")
    assert client.delete(f"{VIEWS}/{view['id']}", headers=rep["headers"]).status_code == 204
    assert client.get(f"{VIEWS}/{view['id']}", headers=rep["headers"]).status_code == 404
