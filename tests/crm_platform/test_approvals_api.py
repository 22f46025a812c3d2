"""Approvals through the API, as a sales team uses them: Ann (a rep, managed by Max)
submits a quote; it waits in Max's inbox, locked; Max edits the discount and approves;
Ann is told. Every action is in the quote's history with its comment. Time limits fire
from the database: an unanswered task moves on exactly once — also after Redis lost
everything, as soon as a worker runs."""

from __future__ import annotations

from datetime import timedelta
from functools import partial

import pytest
from redis import Redis
from sqlalchemy import text

from crm_platform.db import utcnow
from crm_platform.services.flows.timers import fire_due_timers
from tests.conftest import bearer, created
from tests.crm_platform.test_import_jobs import run_worker
from tests.services import redis_url_or_skip

QUOTE_FORM = {"key": "quote", "fields": [
    {"key": "customer", "type": "text", "required": True},
    {"key": "amount", "type": "currency"},
    {"key": "discount", "type": "percent"},
    {"key": "stage", "type": "select", "options": [{"value": "draft"}, {"value": "approved"}],
     "default": "draft"}]}
FLOW = {
    "key": "quote_approval", "form": "quote", "entry_condition": "discount > 10",
    "nodes": [
        {"key": "start", "type": "start", "next": "manager"},
        {"key": "manager", "type": "approval", "mode": "any", "on_nobody": "admin",
         "approvers": [{"source": "manager_chain", "levels": 1}], "reject_to": "submitter",
         "fields": {"discount": "edit"}, "time_limit": {"hours": 2, "on_timeout": "escalate"},
         "next": "end"},
        {"key": "end", "type": "end"}],
    "on_approve": [{"type": "set_fields", "values": {"stage": "approved"}},
                   {"type": "webhook", "url": "https://erp.example/quotes"}]}
RECORDS = "/api/v1/apps/crm/forms/quote/records"


@pytest.fixture
def team(client, tenant_a):
    headers = tenant_a.headers
    post = partial(created, client, headers=headers)

    post("/api/v1/apps", {"key": "crm", "name": "CRM"})
    post("/api/v1/apps/crm/forms", QUOTE_FORM)
    post("/api/v1/apps/crm/forms/quote/publish", {})
    post("/api/v1/apps/crm/flows", FLOW)
    post("/api/v1/apps/crm/flows/quote_approval/publish", {})
    role = post("/api/v1/admin/roles", {"key": "sales", "name": "Sales"})["id"]
    people = {}
    for name, manager in (("max", None), ("ann", "max")):
        user = post("/api/v1/admin/users", {
            "email": f"{name}@alpha.example", "roles": [role],
            **({"manager_id": people[manager]["id"]} if manager else {})})
        token = post("/api/v1/admin/tokens", {"user_id": user["id"], "name": name})["token"]
        people[name] = {"id": user["id"], "headers": bearer(token)}
    response = client.put("/api/v1/apps/crm/forms/quote/permissions", headers=headers, json={
        "items": [{"role": "sales", "can_create": True, "read": "all", "update": "own",
                   "delete": "none"}]})
    assert response.status_code == 200, response.get_json()
    return people


def new_quote(client, person, discount=15):
    response = client.post(RECORDS, json={"data": {"customer": "Acme", "amount": 50000,
                                                   "discount": discount}},
                           headers=person["headers"])
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def submit(client, person, record, expect=201):
    response = client.post(f"{RECORDS}/{record}/submit", json={"flow": "quote_approval"},
                           headers=person["headers"])
    assert response.status_code == expect, response.get_json()
    return response.get_json()


def inbox(client, person):
    return client.get("/api/v1/tasks", headers=person["headers"]).get_json()["items"]


def test_submit_approve_with_an_edit_and_the_submitter_is_told(client, team) -> None:
    ann, max_ = team["ann"], team["max"]
    quote = new_quote(client, ann)
    instance = submit(client, ann, quote)
    assert instance["status"] == "running" and instance["active"] == ["manager"]
    (task,) = inbox(client, max_)
    assert task["record"] == quote and task["node"] == "manager" and task["due_at"]
    assert inbox(client, ann) == []

    edit = client.patch(f"{RECORDS}/{quote}", json={"data": {"discount": 12}},
                        headers=ann["headers"])
    assert edit.status_code == 409
    assert edit.get_json()["error"]["code"] == "record_locked"

    done = client.post(f"/api/v1/tasks/{task['id']}/approve", headers=max_["headers"],
                       json={"comment": "fine at 12 %", "fields": {"discount": 12}})
    assert done.status_code == 200, done.get_json()
    assert done.get_json()["status"] == "approved"
    record = client.get(f"{RECORDS}/{quote}", headers=ann["headers"]).get_json()
    assert record["data"]["discount"] == 12 and record["data"]["stage"] == "approved"
    assert record["locked"] is False

    history = client.get(f"{RECORDS}/{quote}/history", headers=ann["headers"]).get_json()
    actions = [(h["action"], h["comment"]) for h in history["items"]]
    assert ("flow_submit", None) in actions and ("flow_approve", "fine at 12 %") in actions
    notes = client.get("/api/v1/notifications", headers=ann["headers"]).get_json()["items"]
    assert [n["kind"] for n in notes] == ["approved"]
    assert [n["kind"] for n in client.get("/api/v1/notifications", headers=max_[
        "headers"]).get_json()["items"]] == ["task"]


def test_editing_a_field_the_node_does_not_allow_is_refused(client, team) -> None:
    ann, max_ = team["ann"], team["max"]
    submit(client, ann, new_quote(client, ann))
    (task,) = inbox(client, max_)
    refused = client.post(f"/api/v1/tasks/{task['id']}/approve", headers=max_["headers"],
                          json={"fields": {"amount": 1}})
    assert refused.status_code == 422
    assert refused.get_json()["error"]["code"] == "flow_field_not_editable"
    assert len(inbox(client, max_)) == 1                       # nothing changed


def test_only_the_assignee_acts_on_a_task(client, team, tenant_a) -> None:
    ann, max_ = team["ann"], team["max"]
    submit(client, ann, new_quote(client, ann))
    (task,) = inbox(client, max_)
    assert client.post(f"/api/v1/tasks/{task['id']}/approve", json={},
                       headers=ann["headers"]).status_code == 404
    # an administrator may act on any task
    assert client.post(f"/api/v1/tasks/{task['id']}/approve", json={},
                       headers=tenant_a.headers).status_code == 200


def test_rejected_to_the_submitter_then_changed_and_resubmitted(client, team) -> None:
    ann, max_ = team["ann"], team["max"]
    quote = new_quote(client, ann, discount=30)
    submit(client, ann, quote)
    (task,) = inbox(client, max_)
    rejected = client.post(f"/api/v1/tasks/{task['id']}/reject", headers=max_["headers"],
                           json={"comment": "30 % is too much"})
    assert rejected.get_json()["status"] == "returned"
    changed = client.patch(f"{RECORDS}/{quote}", json={"data": {"discount": 15}},
                           headers=ann["headers"])
    assert changed.status_code == 200                        # unlocked again
    again = submit(client, ann, quote)
    assert again["status"] == "running" and len(inbox(client, max_)) == 1


def test_recall_urge_and_a_second_submit(client, team) -> None:
    ann, max_ = team["ann"], team["max"]
    quote = new_quote(client, ann)
    instance = submit(client, ann, quote)
    assert submit(client, ann, quote, expect=409)["error"]["code"] == "flow_already_running"
    urge = client.post(f"/api/v1/instances/{instance['id']}/urge", json={},
                       headers=ann["headers"])
    assert urge.status_code == 200
    kinds = [n["kind"] for n in client.get("/api/v1/notifications", headers=max_[
        "headers"]).get_json()["items"]]
    assert kinds == ["task", "urge"]
    assert client.post(f"/api/v1/instances/{instance['id']}/recall", json={},
                       headers=max_["headers"]).status_code == 403
    recalled = client.post(f"/api/v1/instances/{instance['id']}/recall",
                           json={"comment": "wrong customer"}, headers=ann["headers"])
    assert recalled.get_json()["status"] == "recalled" and inbox(client, max_) == []


def test_the_entry_condition_decides_whether_a_quote_needs_approval(client, team) -> None:
    ann = team["ann"]
    refused = submit(client, ann, new_quote(client, ann, discount=5), expect=422)
    assert refused["error"]["code"] == "flow_entry_condition"


def test_what_leaves_the_transaction_is_written_to_the_outbox(client, db, team) -> None:
    ann, max_ = team["ann"], team["max"]
    submit(client, ann, new_quote(client, ann))
    (task,) = inbox(client, max_)
    client.post(f"/api/v1/tasks/{task['id']}/approve", json={}, headers=max_["headers"])
    with db.engine.connect() as connection:
        rows = connection.execute(text("SELECT kind, status FROM outbox")).all()
        timers = connection.execute(text("SELECT count(*) FROM flow_timers")).scalar()
    assert [tuple(row) for row in rows] == [("webhook", "pending")]
    assert timers == 1


def test_notifications_can_be_marked_read(client, team) -> None:
    ann, max_ = team["ann"], team["max"]
    submit(client, ann, new_quote(client, ann))
    (note,) = client.get("/api/v1/notifications?unread=true",
                         headers=max_["headers"]).get_json()["items"]
    marked = client.post("/api/v1/notifications/read", json={"ids": [note["id"]]},
                         headers=max_["headers"])
    assert marked.get_json() == {"marked": 1}
    assert client.get("/api/v1/notifications?unread=true",
                      headers=max_["headers"]).get_json()["items"] == []
    # someone else's notification cannot be marked
    assert client.post("/api/v1/notifications/read", json={"ids": [note["id"]]},
                       headers=ann["headers"]).get_json() == {"marked": 0}


# -- time limits ----------------------------------------------------------------------
def test_an_unanswered_task_escalates_when_its_time_is_up(client, app, team,
                                                          tenant_a) -> None:
    ann, max_ = team["ann"], team["max"]
    instance = submit(client, ann, new_quote(client, ann))
    assert fire_due_timers(app) == 0                       # not due yet
    assert fire_due_timers(app, now=utcnow() + timedelta(hours=2, minutes=1)) == 1
    assert inbox(client, max_) == []                       # Max has no manager: the admin
    admin_tasks = client.get("/api/v1/tasks", headers=tenant_a.headers).get_json()["items"]
    assert [task["instance"] for task in admin_tasks] == [instance["id"]]
    assert fire_due_timers(app, now=utcnow() + timedelta(hours=3)) == 0   # fired once
    history = client.get(f"{RECORDS}/{instance['record']}/history",
                         headers=ann["headers"]).get_json()["items"]
    assert "flow_escalate" in [entry["action"] for entry in history]


def test_a_timer_whose_task_was_answered_changes_nothing(client, app, team) -> None:
    ann, max_ = team["ann"], team["max"]
    instance = submit(client, ann, new_quote(client, ann))
    (task,) = inbox(client, max_)
    client.post(f"/api/v1/tasks/{task['id']}/approve", json={}, headers=max_["headers"])
    assert fire_due_timers(app, now=utcnow() + timedelta(hours=5)) == 1
    after = client.get(f"/api/v1/instances/{instance['id']}", headers=ann["headers"])
    assert after.get_json()["status"] == "approved"


def test_due_timers_fire_after_redis_was_flushed(client, db, team, tenant_a,
                                                 database_url) -> None:
    redis_url = redis_url_or_skip()
    ann = team["ann"]
    instance = submit(client, ann, new_quote(client, ann))
    with db.engine.begin() as connection:     # two hours and more have passed
        connection.execute(text("UPDATE flow_timers SET due_at = :due"),
                           {"due": utcnow() - timedelta(minutes=1)})
    Redis.from_url(redis_url).flushdb()       # Redis knows nothing of the timer
    run_worker(database_url, redis_url)       # a worker starts: it ticks first
    with db.engine.connect() as connection:
        fired = connection.execute(text(
            "SELECT fired_at FROM flow_timers ORDER BY id")).scalars().all()
    # the first limit fired; the escalated task has a limit of its own, not yet due
    assert len(fired) == 2 and fired[0] is not None and fired[1] is None
    admin_tasks = client.get("/api/v1/tasks", headers=tenant_a.headers).get_json()["items"]
    assert [task["instance"] for task in admin_tasks] == [instance["id"]]


# -- webhooks: the outbox ------------------------------------------------------------
class Receiver:
    """A local HTTP endpoint that records what it is sent."""

    def __init__(self, port: int = 0) -> None:
        import http.server
        import threading

        received = self.received = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                received.append((dict(self.headers), body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def hook_flow(client, tenant_a, url: str) -> None:
    draft = {**FLOW, "on_approve": [{"type": "webhook", "url": url}]}
    assert client.put("/api/v1/apps/crm/flows/quote_approval/draft", json=draft,
                      headers=tenant_a.headers).status_code == 200
    assert client.post("/api/v1/apps/crm/flows/quote_approval/publish",
                       headers=tenant_a.headers).status_code == 201


def approved_quote(client, team) -> int:
    ann, max_ = team["ann"], team["max"]
    quote = new_quote(client, ann)
    submit(client, ann, quote)
    (task,) = inbox(client, max_)
    client.post(f"/api/v1/tasks/{task['id']}/approve", json={}, headers=max_["headers"])
    return quote


def test_a_webhook_down_for_a_while_is_delivered_when_it_comes_back(client, app, team,
                                                                    tenant_a) -> None:
    import hashlib
    import hmac
    import json
    from dataclasses import replace

    from crm_platform.services.delivery.outbox import dispatch_due

    app.config["LOOM_SETTINGS"] = replace(app.config["LOOM_SETTINGS"],
                                          webhook_allow_private=True)
    port = free_port()                                   # nobody listens there yet
    hook_flow(client, tenant_a, f"http://127.0.0.1:{port}/quotes")
    quote = approved_quote(client, team)
    assert dispatch_due(app) == 1                        # refused: the endpoint is down
    (entry,) = client.get("/api/v1/admin/outbox", headers=tenant_a.headers).get_json()[
        "items"]
    assert entry["status"] == "pending" and entry["attempts"] == 1 and entry["last_error"]
    assert dispatch_due(app) == 0                        # not before its backoff
    receiver = Receiver(port)
    try:
        assert dispatch_due(app, now=utcnow() + timedelta(seconds=31)) == 1
    finally:
        receiver.stop()
    ((headers, body),) = receiver.received
    assert json.loads(body)["record"] == quote
    key = bytes.fromhex(client.get("/api/v1/admin/webhook-key",
                                   headers=tenant_a.headers).get_json()["key"])
    expected = "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()
    assert headers["X-Loom-Signature"] == expected
    assert headers["X-Loom-Delivery"] == str(entry["id"])
    (done,) = client.get("/api/v1/admin/outbox?status=done",
                         headers=tenant_a.headers).get_json()["items"]
    assert done["attempts"] == 2


def test_webhooks_to_private_addresses_are_refused_by_default(client, app, team,
                                                              tenant_a) -> None:
    from crm_platform.services.delivery.outbox import dispatch_due

    receiver = Receiver()
    try:
        hook_flow(client, tenant_a, f"http://127.0.0.1:{receiver.port}/internal")
        approved_quote(client, team)
        assert dispatch_due(app) == 1
    finally:
        receiver.stop()
    assert receiver.received == []
    (failed,) = client.get("/api/v1/admin/outbox?status=failed",
                           headers=tenant_a.headers).get_json()["items"]
    assert "not allowed" in failed["last_error"]
    retried = client.post(f"/api/v1/admin/outbox/{failed['id']}/retry",
                          headers=tenant_a.headers)
    assert retried.status_code == 200 and retried.get_json()["status"] == "pending"
    assert client.get("/api/v1/admin/outbox", headers=team["ann"]["headers"]
                      ).status_code == 403


def test_a_signer_added_before_signs_first_then_the_task_comes_back(client, team) -> None:
    ann, max_ = team["ann"], team["max"]
    submit(client, ann, new_quote(client, ann))
    (task,) = inbox(client, max_)
    added = client.post(f"/api/v1/tasks/{task['id']}/add_signer", headers=max_["headers"],
                        json={"to": ann["id"], "position": "before",
                              "comment": "please confirm the price"})
    assert added.status_code == 200, added.get_json()
    assert inbox(client, max_) == []
    (first,) = inbox(client, ann)
    client.post(f"/api/v1/tasks/{first['id']}/approve", json={}, headers=ann["headers"])
    (back,) = inbox(client, max_)
    assert back["id"] == task["id"]                  # the same task, open again
    done = client.post(f"/api/v1/tasks/{task['id']}/approve", json={},
                       headers=max_["headers"])
    assert done.get_json()["status"] == "approved"


def test_an_approved_quote_creates_its_follow_up(client, team, tenant_a) -> None:
    headers = tenant_a.headers
    client.post("/api/v1/apps/crm/forms", headers=headers, json={
        "key": "followup", "fields": [{"key": "title", "type": "text", "required": True}]})
    client.post("/api/v1/apps/crm/forms/followup/publish", json={}, headers=headers)
    draft = {**FLOW, "on_approve": [{"type": "create_record", "form": "followup",
                                     "data": {"title": "Call the customer"}}]}
    assert client.put("/api/v1/apps/crm/flows/quote_approval/draft", json=draft,
                      headers=headers).status_code == 200
    client.post("/api/v1/apps/crm/flows/quote_approval/publish", headers=headers)
    approved_quote(client, team)
    (created,) = client.get("/api/v1/apps/crm/forms/followup/records",
                            headers=headers).get_json()["items"]
    assert created["data"] == {"title": "Call the customer"}
    assert client.get("/api/v1/admin/outbox", headers=headers).get_json()["items"] == []


def test_a_worker_killed_mid_delivery_loses_nothing(client, app, team, tenant_a,
                                                    database_url) -> None:
    """The worker is SIGKILLed while the webhook endpoint holds its request: the entry is
    delivered again after its lease, with the same delivery id, so the receiver acts on
    it exactly once."""
    import os
    import signal
    import subprocess
    import threading
    import time as clock
    from dataclasses import replace

    from crm_platform.services.delivery.outbox import dispatch_due
    from tests.crm_platform.test_import_jobs import loom, worker_env

    redis_url = redis_url_or_skip()
    Redis.from_url(redis_url).flushdb()
    app.config["LOOM_SETTINGS"] = replace(app.config["LOOM_SETTINGS"],
                                          webhook_allow_private=True)
    receiver, first_arrived, release = Receiver(), threading.Event(), threading.Event()
    handler = receiver.server.RequestHandlerClass
    answer = handler.do_POST

    def slow_first(self) -> None:
        if not first_arrived.is_set():
            first_arrived.set()
            release.wait(30)            # hold the worker's request until it is killed
        answer(self)

    handler.do_POST = slow_first
    try:
        hook_flow(client, tenant_a, f"http://127.0.0.1:{receiver.port}/quotes")
        approved_quote(client, team)
        env = {**worker_env(database_url, redis_url), "LOOM_WEBHOOK_ALLOW_PRIVATE": "true"}
        worker = subprocess.Popen([loom(), "worker", "--burst"], env=env,
                                  start_new_session=True, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        assert first_arrived.wait(60), "the worker never delivered"
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(10)
        release.set()
        clock.sleep(0.2)
        (entry,) = client.get("/api/v1/admin/outbox", headers=tenant_a.headers
                              ).get_json()["items"]
        assert entry["status"] == "sending"           # leased by the dead worker
        assert dispatch_due(app) == 0                 # the lease holds
        assert dispatch_due(app, now=utcnow() + timedelta(minutes=6)) == 1
    finally:
        release.set()
        receiver.stop()
    deliveries = {headers["X-Loom-Delivery"] for headers, _body in receiver.received}
    assert deliveries == {str(entry["id"])}           # one effect, however often it came
    (done,) = client.get("/api/v1/admin/outbox?status=done",
                         headers=tenant_a.headers).get_json()["items"]
    assert done["id"] == entry["id"]


def test_administrators_see_upcoming_timers_and_what_they_do(client, team, tenant_a) -> None:
    ann, max_ = team["ann"], team["max"]
    quote = new_quote(client, ann)
    submit(client, ann, quote)
    (task,) = inbox(client, max_)
    listed = client.get("/api/v1/admin/timers", headers=tenant_a.headers)
    assert listed.status_code == 200, listed.get_json()
    (timer,) = listed.get_json()["items"]
    assert (timer["record"], timer["node"], timer["task"], timer["assignee"],
            timer["on_timeout"], timer["overdue"]) == (
        quote, "manager", task["id"], max_["id"], "escalate", False)
    assert timer["due_at"] == task["due_at"]
    assert client.get("/api/v1/admin/timers", headers=ann["headers"]).status_code == 403
    fire_due_timers(client.application, now=utcnow() + timedelta(hours=3))
    assert client.get("/api/v1/admin/timers", headers=tenant_a.headers).get_json()[
        "items"][0]["node"] == "manager"       # the escalated task has a timer of its own
