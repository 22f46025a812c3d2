"""Tenant isolation for ids carried in request bodies and query strings.

`test_isolation` sends tenant A's ids in the *path*; here tenant B works on its own objects
but names A's users, departments, roles, records, tasks and notifications inside the body
or the query string. Every such id must be resolved inside B's tenant: a body is refused
with a 4xx that names the field, a query answers as for an id that exists nowhere, and
the answer is the same as for such a ghost id — so B learns nothing of A. Every operation
whose OpenAPI body or query declares an id joins this matrix: a new one that is missing
fails `test_every_id_in_a_body_or_query_is_in_the_matrix`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from functools import partial
from typing import Any

import pytest

from tests.conftest import created, published_app
from tests.crm_platform.test_isolation import SECRETS, snapshot, world_a  # noqa: F401 (fixture)

GHOST = 987654321
CUSTOMER = {"key": "customer", "fields": [{"key": "name", "type": "text"}]}
DEAL = {"key": "deal", "fields": [
    {"key": "name", "type": "text"},
    {"key": "rep", "type": "user"},
    {"key": "team", "type": "department"},
    {"key": "customer", "type": "lookup", "form": "customer"}]}
FLOW = {"key": "deal_ok", "form": "deal", "nodes": [
    {"key": "start", "type": "start", "next": "boss"},
    {"key": "boss", "type": "approval", "approvers": [{"source": "submitter"}],
     "next": "end"},
    {"key": "end", "type": "end"}]}
DEALS = "/api/v1/apps/bapp/forms/deal/records"


def flow_naming(user: int) -> dict:
    nodes = json.loads(json.dumps(FLOW["nodes"]))
    nodes[1]["approvers"] = [{"source": "users", "users": [user]}]
    return {**FLOW, "key": "other", "nodes": nodes}


def rule_naming(user: int, how: str) -> dict:
    action = ({"type": "assign_owner", "strategy": "round_robin", "users": [user]}
              if how == "assign" else
              {"type": "notify", "to": [{"source": "users", "users": [user]}]})
    return {"key": f"rule_{how}", "form": "deal", "trigger": {"on": "created"},
            "actions": [action]}


@pytest.fixture
def world_b(client, tenant_b) -> dict[str, int]:
    """Tenant B's own department, user, deal with a pending task, and a notification."""
    post = partial(created, client, headers=tenant_b.headers)
    department = post("/api/v1/admin/departments", {"name": "Bravo Sales"})["id"]
    user = post("/api/v1/admin/users", {"email": "rep@bravo.example"})["id"]
    published_app(client, tenant_b.headers, "bapp", CUSTOMER, DEAL)
    post("/api/v1/apps/bapp/flows", FLOW)
    post("/api/v1/apps/bapp/flows/deal_ok/publish", {})
    deal = post(DEALS, {"data": {"name": "Bravo deal"}})["id"]
    instance = post(f"{DEALS}/{deal}/submit", {"flow": "deal_ok"})
    return {"department": department, "user": user, "deal": deal,
            "instance": instance["id"], "task": instance["tasks"][0]["id"]}


# (method, path, body or None, the field a 4xx must name); `a` holds A's ids and `b` B's.
# A path or query with `{…}` is filled in from B's world.
Case = tuple[str, str, Callable[[dict, dict], Any], str]
BODY_CASES: list[Case] = [
    ("POST", "/api/v1/admin/departments",
     lambda a, b: {"name": "X", "parent_id": a["department"]}, "parent_id"),
    ("POST", "/api/v1/admin/departments",
     lambda a, b: {"name": "X", "head_id": a["user"]}, "head_id"),
    ("PATCH", "/api/v1/admin/departments/{department}",
     lambda a, b: {"parent_id": a["department"]}, "parent_id"),
    ("PATCH", "/api/v1/admin/departments/{department}",
     lambda a, b: {"head_id": a["user"]}, "head_id"),
    ("POST", "/api/v1/admin/tokens", lambda a, b: {"user_id": a["user"], "name": "x"},
     "user_id"),
    ("POST", "/api/v1/admin/users",
     lambda a, b: {"email": "n1@bravo.example", "manager_id": a["user"]}, "manager_id"),
    ("POST", "/api/v1/admin/users",
     lambda a, b: {"email": "n2@bravo.example", "department_id": a["department"]},
     "department_id"),
    ("POST", "/api/v1/admin/users",
     lambda a, b: {"email": "n3@bravo.example", "roles": [a["role"]]}, "roles[0]"),
    ("PATCH", "/api/v1/admin/users/{user}", lambda a, b: {"manager_id": a["user"]},
     "manager_id"),
    ("PATCH", "/api/v1/admin/users/{user}",
     lambda a, b: {"department_id": a["department"]}, "department_id"),
    ("PATCH", "/api/v1/admin/users/{user}", lambda a, b: {"roles": [a["role"]]}, "roles[0]"),
    ("POST", DEALS + "/{deal}/transfer", lambda a, b: {"owner": a["user"]}, "owner"),
    ("POST", "/api/v1/tasks/{task}/transfer", lambda a, b: {"to": a["user"]}, "to"),
    ("POST", "/api/v1/tasks/{task}/add_signer", lambda a, b: {"to": a["user"]}, "to"),
    ("POST", "/api/v1/instances/{instance}/reassign",
     lambda a, b: {"task": b["task"], "to": a["user"]}, "to"),
    ("POST", "/api/v1/instances/{instance}/reassign",
     lambda a, b: {"task": a["task"], "to": b["user"]}, "task"),
    ("POST", DEALS, lambda a, b: {"data": {"rep": a["user"]}}, "data.rep"),
    ("POST", DEALS, lambda a, b: {"data": {"team": a["department"]}}, "data.team"),
    ("POST", DEALS, lambda a, b: {"data": {"customer": a["record"]}}, "data.customer"),
    ("POST", "/api/v1/apps/bapp/flows", lambda a, b: flow_naming(a["user"]),
     "nodes[1].approvers[0].users[0]"),
    ("POST", "/api/v1/apps/bapp/automations", lambda a, b: rule_naming(a["user"], "assign"),
     "actions[0].users[0]"),
    ("POST", "/api/v1/apps/bapp/automations", lambda a, b: rule_naming(a["user"], "notify"),
     "actions[0].to[0].users[0]"),
]
# Answered like a ghost id, with no error: a list filtered by it, a batch item's own result,
# notifications marked read (none of them the caller's).
SAME_AS_GHOST: list[tuple[str, str, Callable[[dict, dict], Any]]] = [
    ("GET", "/api/v1/admin/departments?parent_id={x}", lambda a, b: a["department"]),
    ("GET", "/api/v1/admin/tokens?user_id={x}", lambda a, b: a["user"]),
    ("GET", "/api/v1/admin/users?department_id={x}", lambda a, b: a["department"]),
    ("GET", DEALS + '?filter={{"field":"owner","op":"eq","value":{x}}}', lambda a, b: a["user"]),
    ("GET", DEALS + '?filter={{"field":"rep","op":"eq","value":{x}}}', lambda a, b: a["user"]),
    ("GET", DEALS + '?filter={{"field":"customer","op":"eq","value":{x}}}',
     lambda a, b: a["record"]),
    ("POST", DEALS + "/batch", lambda a, b: {"items": [{"id": a["record"], "data": {}}]}),
    ("POST", "/api/v1/notifications/read", lambda a, b: {"ids": [a["notification"]]}),
]


@pytest.fixture
def ids_a(client, tenant_a, world_a) -> dict[str, int]:  # noqa: F811
    notes = client.get("/api/v1/notifications", headers=tenant_a.headers).get_json()
    return {"user": int(world_a["user_id"]), "department": int(world_a["department_id"]),
            "role": int(world_a["role_id"]), "record": int(world_a["record_id"]),
            "task": int(world_a["task_id"]), "notification": notes["items"][0]["id"]}


def ghost_of(ids: dict[str, int]) -> dict[str, int]:
    return dict.fromkeys(ids, GHOST)


def outline(response) -> Any:
    """What an answer says, less the id the caller sent itself: the status and the JSON
    with every number replaced (a ghost id and A's id must read alike)."""
    def strip(value: Any) -> Any:
        if isinstance(value, dict):
            return {key: strip(item) for key, item in value.items() if key != "message"}
        if isinstance(value, list):
            return [strip(item) for item in value]
        return "<n>" if isinstance(value, int) and not isinstance(value, bool) else value

    return response.status_code, strip(response.get_json())


def test_ids_in_bodies_are_resolved_inside_the_callers_tenant(
        client, tenant_a, tenant_b, world_a, world_b, ids_a) -> None:  # noqa: F811
    before = snapshot(client, tenant_a, world_a)
    for method, path, body, field in BODY_CASES:
        where = f"{method} {path} {field}"
        url = path.format(**world_b)
        answer = client.open(url, method=method, json=body(ids_a, world_b),
                             headers=tenant_b.headers)
        ghost = client.open(url, method=method, json=body(ghost_of(ids_a), world_b),
                            headers=tenant_b.headers)
        assert 400 <= answer.status_code < 500, (where, answer.get_json())
        error = answer.get_json()["error"]
        assert field in [f["path"] for f in error["fields"]], (where, error)
        assert outline(answer) == outline(ghost), where
        assert not any(secret in answer.get_data(as_text=True) for secret in SECRETS), where
    assert snapshot(client, tenant_a, world_a) == before


def test_ids_in_queries_and_lists_answer_as_for_a_ghost(
        client, tenant_a, tenant_b, world_a, world_b, ids_a) -> None:  # noqa: F811
    before = snapshot(client, tenant_a, world_a)
    for method, path, value in SAME_AS_GHOST:
        real, ghost = value(ids_a, world_b), value(ghost_of(ids_a), world_b)
        if method == "GET":
            answer = client.get(path.format(x=real), headers=tenant_b.headers)
            baseline = client.get(path.format(x=ghost), headers=tenant_b.headers)
        else:
            answer = client.post(path, json=real, headers=tenant_b.headers)
            baseline = client.post(path, json=ghost, headers=tenant_b.headers)
        where = f"{method} {path}"
        assert outline(answer) == outline(baseline), (where, answer.get_json())
        assert not any(secret in answer.get_data(as_text=True) for secret in SECRETS), where
    assert snapshot(client, tenant_a, world_a) == before


def _declared_ids(schema: Any) -> bool:
    """Whether a body or query schema declares an id anywhere inside."""
    if not isinstance(schema, dict):
        return False
    if schema.get("minimum") == 1 and schema.get("maximum") == 2**63 - 1:
        return True
    return any(_declared_ids(child) for child in (
        *schema.get("properties", {}).values(), schema.get("items")))


def test_every_id_in_a_body_or_query_is_in_the_matrix(client, tenant_a) -> None:
    document = client.get("/api/v1/openapi.json").get_json()
    covered = [(method, path.split("?")[0]) for method, path, *_ in
               (*BODY_CASES, *SAME_AS_GHOST)]
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            schemas = [content.get("schema") for content in operation.get(
                "requestBody", {}).get("content", {}).values()]
            schemas += [parameter["schema"] for parameter in operation.get("parameters", [])
                        if parameter["in"] == "query"]
            if not any(_declared_ids(schema) for schema in schemas):
                continue
            pattern = re.compile(re.sub(r"\\{\w+\\}", "[^/]+", re.escape(path)) + "$")
            assert any(m == method.upper() and pattern.match(p) for m, p in covered), (
                f"{method.upper()} {path} carries an id: add it to the matrix")
