"""Date-dependent values at the turn of the day, against a baseline measured in the same run.

Members with "purchases in the last 365 days" (a related roll-up with a relative-date
filter), "days since the last purchase" (a formula over today()) and a score over it are
worked out again for a new day by the ticker (`records.dated.refresh_dated_forms`): a page
of 500 members at a time, each roll-up asked once per page (`resolver.PageResolver`). The
baseline is the same refresh asking each roll-up of each member on its own, as a record
save does. Every day changes every member's "days since", so each pass also stores every
member.

    python -m benchmarks.dated            # 20 000 members, 3 purchases each, SQLite
    python -m benchmarks.dated --quick    # 2 000 members
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from datetime import date, timedelta
from typing import Any

from benchmarks.common import insert_records, report

MEMBER = {"key": "member", "fields": [{"key": "name", "type": "text"}]}
ROLLUPS = [
    {"key": "spent", "type": "rollup", "function": "sum", "column": "amount",
     "related": {"form": "purchase", "link_field": "member"}},
    {"key": "year_count", "type": "rollup", "function": "count",
     "related": {"form": "purchase", "link_field": "member",
                 "filter": {"field": "day", "op": "last_n_days", "value": 365}}},
    {"key": "last_day", "type": "rollup", "function": "max", "column": "day",
     "result": "date", "related": {"form": "purchase", "link_field": "member"}},
    {"key": "idle_days", "type": "formula", "result": "number",
     "expression": "days_between(last_day, today())"},
    {"key": "r_score", "type": "formula", "result": "number",
     "expression": "5 if idle_days <= 30 else 3 if idle_days <= 90 else 1"}]
PURCHASE = {"key": "purchase", "fields": [
    {"key": "member", "type": "lookup", "form": "member"},
    {"key": "day", "type": "date"}, {"key": "amount", "type": "number"}]}


def _world(url: str, members: int) -> tuple[Any, int]:
    """The shop app with `members` members and three purchases each; (app, tenant id)."""
    from sqlalchemy import select

    from benchmarks.records import bench_tenant, loom
    from crm_platform.db import database
    from crm_platform.jobs import wait_for_jobs
    from crm_platform.models import Record
    from crm_platform.services.forms import apps as app_service
    from crm_platform.services.forms import definitions as form_service

    app = loom(url)
    with app.app_context(), database(app).transaction() as session:
        scope, actor = bench_tenant(session)
        shop = app_service.create_app_record(scope, actor, {"key": "shop", "name": "Shop"})
        forms = {"member": form_service.create_form(
            scope, actor, shop, {**MEMBER, "fields": MEMBER["fields"] + ROLLUPS},
            coming=["purchase"])}
        forms["purchase"] = form_service.create_form(scope, actor, shop, PURCHASE)
        for form in forms.values():
            form_service.publish_form_version(scope, actor, form)
        ids = {key: form.id for key, form in forms.items()}
        tenant_id, admin_id = scope.tenant_id, actor.user_id
    insert_records(url, tenant_id, ids["member"], admin_id,
                   ({"name": f"Member {n}"} for n in range(members)))
    with database(app).transaction() as session:
        member_ids = list(session.scalars(select(Record.id).where(
            Record.form_id == ids["member"]).order_by(Record.id)))
    wait_for_jobs(app)    # the lookup's index, built after the publish as in production
    rng = random.Random(7)
    today = date.today()
    insert_records(url, tenant_id, ids["purchase"], admin_id, (
        {"member": member, "amount": rng.randrange(50, 5000),
         "day": (today - timedelta(days=rng.randrange(0, 500))).isoformat()}
        for member in member_ids for _ in range(3)))
    return app, tenant_id


def refresh_rates(url: str, members: int, passes: int = 2) -> tuple[float, float]:
    """Members/s of a day's refresh: paged, and one roll-up query per member (best of
    `passes` each, interleaved day by day)."""
    from crm_platform.db import utcnow
    from crm_platform.services.records import dated, derived

    app, _tenant = _world(url, members)
    with app.app_context():
        dated.refresh_dated_forms(app)          # the first look: values for today
        paged = derived.PageResolver
        best = [0.0, 0.0]
        day = 0
        for _ in range(passes):
            for index, resolver in enumerate((paged, lambda base, _ids: base)):
                day += 1
                derived.PageResolver = resolver
                started = time.perf_counter()
                dated.refresh_dated_forms(app, now=utcnow() + timedelta(days=day))
                best[index] = max(best[index], members / (time.perf_counter() - started))
        derived.PageResolver = paged
    return best[0], best[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    members = 2_000 if args.quick else 20_000
    with tempfile.TemporaryDirectory() as folder:
        paged, single = refresh_rates(f"sqlite:///{folder}/dated.db", members)
    report("dated", "day_turn_members_per_second_sqlite", paged, "members/s",
           "the same refresh, one roll-up query per member (same run)", single)


if __name__ == "__main__":
    main()
