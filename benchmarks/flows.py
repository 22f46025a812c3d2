"""Flows at volume, each against a baseline measured in the same run:

(a) approvals — instances through a 3-level flow (manager → director → finance), submit
    and three approvals each: the pure engine's actions/s, and the platform's (engine +
    state, inbox, lock, history, notifications in one transaction per action) against
    plain record updates through the record service on the same database;
(b) automation overhead — the time 100 automation rules on a form add to saving a record
    (rules whose trigger matches but whose condition does not hold, the common case),
    against the same save with no rules; target p95 ≤ 2 ms added.

    python -m benchmarks.flows            # 10 000 instances: engine, SQLite, PostgreSQL
    python -m benchmarks.flows --quick    # 1 000 engine instances, 100 on each database
    LOOM_BENCH_POSTGRES_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench  (default)
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime
from typing import Any

from benchmarks.common import report
from benchmarks.records import POSTGRES_URL
from workflow_engine.engine import Context, new_state, run

FLOW = {"key": "three_levels", "form": "deal", "nodes": [
    {"key": "start", "type": "start", "next": "manager"},
    {"key": "manager", "type": "approval", "on_nobody": "admin",
     "approvers": [{"source": "manager_chain", "levels": 1}], "next": "director"},
    {"key": "director", "type": "approval", "on_nobody": "admin",
     "approvers": [{"source": "roles", "roles": ["director"]}], "next": "finance"},
    {"key": "finance", "type": "approval", "mode": "all", "on_nobody": "admin",
     "approvers": [{"source": "roles", "roles": ["finance"]}], "next": "end"},
    {"key": "end", "type": "end"}]}


class People:
    def active(self, users: Any) -> list[int]:
        return list(users)

    def users_with_roles(self, roles: Any) -> list[int]:
        return {"director": [3], "finance": [4, 5]}.get(roles[0], [])

    def department_head(self, user: int, levels: int) -> int | None:
        return 3

    def managers(self, user: int, levels: int) -> list[int]:
        return [2]

    def admins(self) -> list[int]:
        return [9]


def engine_actions_per_second(count: int) -> float:
    now, people, actions = datetime(2026, 1, 1, tzinfo=UTC), People(), 0
    started = time.perf_counter()
    for _ in range(count):
        state = run(FLOW, new_state(), {"type": "submit"},
                    Context(now, 1, {}, people)).state
        actions += 1
        while state["status"] == "running":
            task = next(t for t in state["tasks"] if t["status"] == "pending")
            state = run(FLOW, state, {"type": "approve", "task": task["id"]},
                        Context(now, task["assignee"], {}, people)).state
            actions += 1
    return actions / (time.perf_counter() - started)


def _world(url: str) -> tuple[Any, Any]:
    """A tenant with a manager chain, a director and two in finance; the deal form, the
    flow; returns (app, people {name: principal})."""
    from benchmarks.records import bench_tenant, loom
    from crm_platform.auth.login import principal_for
    from crm_platform.db import database
    from crm_platform.services.flows import definitions as flow_service
    from crm_platform.services.forms import apps as app_service
    from crm_platform.services.forms import definitions as form_service
    from crm_platform.services.identity import roles as role_service
    from crm_platform.services.identity import users as user_service

    app = loom(url)
    with app.app_context(), database(app).transaction() as session:
        scope, actor = bench_tenant(session)
        ids = {}
        for key in ("director", "finance"):
            ids[key] = role_service.create_role(scope, actor, {"key": key, "name": key}).id
        users = {}
        for name, roles in (("boss", []), ("dora", ["director"]), ("fei", ["finance"]),
                            ("fu", ["finance"]), ("ann", [])):
            body: dict[str, Any] = {"email": f"{name}@bench.example",
                                    "roles": [ids[r] for r in roles]}
            if name == "ann":
                body["manager_id"] = users["boss"].id
            users[name] = user_service.create_user(scope, actor, body)
        session.flush()
        application = app_service.create_app_record(scope, actor, {"key": "crm", "name": "CRM"})
        form = form_service.create_form(scope, actor, application, {
            "key": "deal", "fields": [{"key": "name", "type": "text"},
                                      {"key": "amount", "type": "currency"},
                                      {"key": "stage", "type": "text"}]})
        form_service.publish_form_version(scope, actor, form)
        flow = flow_service.create_flow(scope, actor, application, FLOW)
        flow_service.publish(scope, actor, application, flow)
        people = {name: principal_for(session, user, "token") for name, user in users.items()}
        people["admin"] = actor
    return app, people


def platform_rates(url: str, count: int) -> tuple[float, float]:
    """(approval actions/s, plain record updates/s) on the same database."""
    from crm_platform.db import database
    from crm_platform.models import FlowTask, Form
    from crm_platform.scoping import TenantScope
    from crm_platform.services.flows import approvals
    from crm_platform.services.records import operations as record_service

    app, people = _world(url)
    tenant = people["ann"].tenant_id
    with app.app_context():
        db = database(app)
        with db.transaction() as session:
            scope = TenantScope(session, tenant)
            form_id = session.scalars(scope.select(Form)).first().id
            records = [record_service.create_record(scope, people["ann"], scope.get(
                Form, form_id, "form"), {"name": f"D{i}", "amount": 1000})[0].id
                for i in range(count)]
        actions, started = 0, time.perf_counter()
        for record_id in records:
            with db.transaction() as session:
                scope = TenantScope(session, tenant)
                instance = approvals.submit(scope, people["ann"], scope.get(
                    Form, form_id, "form"), record_id, "three_levels").id
            actions += 1
            while True:
                with db.transaction() as session:
                    scope = TenantScope(session, tenant)
                    task = session.scalars(scope.select(
                        FlowTask, FlowTask.instance_id == instance,
                        FlowTask.status == "pending")).first()
                    if task is None:
                        break
                    who = next(p for p in people.values() if p.user_id == task.assignee_id)
                    approvals.task_action(scope, who, task.id, "approve", {})
                actions += 1
        ours = actions / (time.perf_counter() - started)
        started = time.perf_counter()
        for index, record_id in enumerate(records):
            with db.transaction() as session:
                scope = TenantScope(session, tenant)
                record_service.system_update(
                    scope, people["admin"], scope.get(Form, form_id, "form"),
                    session.get(record_service.Record, (tenant, record_id)),
                    {"stage": f"s{index}"})
        baseline = len(records) / (time.perf_counter() - started)
    app.extensions["loom.db"].dispose()
    return ours, baseline


def automation_overhead(url: str, saves: int, rules: int = 100) -> tuple[float, float]:
    """p95 seconds of a record update on a form without rules and on one with `rules`
    rules, the two saves alternating so that a slow spell of the machine hits both."""
    from crm_platform.db import database
    from crm_platform.models import App, Form
    from crm_platform.scoping import TenantScope
    from crm_platform.services.flows import definitions as flow_service
    from crm_platform.services.forms import definitions as form_service
    from crm_platform.services.records import operations as record_service

    app, people = _world(url)
    tenant, admin = people["admin"].tenant_id, people["admin"]
    with app.app_context(), database(app).transaction() as session:
        scope = TenantScope(session, tenant)
        application = session.scalars(scope.select(App)).first()
        plain = form_service.create_form(scope, admin, application, {
            "key": "plain", "fields": [{"key": "name", "type": "text"},
                                       {"key": "amount", "type": "currency"},
                                       {"key": "stage", "type": "text"}]})
        form_service.publish_form_version(scope, admin, plain)
        for index in range(rules):
            rule = flow_service.create_flow(scope, admin, application, {
                "key": f"rule{index}", "form": "deal",
                "trigger": {"on": "updated", "fields": ["amount"]},
                "condition": f"amount == -{index + 1}",
                "actions": [{"type": "set_fields", "values": {"stage": "never"}}]},
                "automation")
            flow_service.publish(scope, admin, application, rule)
        records = {key: record_service.create_record(
            scope, admin, session.scalars(scope.select(Form, Form.key == key)).one(),
            {"name": "x"})[0].id for key in ("plain", "deal")}
    times: dict[str, list[float]] = {"plain": [], "deal": []}
    with app.app_context():
        db = database(app)
        for index in range(saves):
            for key, record_id in records.items():
                started = time.perf_counter()
                with db.transaction() as session:
                    scope = TenantScope(session, tenant)
                    record_service.update_record(
                        scope, admin, session.scalars(scope.select(Form, Form.key == key)
                                                      ).one(), record_id, {"amount": index})
                times[key].append(time.perf_counter() - started)
    app.extensions["loom.db"].dispose()
    return percentile(times["plain"], 95), percentile(times["deal"], 95)


def percentile(values: list[float], point: int) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(point / 100 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    instances, saves = (1_000, 100) if args.quick else (10_000, 500)
    engine = engine_actions_per_second(instances)
    platform = {}
    with tempfile.TemporaryDirectory() as folder:
        for label, url in (("sqlite", f"sqlite:///{folder}/flows.db"),
                           ("postgresql", POSTGRES_URL)):
            platform[label] = platform_rates(url, instances // (10 if args.quick else 1))
    report("flows", "engine_actions_per_second", engine, "actions/s",
           "platform approval actions/s on SQLite (same run)", platform["sqlite"][0])
    for label, (ours, baseline) in platform.items():
        report("flows", f"approval_actions_per_second_{label}", ours, "actions/s",
               "record updates/s through the record service (same database)", baseline)
    with tempfile.TemporaryDirectory() as folder:
        without, with_rules = automation_overhead(f"sqlite:///{folder}/rules.db", saves)
    report("flows", "save_p95_ms_with_100_rules", with_rules * 1000, "ms",
           "the same save with no rules (p95 ms)", without * 1000, higher_is_better=False)
    print(f'{{"bench": "flows", "metric": "added_p95_ms", '
          f'"value": {round((with_rules - without) * 1000, 3)}, "target": 2}}')


if __name__ == "__main__":
    main()
