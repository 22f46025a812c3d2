"""Derived values are current whenever they are read, and rules hear them change.

A member's "purchases in the last 365 days" (a related rollup with a relative-date filter)
and "days since the last purchase" (a formula over today()) are stored, so lists filter and
sort on them — and worked out again when the day turns: by the ticker, or by the first
read of the day. A rollup that changes because a purchase was saved fires the member's
rules that watch it; `newly_met` fires a rule once, when its condition starts to hold;
`assigned` rules run when a record changes hands; conditions see the tenant's today.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import partial
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from crm_platform.db import utcnow
from crm_platform.jobs import wait_for_jobs
from crm_platform.models import Form, Notification, Record, Tenant
from crm_platform.scoping import TenantScope
from crm_platform.services.flows.schedules import run_scheduled_rules
from crm_platform.services.records.dated import refresh_dated_forms
from tests.conftest import created, published_app

MEMBER = {"key": "member", "fields": [
    {"key": "name", "type": "text", "required": True},
    {"key": "tier", "type": "select", "options": [{"value": "normal"}, {"value": "gold"}],
     "default": "normal"},
    {"key": "note", "type": "text"},
    {"key": "since", "type": "date"},
    {"key": "spent", "type": "rollup", "function": "sum", "column": "amount",
     "related": {"form": "purchase", "link_field": "member"}},
    {"key": "year_count", "type": "rollup", "function": "count",
     "related": {"form": "purchase", "link_field": "member",
                 "filter": {"field": "day", "op": "last_n_days", "value": 365}}},
    {"key": "year_spent", "type": "rollup", "function": "sum", "column": "amount",
     "related": {"form": "purchase", "link_field": "member",
                 "filter": {"and": [{"field": "day", "op": "last_n_days", "value": 365},
                                    {"field": "amount", "op": "gte", "value": 100}]}}},
    {"key": "last_day", "type": "rollup", "function": "max", "column": "day",
     "result": "date", "related": {"form": "purchase", "link_field": "member"}},
    {"key": "idle_days", "type": "formula", "result": "number",
     "expression": "days_between(last_day, today())"},
    {"key": "sleeping", "type": "formula", "result": "boolean",
     "expression": "coalesce(idle_days, 0) >= 90"}]}
PURCHASE = {"key": "purchase", "fields": [
    {"key": "member", "type": "lookup", "form": "member", "required": True},
    {"key": "day", "type": "date", "required": True},
    {"key": "amount", "type": "number"}]}
RECORDS = "/api/v1/apps/shop/forms/{}/records"
RULES = "/api/v1/apps/shop/automations"


@pytest.fixture
def shop(app, client, tenant_a):
    plain = {**MEMBER, "fields": MEMBER["fields"][:4]}   # purchases point at members first
    published_app(client, tenant_a.headers, "shop", plain, PURCHASE)
    saved = client.put("/api/v1/apps/shop/forms/member/draft", json=MEMBER,
                       headers=tenant_a.headers)
    assert saved.status_code == 200, saved.get_json()
    created(client, "/api/v1/apps/shop/forms/member/publish", {}, tenant_a.headers)
    wait_for_jobs(app)     # index builds hold SQLite's write lock; a read does not wait
    return partial(created, client, headers=tenant_a.headers)


def _day(offset: int) -> str:
    return (date.today() + timedelta(days=offset)).isoformat()


def _member(client, tenant, member: int) -> dict:
    response = client.get(f"{RECORDS.format('member')}/{member}", headers=tenant.headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["data"]


def _rule(client, tenant, definition: dict) -> None:
    created(client, RULES, definition, tenant.headers)
    created(client, f"{RULES}/{definition['key']}/publish", {}, tenant.headers)


def _notified(db, tenant, rule: str) -> int:
    with db.transaction() as session:
        return sum(1 for note in session.scalars(TenantScope(session, tenant.id).select(
            Notification)) if (note.payload or {}).get("rule") == rule)


def _buy(shop, member: int, on: int, amount: int = 100) -> None:
    shop(RECORDS.format("purchase"), {"data": {"member": member, "day": _day(on),
                                                "amount": amount}})


def test_a_rollup_counts_only_what_its_filter_picks(client, tenant_a, shop) -> None:
    member = shop(RECORDS.format("member"), {"data": {"name": "Li Na"}})["id"]
    for on, amount in ((-400, 500), (-366, 500), (-300, 50), (-10, 200), (0, 300)):
        _buy(shop, member, on, amount)
    data = _member(client, tenant_a, member)
    assert (data["spent"], data["year_count"], data["year_spent"]) == (1550, 3, 500)
    assert (data["last_day"], data["idle_days"], data["sleeping"]) == (_day(0), 0, False)


def test_a_filter_that_does_not_fit_the_counted_form_is_refused_by_path(
        client, tenant_a, shop) -> None:
    draft = {**MEMBER, "fields": [*MEMBER["fields"][:4], {
        "key": "odd", "type": "rollup", "function": "count",
        "related": {"form": "purchase", "link_field": "member",
                    "filter": {"and": [{"field": "colour", "op": "eq", "value": "red"}]}}}]}
    response = client.put("/api/v1/apps/shop/forms/member/draft", json=draft,
                          headers=tenant_a.headers)
    assert response.status_code == 422, response.get_json()
    (error,) = response.get_json()["error"]["fields"]
    assert error["path"] == "fields[4].related.filter.and[0].field"
    assert "colour" in error["message"]


def test_when_the_day_turns_dated_values_are_worked_out_again_and_rules_hear_it(
        app, client, db, tenant_a, shop) -> None:
    _rule(client, tenant_a, {
        "key": "gone_quiet", "form": "member",
        "trigger": {"on": "updated", "fields": ["sleeping"], "newly_met": True},
        "condition": "sleeping",
        "actions": [{"type": "notify", "to": [{"source": "roles", "roles": ["admin"]}],
                     "message": "A member went quiet"}]})
    member = shop(RECORDS.format("member"), {"data": {"name": "Zhou Jie"}})["id"]
    _buy(shop, member, -85)
    _buy(shop, member, -360)
    data = _member(client, tenant_a, member)
    assert (data["year_count"], data["idle_days"], data["sleeping"]) == (2, 85, False)
    assert _notified(db, tenant_a, "gone_quiet") == 0
    with db.transaction() as session:
        drafted = session.scalar(select(Form.draft_updated_at).where(Form.key == "member"))

    assert refresh_dated_forms(app, now=utcnow() + timedelta(days=10)) == 1
    with db.transaction() as session:
        row = session.scalars(select(Record).where(Record.id == member)).one()
        assert (row.data["year_count"], row.data["idle_days"], row.data["sleeping"]) == (
            1, 95, True)
        form = session.scalars(select(Form).where(Form.key == "member")).one()
        assert form.draft_updated_at == drafted      # not a change of the draft
    assert _notified(db, tenant_a, "gone_quiet") == 1
    assert refresh_dated_forms(app, now=utcnow() + timedelta(days=10)) == 0   # done today
    refresh_dated_forms(app, now=utcnow() + timedelta(days=11))
    assert _notified(db, tenant_a, "gone_quiet") == 1          # still quiet: not again

    # Read today again: worked out for today, before the answer is given.
    data = _member(client, tenant_a, member)
    assert (data["year_count"], data["idle_days"], data["sleeping"]) == (2, 85, False)


def test_the_first_read_of_a_new_day_works_stale_values_out_before_answering(
        client, db, tenant_a, shop) -> None:
    member = shop(RECORDS.format("member"), {"data": {"name": "Wu Ting"}})["id"]
    _buy(shop, member, -30)
    _member(client, tenant_a, member)
    with db.transaction() as session:     # as the database stands the morning after
        row = session.scalars(select(Record).where(Record.id == member)).one()
        row.data = {**row.data, "idle_days": 29, "year_count": 7}
        session.execute(update(Form).where(Form.key == "member").values(
            dated_as_of=date.today() - timedelta(days=1)))
    listed = client.get(f"{RECORDS.format('member')}?filter=" + (
        '{"field": "idle_days", "op": "eq", "value": 30}'), headers=tenant_a.headers)
    assert [item["id"] for item in listed.get_json()["items"]] == [member]
    assert _member(client, tenant_a, member)["year_count"] == 1


def test_a_form_without_dated_values_is_not_worked_out_again(app, client, db, tenant_a,
                                                              shop) -> None:
    client.get(RECORDS.format("purchase"), headers=tenant_a.headers)   # a read: no write
    refresh_dated_forms(app)           # the ticker notes it has nothing to work out
    with db.transaction() as session:
        dated = dict(session.execute(select(Form.key, Form.dated_as_of)).all())
    assert dated["purchase"] is None
    assert dated["member"] == date.today()
    assert refresh_dated_forms(app, now=utcnow() + timedelta(days=1)) == 1   # member only


def test_a_rollup_changed_by_a_related_record_fires_the_rules_watching_it(
        client, db, tenant_a, shop) -> None:
    _rule(client, tenant_a, {
        "key": "gold", "form": "member", "trigger": {"on": "updated", "fields": ["spent"]},
        "condition": "spent >= 1000 and tier == 'normal'",
        "actions": [{"type": "set_fields", "values": {"tier": "gold"}},
                    {"type": "notify", "to": [{"source": "roles", "roles": ["admin"]}],
                     "message": "A new gold member"}]})
    _rule(client, tenant_a, {   # watches no derived field: a purchase does not wake it
        "key": "any_edit", "form": "member", "trigger": {"on": "updated"},
        "actions": [{"type": "set_fields", "values": {"note": "edited"}}]})
    member = shop(RECORDS.format("member"), {"data": {"name": "Chen Jing"}})["id"]
    _buy(shop, member, -1, 600)
    data = _member(client, tenant_a, member)
    assert (data["spent"], data["tier"], data.get("note")) == (600, "normal", None)
    _buy(shop, member, 0, 600)
    data = _member(client, tenant_a, member)
    assert (data["spent"], data["tier"]) == (1200, "gold")
    assert data["note"] == "edited"           # the rule's own change is an edit: it hears
    assert _notified(db, tenant_a, "gold") == 1
    history = client.get(f"{RECORDS.format('member')}/{member}/history",
                         headers=tenant_a.headers).get_json()["items"]
    automation = [entry for entry in history if entry["action"] == "automation"]
    assert automation and automation[0]["actor"] is None       # the system, not a person


def test_an_assigned_rule_runs_when_a_record_changes_hands(client, tenant_a, shop) -> None:
    _rule(client, tenant_a, {
        "key": "clock", "form": "member", "trigger": {"on": "assigned"},
        "actions": [{"type": "set_fields", "expressions": {"since": "today()",
                                                           "note": "concat('for ', id)"}}]})
    member = shop(RECORDS.format("member"), {"data": {"name": "Sun Yu",
                                                     "since": _day(-50)}})["id"]
    assert _member(client, tenant_a, member)["since"] == _day(-50)   # created: not assigned
    rep = shop("/api/v1/admin/users", {"email": "rep@alpha.example"})["id"]
    moved = client.post(f"{RECORDS.format('member')}/{member}/transfer", json={"owner": rep},
                        headers=tenant_a.headers)
    assert moved.status_code == 200, moved.get_json()
    data = _member(client, tenant_a, member)
    assert (data["since"], data["note"]) == (date.today().isoformat(), f"for {member}")


def test_a_rule_expression_naming_an_unknown_field_is_refused(client, tenant_a, shop) -> None:
    response = client.post(RULES, headers=tenant_a.headers, json={
        "key": "bad", "form": "member", "trigger": {"on": "created", "newly_met": True},
        "actions": [{"type": "set_fields", "expressions": {"colour": "today()",
                                                           "note": "nosuch + 1"}}]})
    assert response.status_code == 422
    paths = {error["path"] for error in response.get_json()["error"]["fields"]}
    assert {"trigger.newly_met", "actions[0].expressions.colour",
            "actions[0].expressions.note"} <= paths


def test_conditions_see_the_tenants_today_not_utcs(client, db, tenant_a, shop) -> None:
    # A zone whose date differs from UTC's right now: +14 h late in the UTC day, else -11 h.
    zone = "Pacific/Kiritimati" if datetime.now(UTC).hour >= 10 else "Pacific/Pago_Pago"
    local = datetime.now(ZoneInfo(zone)).date()
    assert local != datetime.now(UTC).date()
    with db.transaction() as session:
        session.execute(update(Tenant).where(Tenant.id == tenant_a.id).values(timezone=zone))
    _rule(client, tenant_a, {
        "key": "today", "form": "member", "trigger": {"on": "created"},
        "condition": "since == today()",
        "actions": [{"type": "set_fields", "values": {"note": "joined today"}}]})
    member = shop(RECORDS.format("member"), {"data": {"name": "Guo", "since":
                                                     local.isoformat()}})["id"]
    assert _member(client, tenant_a, member).get("note") == "joined today"


def test_a_schedule_keeps_the_tenants_hours(app, client, db, tenant_a, shop) -> None:
    with db.transaction() as session:
        session.execute(update(Tenant).where(Tenant.id == tenant_a.id).values(
            timezone="Asia/Shanghai"))
    _rule(client, tenant_a, {
        "key": "morning", "form": "member", "trigger": {"on": "schedule", "cron": "0 9 * * *"},
        "actions": [{"type": "notify", "to": [{"source": "roles", "roles": ["admin"]}],
                     "message": "Good morning"}]})
    shop(RECORDS.format("member"), {"data": {"name": "Ma Li"}})
    day = (utcnow() + timedelta(days=2)).replace(hour=0, minute=30, second=0, microsecond=0)
    run_scheduled_rules(app, now=day)                        # 08:30 in Shanghai
    assert _notified(db, tenant_a, "morning") == 1           # yesterday's nine o'clock
    run_scheduled_rules(app, now=day + timedelta(minutes=20))
    assert _notified(db, tenant_a, "morning") == 1
    run_scheduled_rules(app, now=day + timedelta(hours=1))   # 09:30 in Shanghai: today's
    assert _notified(db, tenant_a, "morning") == 2


def test_a_rule_that_fails_on_a_value_changed_by_itself_is_undone_and_noted(
        app, client, db, tenant_a, shop) -> None:
    # its second action sets an option the tier does not have: the rule cannot finish
    _rule(client, tenant_a, {
        "key": "bad_tier", "form": "member",
        "trigger": {"on": "updated", "fields": ["sleeping"], "newly_met": True},
        "condition": "sleeping",
        "actions": [{"type": "set_fields", "values": {"note": "asleep"}},
                    {"type": "set_fields", "values": {"tier": "diamond"}}]})
    member = shop(RECORDS.format("member"), {"data": {"name": "He Yun"}})["id"]
    _buy(shop, member, -85)
    assert refresh_dated_forms(app, now=utcnow() + timedelta(days=10)) == 1
    with db.transaction() as session:
        row = session.scalars(select(Record).where(Record.id == member)).one()
        assert (row.data["sleeping"], row.data.get("note"), row.data["tier"]) == (
            True, None, "normal")                  # refreshed; the rule's writes undone
    history = client.get(f"{RECORDS.format('member')}/{member}/history",
                         headers=tenant_a.headers).get_json()["items"]
    (failed,) = [entry for entry in history if entry["action"] == "automation_failed"]
    assert failed["changes"]["automation"]["rule"] == "bad_tier"


def test_rule_expressions_see_dates_as_dates_and_a_failing_one_is_named(
        client, tenant_a, shop) -> None:
    _rule(client, tenant_a, {
        "key": "follow", "form": "member", "trigger": {"on": "updated", "fields": ["since"]},
        "condition": "since < today()",
        "actions": [{"type": "set_fields", "expressions": {
            "note": "concat('renew on ', add_days(since, 30))"}}]})
    member = shop(RECORDS.format("member"), {"data": {"name": "Lu Bo"}})["id"]
    url = f"{RECORDS.format('member')}/{member}"
    changed = client.patch(url, json={"data": {"since": "2026-01-10"}},
                           headers=tenant_a.headers)
    assert changed.status_code == 200, changed.get_json()
    assert _member(client, tenant_a, member)["note"] == "renew on 2026-02-09"
    _rule(client, tenant_a, {
        "key": "broken", "form": "member", "trigger": {"on": "updated", "fields": ["name"]},
        "actions": [{"type": "set_fields",
                     "expressions": {"note": "concat(name, date(2026, 13, 1))"}}]})
    refused = client.patch(url, json={"data": {"name": "Lu"}}, headers=tenant_a.headers)
    assert refused.status_code == 422, refused.get_json()
    error = refused.get_json()["error"]
    assert error["code"] == "automation_failed" and "broken" in error["message"]
    assert error["fields"][0]["path"] == "automations.broken.note"
    assert _member(client, tenant_a, member)["name"] == "Lu Bo"     # nothing half-written


def test_publishing_a_change_that_breaks_a_rollups_filter_is_refused(
        client, tenant_a, shop) -> None:
    without_day = {**PURCHASE, "fields": [PURCHASE["fields"][0], PURCHASE["fields"][2]]}
    saved = client.put("/api/v1/apps/shop/forms/purchase/draft", json=without_day,
                       headers=tenant_a.headers)
    assert saved.status_code == 200, saved.get_json()
    refused = client.post("/api/v1/apps/shop/forms/purchase/publish", json={},
                          headers=tenant_a.headers)
    assert refused.status_code == 422, refused.get_json()
    error = refused.get_json()["error"]
    assert error["code"] == "rollup_filter_broken"
    assert {item["path"] for item in error["fields"]} == {
        "member.fields[5].related.filter.field",
        "member.fields[6].related.filter.and[0].field"}


def test_a_rollup_may_filter_its_own_form_as_the_draft_has_it(client, tenant_a, shop) -> None:
    tree = {"key": "unit", "fields": [
        {"key": "name", "type": "text"},
        {"key": "parent", "type": "lookup", "form": "unit"},
        {"key": "open", "type": "boolean"},
        {"key": "open_children", "type": "rollup", "function": "count",
         "related": {"form": "unit", "link_field": "parent",
                     "filter": {"field": "open", "op": "eq", "value": True}}}]}
    created(client, "/api/v1/apps/shop/forms", tree, tenant_a.headers)
    created(client, "/api/v1/apps/shop/forms/unit/publish", {}, tenant_a.headers)
    top = created(client, RECORDS.format("unit"), {"data": {"name": "HQ"}},
                  tenant_a.headers)["id"]
    for open_ in (True, True, False):
        created(client, RECORDS.format("unit"), {"data": {"name": "Branch", "parent": top,
                                                          "open": open_}}, tenant_a.headers)
    got = client.get(f"{RECORDS.format('unit')}/{top}", headers=tenant_a.headers)
    assert got.get_json()["data"]["open_children"] == 2
