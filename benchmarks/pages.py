"""Sorted pages on SQLite stay flat as a form grows.

One form, a filtered and sorted page of 50 — deals of one region up to an amount, biggest
first (`region = 华北`, `amount <= t`, `sort=-amount`) — through the records query path
(filter language, keyset sort, plain rows), at 10 000 records and at a larger size, each
in a fresh SQLite file with the indexes publishing builds. The baseline is the same page
at 10 000 records, measured in the same run: the ratio says how much slower a page gets
as the form grows (target ≤ 1.5×, and p95 ≤ 10 ms in-process at a million).

    python -m benchmarks.pages            # 10 000 vs 1 000 000 records
    python -m benchmarks.pages --quick    # 10 000 vs 100 000 records
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from decimal import Decimal
from typing import Any

from benchmarks.common import insert_records, report
from benchmarks.records import loom, percentile, published_form

PAGES = 300


def load(url: str, tenant_id: int, form_id: int, user_id: int, count: int) -> None:
    """`count` deals written straight into the records table (as an import stores them)."""
    rng = random.Random(5)
    insert_records(url, tenant_id, form_id, user_id, (
        {"code": f"D{index:08d}", "name": f"客户 {index}",
         "region": rng.choice(["华北", "华东", "华南"]),
         "amount": Decimal(rng.randrange(100_000, 500_000_000)) / 100}
        for index in range(count)), batch_size=50_000)


def page_times(app: Any, tenant_id: int, user_id: int, form_id: int, pages: int
               ) -> list[float]:
    """In-process time of each page query: the filter read and planned, the SQL found and
    run, the rows read."""
    from crm_platform.auth.login import principal_for
    from crm_platform.db import database
    from crm_platform.models import Form, User
    from crm_platform.scoping import TenantScope
    from crm_platform.services.forms import definitions as form_service
    from crm_platform.services.records import operations as record_service
    from crm_platform.services.records import query as record_query
    from crm_platform.services.storage import filters as record_filters

    rng = random.Random(3)
    times = []
    with app.app_context(), database(app).transaction() as session:
        scope = TenantScope(session, tenant_id)
        actor = principal_for(session, session.get(User, (tenant_id, user_id)), "token")
        form = scope.get(Form, form_id, "form")
        _, compiled = record_service.current_version(scope, form)
        readable = record_service.listing(scope, actor, form)
        now = form_service.now_in(scope)
        for _ in range(pages):
            rule = json.dumps({"and": [
                {"field": "region", "op": "eq", "value": "华北"},
                {"field": "amount", "op": "lte", "value": rng.randrange(1_000_000, 4_000_000)}]})
            started = time.perf_counter()
            found = readable.narrowed(record_filters.plan_filter(
                compiled, record_filters.parse_filter(rule), now))
            sort = record_query.parse_sort(compiled, "-amount")
            rows, _cursor = record_query.page(scope, found, sort, 50, None)
            times.append(time.perf_counter() - started)
            assert len(rows) == 50
    return times


def p95_at(count: int) -> float:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/pages.db"
        app = loom(url)
        tenant_id, user_id, form_id = published_form(app)
        load(url, tenant_id, form_id, user_id, count)
        page_times(app, tenant_id, user_id, form_id, 30)       # warm caches
        p95 = percentile(page_times(app, tenant_id, user_id, form_id, PAGES), 95)
        app.extensions["loom.db"].dispose()
    return p95


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="10k vs 100k records")
    args = parser.parse_args()
    large = 100_000 if args.quick else 1_000_000
    small_p95 = p95_at(10_000)
    large_p95 = p95_at(large)
    report("sqlite_pages", f"page_p95_ms_at_{large}", large_p95 * 1000, "ms",
           "the same page at 10 000 records (p95 ms)", small_p95 * 1000,
           higher_is_better=False)


if __name__ == "__main__":
    main()
