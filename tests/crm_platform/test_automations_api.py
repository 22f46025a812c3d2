"""Automation rules, as ops staff set them up: North-region leads are shared round robin
among the North reps; a won lead gets its follow-up date; rules that would feed each other
for ever are stopped; what leaves Loom waits in the outbox."""

from __future__ import annotations

from functools import partial

import pytest
from sqlalchemy import text

from tests.conftest import bearer, created

LEAD = {"key": "lead", "fields": [
    {"key": "name", "type": "text", "required": True},
    {"key": "region", "type": "select", "options": [{"value": "North"}, {"value": "South"}]},
    {"key": "stage", "type": "select", "options": [{"value": "new"}, {"value": "quote"},
                                                    {"value": "won"}]},
    {"key": "note", "type": "text"},
    {"key": "flag", "type": "text"},
    {"key": "last_follow_up", "type": "date"},
    {"key": "email", "type": "email"}]}
URL = "/api/v1/apps/crm/automations"
RECORDS = "/api/v1/apps/crm/forms/lead/records"


@pytest.fixture
def reps(client, tenant_a) -> list[int]:
    headers = tenant_a.headers
    post = partial(created, client, headers=headers)

    post("/api/v1/apps", {"key": "crm", "name": "CRM"})
    post("/api/v1/apps/crm/forms", LEAD)
    post("/api/v1/apps/crm/forms/lead/publish", {})
    role = post("/api/v1/admin/roles", {"key": "north", "name": "North reps"})["id"]
    return [post("/api/v1/admin/users", {"email": f"rep{i}@alpha.example",
                                          "roles": [role]})["id"] for i in range(3)]


def rule(client, tenant_a, definition) -> None:
    created = client.post(URL, json=definition, headers=tenant_a.headers)
    assert created.status_code == 201, created.get_json()
    published = client.post(f"{URL}/{definition['key']}/publish", headers=tenant_a.headers)
    assert published.status_code == 201, published.get_json()


def lead(client, tenant_a, **data) -> dict:
    response = client.post(RECORDS, json={"data": {"name": "L", **data}},
                           headers=tenant_a.headers)
    assert response.status_code == 201, response.get_json()
    return client.get(f"{RECORDS}/{response.get_json()['id']}",
                      headers=tenant_a.headers).get_json()


def test_north_leads_are_assigned_round_robin(client, tenant_a, reps) -> None:
    rule(client, tenant_a, {
        "key": "north_leads", "form": "lead", "trigger": {"on": "created"},
        "condition": "region == 'North'",
        "actions": [{"type": "assign_owner", "strategy": "round_robin", "role": "north"}]})
    owners = [lead(client, tenant_a, region="North")["owner"] for _ in range(6)]
    assert owners == reps + reps
    south = lead(client, tenant_a, region="South")
    assert south["owner"] == tenant_a.admin_id                # the rule did not fire
    history = client.get(f"{RECORDS}/1/history", headers=tenant_a.headers).get_json()
    assert [h["action"] for h in history["items"]] == ["create", "automation", "assign"]


def test_an_update_rule_fires_only_when_its_fields_change(client, tenant_a, reps) -> None:
    rule(client, tenant_a, {
        "key": "won_note", "form": "lead", "trigger": {"on": "updated", "fields": ["stage"]},
        "condition": "stage == 'won'",
        "actions": [{"type": "set_fields", "values": {"note": "send the contract"}},
                    {"type": "notify", "to": [{"source": "roles", "roles": ["north"]}],
                     "message": "A lead was won"}]})
    record = lead(client, tenant_a, stage="new")
    url = f"{RECORDS}/{record['id']}"
    client.patch(url, json={"data": {"name": "Renamed"}}, headers=tenant_a.headers)
    assert client.get(url, headers=tenant_a.headers).get_json()["data"].get("note") is None
    client.patch(url, json={"data": {"stage": "won"}}, headers=tenant_a.headers)
    assert client.get(url, headers=tenant_a.headers).get_json()["data"]["note"] == (
        "send the contract")


def test_rules_that_feed_each_other_are_stopped(client, tenant_a, reps) -> None:
    for key, value in (("ping", "a"), ("pong", "b")):
        rule(client, tenant_a, {
            "key": key, "form": "lead", "trigger": {"on": "updated", "fields": ["flag"]},
            "actions": [{"type": "set_fields", "values": {"flag": value}}]})
    record = lead(client, tenant_a)
    url = f"{RECORDS}/{record['id']}"
    response = client.patch(url, json={"data": {"flag": "start"}}, headers=tenant_a.headers)
    assert response.status_code == 200, response.get_json()
    history = client.get(f"{url}/history?limit=200", headers=tenant_a.headers).get_json()
    stopped = [h for h in history["items"] if h["action"] == "automation_stopped"]
    assert stopped and stopped[0]["changes"]["automation"]["reason"] == "loop"
    fired = [h for h in history["items"] if h["action"] == "automation"]
    assert len(fired) <= 5


def test_a_webhook_rule_writes_the_outbox_in_the_same_transaction(client, tenant_a,
                                                                   reps) -> None:
    rule(client, tenant_a, {
        "key": "to_erp", "form": "lead", "trigger": {"on": "deleted"},
        "actions": [{"type": "webhook", "url": "https://erp.example/leads"}]})
    record = lead(client, tenant_a)
    assert client.delete(f"{RECORDS}/{record['id']}",
                         headers=tenant_a.headers).status_code == 200
    (entry,) = client.get("/api/v1/admin/outbox", headers=tenant_a.headers).get_json()[
        "items"]
    assert entry["kind"] == "webhook" and entry["payload"]["event"] == "deleted"
    assert entry["payload"]["record"] == record["id"]


def test_a_bad_rule_is_refused_with_every_problem(client, tenant_a, reps) -> None:
    response = client.post(URL, json={
        "key": "bad", "form": "lead", "trigger": {"on": "updated", "fields": ["stag"]},
        "condition": "regoin == 'North'",
        "actions": [{"type": "set_fields", "values": {"nope": 1}},
                    {"type": "assign_owner", "strategy": "round_robin"}]},
        headers=tenant_a.headers)
    assert response.status_code == 422
    paths = {f["path"]: f["code"] for f in response.get_json()["error"]["fields"]}
    assert paths == {"trigger.fields[0]": "flow_unknown_field",
                     "condition": "unknown_name",
                     "actions[0].values.nope": "flow_unknown_field",
                     "actions[1].users": "flow_missing_option"}


def test_round_robin_stays_fair_under_concurrent_creates(app, db, client, tenant_a,
                                                          reps) -> None:
    """Six leads created at once from six threads: each rep gets two."""
    import threading

    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite serializes writers: concurrency is PostgreSQL's to show")
    rule(client, tenant_a, {
        "key": "north_leads", "form": "lead", "trigger": {"on": "created"},
        "actions": [{"type": "assign_owner", "strategy": "round_robin", "role": "north"}]})
    results: list[int] = []

    def create() -> None:
        response = app.test_client().post(RECORDS, json={"data": {"name": "X"}},
                                          headers=tenant_a.headers)
        results.append(response.status_code)

    threads = [threading.Thread(target=create) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [201] * 6
    items = client.get(RECORDS, headers=tenant_a.headers).get_json()["items"]
    owners = sorted(item["owner"] for item in items)
    assert owners == sorted(reps * 2)


# -- scheduled rules ---------------------------------------------------------------------
def notes_of(client, rep_headers) -> list[dict]:
    return client.get("/api/v1/notifications", headers=rep_headers).get_json()["items"]


def rep_headers(client, tenant_a, rep: int) -> dict[str, str]:
    token = client.post("/api/v1/admin/tokens", json={"user_id": rep, "name": "rep"},
                        headers=tenant_a.headers).get_json()["token"]
    return bearer(token)


def test_a_quote_left_fifteen_days_reminds_the_reps_once(client, app, tenant_a,
                                                        reps) -> None:
    from datetime import timedelta

    from crm_platform.db import utcnow
    from crm_platform.services.flows.schedules import run_scheduled_rules

    rule(client, tenant_a, {
        "key": "stale_quote", "form": "lead",
        "trigger": {"on": "time_in_state", "field": "stage", "value": "quote", "days": 15},
        "actions": [{"type": "notify", "to": [{"source": "roles", "roles": ["north"]}],
                     "message": "This quote waits for 15 days"}]})
    record = lead(client, tenant_a, stage="new")
    client.patch(f"{RECORDS}/{record['id']}", json={"data": {"stage": "quote"}},
                 headers=tenant_a.headers)
    lead(client, tenant_a, stage="won")                       # not in quote: never
    first = rep_headers(client, tenant_a, reps[0])
    assert run_scheduled_rules(app, now=utcnow() + timedelta(days=14)) == 0
    assert notes_of(client, first) == []
    assert run_scheduled_rules(app, now=utcnow() + timedelta(days=15, hours=1)) == 1
    assert [n["payload"]["rule"] for n in notes_of(client, first)] == ["stale_quote"]
    assert run_scheduled_rules(app, now=utcnow() + timedelta(days=16)) == 0   # once


def test_a_customer_without_follow_up_for_30_days_goes_back_to_the_pool(client, app,
                                                                        tenant_a,
                                                                        reps) -> None:
    from datetime import date, timedelta

    from crm_platform.services.flows.schedules import run_scheduled_rules

    rule(client, tenant_a, {
        "key": "to_pool", "form": "lead",
        "trigger": {"on": "date_relative", "field": "last_follow_up", "days": 30},
        "actions": [{"type": "release_to_pool"}]})
    today = date.today()
    stale = lead(client, tenant_a, last_follow_up=(today - timedelta(days=31)).isoformat())
    fresh = lead(client, tenant_a, last_follow_up=(today - timedelta(days=5)).isoformat())
    assert run_scheduled_rules(app) == 1
    assert client.get(f"{RECORDS}/{stale['id']}",
                      headers=tenant_a.headers).get_json()["owner"] is None
    assert client.get(f"{RECORDS}/{fresh['id']}",
                      headers=tenant_a.headers).get_json()["owner"] == tenant_a.admin_id
    history = client.get(f"{RECORDS}/{stale['id']}/history",
                         headers=tenant_a.headers).get_json()["items"]
    assert "release" in [entry["action"] for entry in history]


def test_a_cron_rule_runs_once_per_time_for_the_records_it_matches(client, app, tenant_a,
                                                                   reps) -> None:
    from datetime import timedelta

    from crm_platform.db import utcnow
    from crm_platform.services.flows.schedules import run_scheduled_rules

    rule(client, tenant_a, {
        "key": "daily", "form": "lead", "trigger": {"on": "schedule", "cron": "0 9 * * *"},
        "condition": "stage == 'new'",
        "actions": [{"type": "set_fields", "values": {"note": "checked"}}]})
    new, won = lead(client, tenant_a, stage="new"), lead(client, tenant_a, stage="won")
    tomorrow = utcnow() + timedelta(days=1, hours=1)
    assert run_scheduled_rules(app, now=tomorrow) == 1
    assert run_scheduled_rules(app, now=tomorrow + timedelta(minutes=5)) == 0
    assert client.get(f"{RECORDS}/{new['id']}", headers=tenant_a.headers
                      ).get_json()["data"]["note"] == "checked"
    assert client.get(f"{RECORDS}/{won['id']}", headers=tenant_a.headers
                      ).get_json()["data"].get("note") is None


def test_scheduled_rules_are_checked_when_saved(client, tenant_a, reps) -> None:
    response = client.post(URL, json={
        "key": "bad", "form": "lead", "trigger": {"on": "date_relative", "field": "stage"},
        "actions": [{"type": "release_to_pool"}]}, headers=tenant_a.headers)
    paths = {f["path"]: f["code"] for f in response.get_json()["error"]["fields"]}
    assert paths == {"trigger.days": "flow_missing_option",
                     "trigger.field": "flow_not_a_date_field"}
    cron = client.post(URL, json={
        "key": "bad2", "form": "lead", "trigger": {"on": "schedule", "cron": "every monday"},
        "actions": [{"type": "release_to_pool"}]}, headers=tenant_a.headers)
    assert cron.get_json()["error"]["fields"][0]["code"] == "flow_bad_cron"


def test_imported_records_run_the_created_rules(client, tenant_a, reps) -> None:
    import io

    rule(client, tenant_a, {
        "key": "north_leads", "form": "lead", "trigger": {"on": "created"},
        "condition": "region == 'North'",
        "actions": [{"type": "assign_owner", "strategy": "round_robin", "role": "north"}]})
    sheet = b"name,region\nA,North\nB,South\nC,North\n"
    response = client.post("/api/v1/apps/crm/forms/lead/imports", headers=tenant_a.headers,
                           data={"file": (io.BytesIO(sheet), "leads.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 201, response.get_json()
    items = client.get(f"{RECORDS}?sort=id", headers=tenant_a.headers).get_json()["items"]
    assert [item["owner"] for item in items] == [reps[0], tenant_a.admin_id, reps[1]]


# -- e-mail ----------------------------------------------------------------------------
class MailServer:
    """A local SMTP server that keeps what it is sent (just enough SMTP for smtplib)."""

    def __init__(self) -> None:
        import socketserver
        import threading

        messages = self.messages = []

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                self.wfile.write(b"220 test\r\n")
                envelope: dict = {"to": []}
                while line := self.rfile.readline():
                    verb = line[:4].upper()
                    if verb == b"DATA":
                        self.wfile.write(b"354 go\r\n")
                        body = b""
                        while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                            body += chunk
                        messages.append({**envelope, "data": body.decode()})
                        self.wfile.write(b"250 ok\r\n")
                    elif verb == b"RCPT":
                        envelope["to"].append(line.decode().split(":", 1)[1].strip(" <>\r\n"))
                        self.wfile.write(b"250 ok\r\n")
                    elif verb == b"QUIT":
                        self.wfile.write(b"221 bye\r\n")
                        return
                    else:
                        self.wfile.write(b"250 ok\r\n")

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_an_email_rule_is_sent_through_smtp(client, app, tenant_a, reps) -> None:
    from dataclasses import replace

    from crm_platform.services.delivery.outbox import dispatch_due

    rule(client, tenant_a, {
        "key": "welcome", "form": "lead", "trigger": {"on": "created"},
        "actions": [{"type": "send_email", "to_field": "email",
                     "to": [{"source": "roles", "roles": ["north"]}],
                     "subject": {"en": "New lead", "zh": "新线索"},
                     "body": "A new lead arrived."}]})
    lead(client, tenant_a, email="buyer@example.com")
    mail = MailServer()
    app.config["LOOM_SETTINGS"] = replace(app.config["LOOM_SETTINGS"],
                                          smtp_url=f"smtp://127.0.0.1:{mail.port}")
    try:
        assert dispatch_due(app) == 1
    finally:
        mail.stop()
    (message,) = mail.messages
    assert sorted(message["to"]) == sorted(
        ["buyer@example.com"] + [f"rep{i}@alpha.example" for i in range(3)])
    assert "Subject: New lead" in message["data"] and "A new lead arrived." in message["data"]
    (done,) = client.get("/api/v1/admin/outbox?status=done",
                         headers=tenant_a.headers).get_json()["items"]
    assert done["kind"] == "send_email"


def test_without_an_smtp_server_an_email_fails_visibly(client, app, tenant_a, reps) -> None:
    from crm_platform.services.delivery.outbox import dispatch_due

    rule(client, tenant_a, {
        "key": "welcome", "form": "lead", "trigger": {"on": "created"},
        "actions": [{"type": "send_email", "to_field": "email", "subject": "New lead",
                     "body": "A new lead arrived."}]})
    lead(client, tenant_a, email="buyer@example.com")
    assert dispatch_due(app) == 1
    (failed,) = client.get("/api/v1/admin/outbox?status=failed",
                           headers=tenant_a.headers).get_json()["items"]
    assert "LOOM_SMTP_URL" in failed["last_error"]


def test_a_won_lead_creates_a_follow_up_task_in_another_form(client, tenant_a, reps) -> None:
    headers = tenant_a.headers
    assert client.post("/api/v1/apps/crm/forms", headers=headers, json={
        "key": "task", "fields": [{"key": "title", "type": "text", "required": True},
                                  {"key": "lead", "type": "lookup", "form": "lead"}]}
                       ).status_code == 201
    assert client.post("/api/v1/apps/crm/forms/task/publish", json={},
                       headers=headers).status_code == 201
    bad = client.post(URL, headers=headers, json={
        "key": "bad", "form": "lead", "trigger": {"on": "created"},
        "actions": [{"type": "create_record", "form": "task",
                     "values": {"titel": "name", "lead": "nmae"}}]})
    paths = {f["path"]: f["code"] for f in bad.get_json()["error"]["fields"]}
    assert paths == {"actions[0].values.lead": "unknown_name"}   # expressions first
    bad = client.post(URL, headers=headers, json={
        "key": "bad", "form": "lead", "trigger": {"on": "created"},
        "actions": [{"type": "create_record", "form": "task", "values": {"titel": "name"}}]})
    assert [f["path"] for f in bad.get_json()["error"]["fields"]] == [
        "actions[0].values.titel"]
    rule(client, tenant_a, {
        "key": "follow_up", "form": "lead", "trigger": {"on": "updated", "fields": ["stage"]},
        "condition": "stage == 'won'",
        "actions": [{"type": "create_record", "form": "task",
                     "values": {"title": "'Send the contract to ' + name", "lead": "id"}}]})
    record = lead(client, tenant_a, stage="new")
    client.patch(f"{RECORDS}/{record['id']}", json={"data": {"stage": "won"}},
                 headers=headers)
    (task,) = client.get("/api/v1/apps/crm/forms/task/records",
                         headers=headers).get_json()["items"]
    assert task["data"] == {"title": "Send the contract to L", "lead": record["id"]}


def test_entering_a_state_fires_once_per_entry(client, tenant_a, reps) -> None:
    rule(client, tenant_a, {
        "key": "quoted", "form": "lead",
        "trigger": {"on": "state_entered", "field": "stage", "value": "quote"},
        "actions": [{"type": "notify", "to": [{"source": "roles", "roles": ["north"]}]}]})
    record = lead(client, tenant_a, stage="new")
    url = f"{RECORDS}/{record['id']}"
    for stage, name in (("quote", "A"), ("quote", "B"), ("won", "C"), ("quote", "D")):
        client.patch(url, json={"data": {"stage": stage, "name": name}},
                     headers=tenant_a.headers)
    history = client.get(f"{url}/history?limit=100", headers=tenant_a.headers).get_json()
    fired = [h for h in history["items"] if h["action"] == "automation"]
    assert len(fired) == 2          # entered quote twice; staying in it fires nothing
    started = lead(client, tenant_a, stage="quote")            # created in the state
    history = client.get(f"{RECORDS}/{started['id']}/history",
                         headers=tenant_a.headers).get_json()["items"]
    assert [h["action"] for h in history] == ["create", "automation"]


@pytest.mark.parametrize("field", ["owner", "created_by", "updated_by"])
def test_the_records_owner_creator_and_updater_can_be_notified(client, db, tenant_a, reps,
                                                               field) -> None:
    rule(client, tenant_a, {
        "key": "tell", "form": "lead", "trigger": {"on": "updated", "fields": ["stage"]},
        "condition": "stage == 'won'",
        "actions": [{"type": "notify", "to": [{"source": "user_field", "field": field}],
                     "message": "Won"}]})
    record = lead(client, tenant_a, stage="new")
    url = f"{RECORDS}/{record['id']}"
    assert client.post(f"{url}/transfer", json={"owner": reps[1]},
                       headers=tenant_a.headers).status_code == 200
    assert client.patch(url, json={"data": {"stage": "won"}},
                        headers=tenant_a.headers).status_code == 200
    with db.engine.connect() as connection:
        told = connection.execute(text(
            "SELECT user_id FROM notifications WHERE kind = 'automation'")).scalars().all()
    assert told == [reps[1] if field == "owner" else tenant_a.admin_id]


def test_a_user_field_recipient_must_name_a_user(client, tenant_a, reps) -> None:
    refused = client.post(URL, headers=tenant_a.headers, json={
        "key": "tell", "form": "lead", "trigger": {"on": "created"},
        "actions": [{"type": "notify", "to": [{"source": "user_field", "field": "region"}]}]})
    assert refused.status_code == 422
    assert refused.get_json()["error"]["fields"][0]["path"] == "actions[0].to[0].field"


def test_scheduled_rules_reach_every_record_however_many_there_are(client, app, tenant_a,
                                                                   reps, monkeypatch) -> None:
    """Records are read a page at a time; none is left out past the first page (a page
    of 2 here, of 1 000 in use)."""
    from datetime import date, timedelta

    from crm_platform.db import utcnow
    from crm_platform.services.flows import schedules

    monkeypatch.setattr(schedules, "BATCH", 2)
    rule(client, tenant_a, {
        "key": "daily", "form": "lead", "trigger": {"on": "schedule", "cron": "0 9 * * *"},
        "condition": "stage == 'new'",
        "actions": [{"type": "set_fields", "values": {"note": "checked"}}]})
    rule(client, tenant_a, {
        "key": "to_pool", "form": "lead",
        "trigger": {"on": "date_relative", "field": "last_follow_up", "days": 30},
        "actions": [{"type": "release_to_pool"}]})
    stale = (date.today() - timedelta(days=40)).isoformat()
    leads = [lead(client, tenant_a, stage="new", last_follow_up=stale) for _ in range(5)]
    tomorrow = utcnow() + timedelta(days=1, hours=1)
    assert schedules.run_scheduled_rules(app, now=tomorrow) == 10
    for item in leads:
        found = client.get(f"{RECORDS}/{item['id']}", headers=tenant_a.headers).get_json()
        assert (found["data"]["note"], found["owner"]) == ("checked", None)
