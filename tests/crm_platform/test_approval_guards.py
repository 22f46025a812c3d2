"""Approvals as an outsider tried them: numbers that arrive from JSON as Decimals (a 60 %
board vote, a half-hour limit), people named in a body who must be of the caller's tenant,
urging that cannot flood an inbox, and a task decided once however many click at once."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from functools import partial

import pytest
from sqlalchemy import text

from crm_platform.db import utcnow
from tests.conftest import bearer, created, published_app

FORM = {"key": "motion", "fields": [{"key": "title", "type": "text", "required": True}]}
RECORDS = "/api/v1/apps/board/forms/motion/records"


def board_flow(**node) -> dict:
    return {"key": "vote", "form": "motion", "nodes": [
        {"key": "start", "type": "start", "next": "board"},
        {"key": "board", "type": "approval", "approvers": [
            {"source": "roles", "roles": ["board"]}], "on_nobody": "admin", "next": "end",
         **node},
        {"key": "end", "type": "end"}]}


@pytest.fixture
def board(client, tenant_a):
    """Five board members and a secretary who submits motions."""
    post = partial(created, client, headers=tenant_a.headers)

    def build(**node):
        published_app(client, tenant_a.headers, "board", FORM)
        post("/api/v1/apps/board/flows", board_flow(**node))
        post("/api/v1/apps/board/flows/vote/publish", {})
        role = post("/api/v1/admin/roles", {"key": "board", "name": "Board"})["id"]
        people = {}
        for name in ("sec", "m1", "m2", "m3", "m4", "m5"):
            user = post("/api/v1/admin/users", {"email": f"{name}@alpha.example",
                                                "roles": [role] if name != "sec" else []})
            token = post("/api/v1/admin/tokens", {"user_id": user["id"], "name": name})
            people[name] = {"id": user["id"], "headers": bearer(token["token"])}
        motion = post(RECORDS, {"data": {"title": "Buy a boat"}})["id"]
        instance = post(f"{RECORDS}/{motion}/submit", {"flow": "vote"})
        people["instance"] = instance
        people["motion"] = motion
        return people

    return build


def task_of(client, person) -> dict:
    (task,) = client.get("/api/v1/tasks", headers=person["headers"]).get_json()["items"]
    return task


def vote(client, person, action: str, expect: int = 200) -> dict:
    response = client.post(f"/api/v1/tasks/{task_of(client, person)['id']}/{action}",
                           json={}, headers=person["headers"])
    assert response.status_code == expect, response.get_json()
    return response.get_json()


def test_three_of_five_pass_a_sixty_percent_node(client, board) -> None:
    people = board(mode="ratio", ratio=0.6)
    assert vote(client, people["m1"], "approve")["status"] == "running"
    vote(client, people["m2"], "reject")
    assert vote(client, people["m3"], "approve")["status"] == "running"
    assert vote(client, people["m4"], "approve")["status"] == "approved"


def test_three_of_five_rejecting_reject_a_sixty_percent_node(client, board,
                                                              tenant_a) -> None:
    people = board(mode="ratio", ratio=0.6)
    vote(client, people["m1"], "reject")
    assert vote(client, people["m2"], "reject")["status"] == "running"
    assert vote(client, people["m3"], "reject")["status"] == "rejected"
    record = client.get(f"{RECORDS}/{people['motion']}", headers=tenant_a.headers)
    assert record.get_json()["locked"] is False


def test_a_half_hour_time_limit_falls_due_in_thirty_minutes(client, board) -> None:
    before = utcnow()
    people = board(time_limit={"hours": 0.5, "on_timeout": "remind"})
    due = task_of(client, people["m1"])["due_at"]
    from datetime import datetime

    due_at = datetime.fromisoformat(due.replace("Z", "+00:00"))
    assert timedelta(minutes=30) <= due_at - before < timedelta(minutes=31)


def test_a_second_urge_within_the_hour_is_refused_with_retry_after(client, board,
                                                                  tenant_a) -> None:
    people = board()
    urge = f"/api/v1/instances/{people['instance']['id']}/urge"
    assert client.post(urge, json={}, headers=tenant_a.headers).status_code == 200
    again = client.post(urge, json={}, headers=tenant_a.headers)
    assert again.status_code == 429
    assert again.get_json()["error"]["code"] == "flow_urged_recently"
    assert 3590 <= int(again.headers["Retry-After"]) <= 3600
    urged = [n for n in client.get("/api/v1/notifications", headers=people["m1"][
        "headers"]).get_json()["items"] if n["kind"] == "urge"]
    assert len(urged) == 1


def concurrently(app, count: int, request) -> list[int]:
    """`request(client)` from `count` threads at once, each with its own client."""
    barrier = threading.Barrier(count)

    def one(_):
        client = app.test_client()
        barrier.wait()
        return request(client)

    with ThreadPoolExecutor(max_workers=count) as pool:
        return sorted(pool.map(one, range(count)))


def test_twenty_concurrent_approvals_of_one_task_decide_it_once(app, client, db, board,
                                                                tenant_a) -> None:
    people = board()          # mode sequential: m1's task first
    task = task_of(client, people["m1"])["id"]
    statuses = concurrently(app, 20, lambda c: c.post(
        f"/api/v1/tasks/{task}/approve", json={}, headers=people["m1"]["headers"]).status_code)
    assert statuses == [200] + [409] * 19
    with db.engine.connect() as connection:
        approvals = connection.execute(text(
            "SELECT count(*) FROM record_history WHERE action = 'flow_approve'")).scalar()
    assert approvals == 1
    assert task_of(client, people["m2"])["status"] == "pending"   # the next in line


def test_concurrent_urges_notify_once(app, client, board, tenant_a) -> None:
    people = board()
    urge = f"/api/v1/instances/{people['instance']['id']}/urge"
    statuses = concurrently(app, 8, lambda c: c.post(urge, json={},
                                                     headers=tenant_a.headers).status_code)
    assert statuses == [200] + [429] * 7


def test_the_records_owner_can_be_the_approver(client, board, tenant_a) -> None:
    people = board()
    post = partial(created, client, headers=tenant_a.headers)
    flow = board_flow()
    flow["key"], flow["nodes"][1]["approvers"] = "owner_ok", [
        {"source": "user_field", "field": "owner"}]
    post("/api/v1/apps/board/flows", flow)
    post("/api/v1/apps/board/flows/owner_ok/publish", {})
    motion = post(RECORDS, {"data": {"title": "Paint the boat"}})["id"]
    assert client.post(f"{RECORDS}/{motion}/transfer", json={"owner": people["m5"]["id"]},
                       headers=tenant_a.headers).status_code == 200
    instance = post(f"{RECORDS}/{motion}/submit", {"flow": "owner_ok"})
    assert [task["assignee"] for task in instance["tasks"]] == [people["m5"]["id"]]
