"""Records at volume, each against a hand-written baseline measured in the same run:

(a) import — a CSV of a 20-field form imported end to end (read, map, check every row
    leniently, find duplicates, write records and their history) against a raw insert of
    the same rows into a plain table (`executemany` on SQLite, `COPY` on PostgreSQL);
    target ≥ 10 000 rows/s and at most 4× the raw insert's time;
(b) query — one form with a million records: a filtered, sorted page of 50 through the
    records API's query path (filter language, keyset sort, plain rows: each record's
    columns and four fields, as `fields=` projects them) against that query hand-written
    in SQL on a normalized table (the same columns, the fields as columns) with the same
    index; target p95 ≤ 30 ms and at most 2× the hand-written query.

    python -m benchmarks.records          # import: SQLite and PostgreSQL; query: PostgreSQL
    python -m benchmarks.records --quick         # 10k-row import, 100k-record query
    LOOM_BENCH_POSTGRES_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench  (default)

Each run uses fresh databases: a temporary SQLite file, and the PostgreSQL database
named by LOOM_BENCH_POSTGRES_URL (its tables are dropped and re-created).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import statistics
import tempfile
import time
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import simplejson
from sqlalchemy import create_engine, text

from benchmarks.common import report

POSTGRES_URL = os.environ.get("LOOM_BENCH_POSTGRES_URL",
                              "postgresql+psycopg://postgres@127.0.0.1:5432/bench")

DEAL_FORM: dict[str, Any] = {
    "key": "deal",
    "dedup": [["code"]],
    "fields": [
        {"key": "code", "type": "text", "label": {"en": "Code", "zh": "编号"}, "unique": True},
        {"key": "name", "type": "text", "label": {"en": "Customer", "zh": "客户"},
         "required": True},
        {"key": "contact", "type": "text", "label": {"en": "Contact", "zh": "联系人"}},
        {"key": "phone", "type": "phone", "label": {"en": "Phone", "zh": "电话"}},
        {"key": "email", "type": "email", "label": {"en": "E-mail", "zh": "邮箱"}},
        {"key": "stage", "type": "select", "label": {"en": "Stage", "zh": "阶段"},
         "options": [{"value": s} for s in
                                      ("lead", "quote", "negotiation", "won", "lost")]},
        {"key": "source", "type": "select", "label": {"en": "Source", "zh": "来源"},
         "options": [{"value": s} for s in ("web", "fair", "referral", "call")]},
        {"key": "region", "type": "text", "label": {"en": "Region", "zh": "区域"}},
        {"key": "amount", "type": "currency", "label": {"en": "Amount", "zh": "金额"},
         "indexed": True},
        {"key": "discount", "type": "percent", "label": {"en": "Discount", "zh": "折扣"}},
        {"key": "quantity", "type": "number", "kind": "integer",
         "label": {"en": "Quantity", "zh": "数量"}},
        {"key": "probability", "type": "percent", "label": {"en": "Probability", "zh": "赢率"}},
        {"key": "opened", "type": "date", "label": {"en": "Opened", "zh": "创建日期"}},
        {"key": "close_by", "type": "date", "label": {"en": "Close by", "zh": "预计成交"}},
        {"key": "hot", "type": "boolean", "label": {"en": "Hot", "zh": "重点"}},
        {"key": "rating", "type": "rating", "label": {"en": "Rating", "zh": "评级"}},
        {"key": "website", "type": "url", "label": {"en": "Website", "zh": "网站"}},
        {"key": "industry", "type": "text", "label": {"en": "Industry", "zh": "行业"}},
        {"key": "notes", "type": "textarea", "label": {"en": "Notes", "zh": "备注"}},
        {"key": "owner_note", "type": "text", "label": {"en": "Owner note", "zh": "负责人备注"}},
    ],
}
HEADERS = [field["label"]["zh"] for field in DEAL_FORM["fields"]]  # Chinese headers
STAGES = ("lead", "quote", "negotiation", "won", "lost")


def deal_rows(count: int, seed: int = 11) -> list[list[str]]:
    """Rows as people type them: Chinese dates, thousands separators, 是/否, local phones."""
    rng = random.Random(seed)
    start = date(2024, 1, 1)
    rows = []
    for index in range(count):
        opened = start + timedelta(days=rng.randrange(700))
        rows.append([
            f"D{index:08d}", f"客户 {index} 有限公司", rng.choice(["王芳", "李雷", "Han Meimei"]),
            f"138{index % 100_000_000:08d}", f"buyer{index}@example{index % 50}.com",
            rng.choice(STAGES), rng.choice(("web", "fair", "referral", "call")),
            rng.choice(["华北", "华东", "华南", "西部"]),
            f"{rng.randrange(1_000, 5_000_000):,}.{rng.randrange(100):02d}",
            str(rng.randrange(0, 30)), str(rng.randrange(1, 500)), f"{rng.randrange(0, 100)}%",
            f"{opened.year}年{opened.month}月{opened.day}日",
            (opened + timedelta(days=rng.randrange(10, 120))).isoformat(),
            rng.choice(["是", "否"]), str(rng.randrange(1, 6)),
            f"https://example{index % 50}.com", rng.choice(["制造", "零售", "教育"]),
            "跟进报价，客户关注交期。" * rng.randrange(0, 3), "",
        ])
    return rows


def as_csv(rows: list[list[str]]) -> bytes:
    import csv

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADERS)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8-sig")


# -- a Loom instance over a given database --------------------------------------------
def loom(url: str) -> Any:
    from crm_platform import create_app
    from crm_platform.db import Base
    from crm_platform.migrate import upgrade

    engine = create_engine(url)
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()
    upgrade(url)
    assert Base.metadata.tables  # models imported
    return create_app({"database_url": url, "secret_key": "bench", "testing": True})


def bench_tenant(session: Any) -> tuple[Any, Any]:
    """The benchmarks' tenant and its administrator, in `session`: (scope, principal)."""
    from crm_platform.auth.login import principal_for
    from crm_platform.models import User
    from crm_platform.scoping import TenantScope
    from crm_platform.services.identity.tenants import create_tenant

    tenant, admin = create_tenant(session, {
        "slug": "bench", "name": "Bench",
        "admin": {"email": "admin@bench.example", "password": "correct horse 9"}})
    session.flush()
    actor = principal_for(session, session.get(User, (tenant.id, admin.id)), "token")
    return TenantScope(session, tenant.id), actor


def published_form(app: Any, definition: dict[str, Any] | None = None
                   ) -> tuple[int, int, int]:
    """A tenant, its admin and the published deal form (or `definition`): (tenant id,
    user id, form id)."""
    from crm_platform.db import database
    from crm_platform.services.forms import apps as app_service
    from crm_platform.services.forms import definitions as form_service

    with app.app_context(), database(app).transaction() as session:
        scope, actor = bench_tenant(session)
        application = app_service.create_app_record(scope, actor, {"key": "crm", "name": "CRM"})
        form = form_service.create_form(scope, actor, application, definition or DEAL_FORM)
        form_service.publish_form_version(scope, actor, form)
        ids = scope.tenant_id, actor.user_id, form.id
    from crm_platform.jobs import wait_for_jobs

    wait_for_jobs(app)  # the form's indexes, built by a job once the publish committed
    return ids


def run_import(app: Any, tenant_id: int, user_id: int, form_id: int, content: bytes) -> Any:
    from crm_platform.auth.login import principal_for
    from crm_platform.db import database
    from crm_platform.models import Form, User
    from crm_platform.scoping import TenantScope
    from crm_platform.services.imports import jobs as imports

    with app.app_context(), database(app).transaction() as session:
        scope = TenantScope(session, tenant_id)
        actor = principal_for(session, session.get(User, (tenant_id, user_id)), "token")
        saved, imports.SYNC_ROWS = imports.SYNC_ROWS, 10**9  # the whole file in this call
        try:
            job = imports.start_import(scope, actor, scope.get(Form, form_id, "form"), content,
                                       "deals.csv", {"mode": "insert"})
        finally:
            imports.SYNC_ROWS = saved
        assert job.status == "done" and job.error_count == 0, job.row_errors[:3]
        return job.created_count


# -- (a) import --------------------------------------------------------------------------
def raw_insert(url: str, rows: list[list[str]]) -> float:
    """Seconds to insert the same rows as JSON documents into a plain table, the fastest
    plain way the driver offers (COPY on PostgreSQL, executemany on SQLite)."""
    keys = [field["key"] for field in DEAL_FORM["fields"]]
    documents = [json.dumps(dict(zip(keys, row, strict=True)), ensure_ascii=False)
                 for row in rows]
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE IF EXISTS raw_deals"))
        kind = "JSONB" if connection.dialect.name == "postgresql" else "JSON"
        connection.execute(text(f"CREATE TABLE raw_deals (id INTEGER PRIMARY KEY, "
                                f"data {kind} NOT NULL)"))
    started = time.perf_counter()
    with engine.begin() as connection:
        raw = connection.connection.driver_connection
        if connection.dialect.name == "postgresql":
            with raw.cursor() as cursor, cursor.copy(
                    "COPY raw_deals (id, data) FROM STDIN") as copy:
                for number, document in enumerate(documents, start=1):
                    copy.write_row((number, document))
        else:
            raw.executemany("INSERT INTO raw_deals (id, data) VALUES (?, ?)",
                            list(enumerate(documents, start=1)))
    elapsed = time.perf_counter() - started
    engine.dispose()
    return elapsed


def raw_into_records(url: str, tenant_id: int, form_id: int, user_id: int
                     ) -> tuple[float, float]:
    """Seconds to insert the imported records again, raw: their stored JSON documents into
    the records table itself, which keeps the indexes the form's fields need (unique code,
    the amount sort indexes, full-text on PostgreSQL) — and then, in a transaction of
    their own, their history rows as stored into the history table: the database's
    share of an import. Returns (records alone, records and history). The imported
    records and their history are deleted first."""
    engine = create_engine(url)
    with engine.begin() as connection:
        postgres = connection.dialect.name == "postgresql"
        as_text = "::text" if postgres else ""
        documents = list(connection.execute(text(
            f"SELECT data{as_text} FROM records WHERE form_id = :form ORDER BY id"),
            {"form": form_id}).scalars())
        history = [tuple(row) for row in connection.execute(text(
            f"SELECT record_id, changes{as_text}, comment FROM record_history "
            "ORDER BY id"))]
        first_id = connection.execute(text("SELECT min(id) FROM records")).scalar()
        connection.execute(text("DELETE FROM record_history"))
        connection.execute(text("DELETE FROM records"))
    now = "2026-01-01T00:00:00+00:00" if postgres else "2026-01-01 00:00:00.000000"
    # the same ids again (a fresh database: the import's ids have no gaps), which the
    # history rows refer to
    values = [(number, tenant_id, form_id, 1, document, user_id, 1, False, now, now)
              for number, document in enumerate(documents, start=first_id)]
    history_values = [(tenant_id, record_id, "create", 1, 1, user_id, changes, comment, now)
                      for record_id, changes, comment in history]
    columns = ("id, tenant_id, form_id, form_version, data, owner_id, version, locked, "
               "created_at, updated_at")
    history_columns = ("tenant_id, record_id, action, version, form_version, actor_id, "
                       "changes, comment, at")
    times = []
    for table, names, rows in (("records", columns, values),
                               ("record_history", history_columns, history_values)):
        started = time.perf_counter()
        with engine.begin() as connection:   # each table in a transaction, commit timed
            raw = connection.connection.driver_connection
            if postgres:
                with raw.cursor() as cursor, cursor.copy(
                        f"COPY {table} ({names}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                raw.executemany(f"INSERT INTO {table} ({names}) VALUES "
                                f"({', '.join('?' * len(names.split(',')))})", rows)
        times.append(time.perf_counter() - started)
    engine.dispose()
    return times[0], sum(times)


def bench_import(url: str, label: str, count: int) -> None:
    rows = deal_rows(count)
    content = as_csv(rows)
    app = loom(url)
    tenant_id, user_id, form_id = published_form(app)
    started = time.perf_counter()
    created = run_import(app, tenant_id, user_id, form_id, content)
    ours = time.perf_counter() - started
    assert created == count
    from crm_platform.jobs import wait_for_jobs

    wait_for_jobs(app)  # the statistics refreshed after the import, before the baselines
    app.extensions["loom.db"].dispose()
    raw = raw_insert(url, rows)
    into_records, with_history = raw_into_records(url, tenant_id, form_id, user_id)
    how = "COPY" if label == "postgresql" else "executemany"
    report("records_import", f"rows_per_second_{label}", count / ours, "rows/s",
           f"raw {how} of the same rows (rows/s)", count / raw)
    report("records_import", f"time_vs_raw_{label}", ours, "s",
           f"raw {how} of the same rows into a bare table ({count} rows)", raw,
           higher_is_better=False)
    report("records_import", f"time_vs_raw_into_records_{label}", ours, "s",
           f"raw {how} of the same rows, as stored, into the records table with the "
           f"form's indexes ({count} rows)", into_records, higher_is_better=False)
    report("records_import", f"time_vs_raw_into_records_and_history_{label}", ours, "s",
           f"raw {how} of the same rows and their history, as stored, into the records "
           f"and history tables — the database's whole share ({count} rows)", with_history,
           higher_is_better=False)


# -- (b) query ---------------------------------------------------------------------------
def bench_query(count: int, pages: int) -> None:
    app = loom(POSTGRES_URL)
    tenant_id, user_id, form_id = published_form(app)
    load_records(POSTGRES_URL, tenant_id, form_id, user_id, count)
    query_times(app, tenant_id, user_id, form_id, thresholds(20))  # warm pools and caches
    ours, query_only, baseline = query_times(app, tenant_id, user_id, form_id,
                                             thresholds(pages))
    base95 = percentile(baseline, 95)
    # the whole service path: a transaction, the caller, the form, permissions, the page
    report("records_query", "page_p95_ms", percentile(ours, 95) * 1000, "ms",
           "the same query hand-written on a normalized table (p95 ms)", base95 * 1000,
           higher_is_better=False)
    # the page query alone: the filter read and checked, the SQL found (compiled once per
    # shape) and run, the rows read and projected
    report("records_query", "query_p95_ms", percentile(query_only, 95) * 1000, "ms",
           "the same query hand-written on a normalized table (p95 ms)", base95 * 1000,
           higher_is_better=False)
    report("records_query", "query_median_ms", statistics.median(query_only) * 1000, "ms",
           "hand-written (median ms)", statistics.median(baseline) * 1000,
           higher_is_better=False)

    app.extensions["loom.db"].dispose()


def load_records(url: str, tenant_id: int, form_id: int, user_id: int, count: int) -> None:
    rng = random.Random(5)
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text(
            "CREATE TABLE norm_deals (id BIGINT PRIMARY KEY, tenant_id BIGINT NOT NULL, "
            "form_id BIGINT NOT NULL, form_version INTEGER NOT NULL, version INTEGER NOT NULL, "
            "owner_id BIGINT, department_id BIGINT, state TEXT, locked BOOLEAN NOT NULL, "
            "created_at TIMESTAMPTZ NOT NULL, updated_at TIMESTAMPTZ NOT NULL, "
            "created_by_id BIGINT, updated_by_id BIGINT, deleted_at TIMESTAMPTZ, "
            "name TEXT, stage TEXT, amount NUMERIC, region TEXT)"))
        start_id = connection.execute(text("SELECT coalesce(max(id), 0) FROM records")
                                      ).scalar() + 1
        rows = []
        for index in range(count):
            amount = Decimal(rng.randrange(100_000, 500_000_000)) / 100
            rows.append((start_id + index, f"D{index:08d}", f"客户 {index}",
                         rng.choice(STAGES), amount, rng.choice(["华北", "华东"])))
        raw = connection.connection.driver_connection
        with raw.cursor() as cursor:
            with cursor.copy("COPY records (id, tenant_id, form_id, form_version, data, "
                             "owner_id, version, locked, created_at, updated_at) "
                             "FROM STDIN") as copy:
                for number, code, name, stage, amount, region in rows:
                    document = simplejson.dumps(
                        {"code": code, "name": name, "stage": stage, "amount": amount,
                         "region": region}, use_decimal=True, ensure_ascii=False)
                    copy.write_row((number, tenant_id, form_id, 1, document, user_id, 1,
                                    False, "2026-01-01T00:00:00+00:00",
                                    "2026-01-01T00:00:00+00:00"))
            with cursor.copy("COPY norm_deals (id, tenant_id, form_id, form_version, version, "
                             "owner_id, locked, created_at, updated_at, name, stage, amount, "
                             "region) FROM STDIN") as copy:
                for number, _code, name, stage, amount, region in rows:
                    copy.write_row((number, tenant_id, form_id, 1, 1, user_id, False,
                                    "2026-01-01T00:00:00+00:00", "2026-01-01T00:00:00+00:00",
                                    name, stage, amount, region))
        connection.execute(text("SELECT setval(pg_get_serial_sequence('records', 'id'), "
                                "(SELECT max(id) FROM records))"))
        # the records table has the indexes publishing built for the `indexed` amount
        # (kept up to date by the COPY): the field, and the field then id for each sort
        # order; the plain table gets the same
        connection.execute(text("CREATE INDEX ix_norm_deals_amount ON norm_deals (amount)"))
        connection.execute(text(
            "CREATE INDEX ix_norm_deals_amount_id ON norm_deals (amount, id)"))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE records"))
        connection.execute(text("VACUUM ANALYZE norm_deals"))
    engine.dispose()


# The page: won or negotiating deals of at least 1 000 000, biggest first (a sales
# director's list). Each run asks for a different threshold, so no answer is cached.
def thresholds(pages: int) -> list[int]:
    rng = random.Random(3)
    return [rng.randrange(1_000_000, 4_000_000) for _ in range(pages)]


# The fields the page shows (`fields=`); the hand-written query selects them as columns.
PROJECTED = ["name", "stage", "amount", "region"]


# What the page returns of each record: its columns, and the four fields (`fields=`).
HAND_WRITTEN = text("SELECT id, form_version, version, owner_id, department_id, state, "
                    "locked, created_at, updated_at, created_by_id, updated_by_id, "
                    "deleted_at, name, stage, amount, region FROM norm_deals "
                    "WHERE tenant_id = :tenant AND deleted_at IS NULL "
                    "AND stage IN ('won', 'negotiation') AND amount >= :threshold "
                    "ORDER BY amount DESC, id DESC LIMIT 51")


def query_times(app: Any, tenant_id: int, user_id: int, form_id: int, wanted: list[int],
                fields: list[str] | None = PROJECTED
                ) -> tuple[list[float], list[float], list[float]]:
    """Per page: the whole service path, the page query alone, and the hand-written query
    — run in the same transaction on the same connection, in turns (Loom first on even
    pages, the hand-written query first on odd ones), so both meet the same state of the
    connection, the caches and the shared machine."""
    from crm_platform.auth.login import principal_for
    from crm_platform.db import database
    from crm_platform.models import Form, User
    from crm_platform.scoping import TenantScope
    from crm_platform.services.forms import definitions as form_service
    from crm_platform.services.records import operations as record_service
    from crm_platform.services.records import query as record_query
    from crm_platform.services.storage import filters as record_filters

    times, query_only, hand_written = [], [], []
    with app.app_context():
        for index, threshold in enumerate(wanted):
            started = time.perf_counter()
            with database(app).transaction() as session:
                scope = TenantScope(session, tenant_id)
                actor = principal_for(session, session.get(User, (tenant_id, user_id)), "token")
                form = scope.get(Form, form_id, "form")
                _, compiled = record_service.current_version(scope, form)
                readable = record_service.listing(scope, actor, form)
                rule = json.dumps({"and": [{"field": "stage", "op": "in",
                                            "value": ["won", "negotiation"]},
                                           {"field": "amount", "op": "gte",
                                            "value": threshold}]})
                now = form_service.now_in(scope)
                if index % 2:
                    hand_written.append(hand_written_time(session, tenant_id, threshold))
                query_started = time.perf_counter()
                found = readable.narrowed(record_filters.plan_filter(
                    compiled, record_filters.parse_filter(rule), now))
                sort = record_query.parse_sort(compiled, "-amount")
                rows, _cursor = record_query.page(scope, found, sort, 50, None)
                records = [record_query.project(row.data, fields) for row in rows]
                query_only.append(time.perf_counter() - query_started)
                assert len(records) == 50
                if not index % 2:
                    hand_written.append(hand_written_time(session, tenant_id, threshold))
            times.append(time.perf_counter() - started)
    return times, query_only, hand_written


def hand_written_time(session: Any, tenant_id: int, threshold: int) -> float:
    started = time.perf_counter()
    rows = session.connection().execute(HAND_WRITTEN, {"tenant": tenant_id,
                                                       "threshold": threshold}).all()
    elapsed = time.perf_counter() - started
    assert len(rows) == 51
    return elapsed


def percentile(values: list[float], point: int) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(point / 100 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a small run")
    parser.add_argument("--only", choices=["import", "query"])
    args = parser.parse_args()
    rows = 10_000 if args.quick else 100_000
    if args.only != "query":
        with tempfile.TemporaryDirectory() as folder:
            bench_import(f"sqlite:///{folder}/bench.db", "sqlite", rows)
        bench_import(POSTGRES_URL, "postgresql", rows)
    if args.only != "import":
        bench_query(100_000 if args.quick else 1_000_000, 200)


if __name__ == "__main__":
    main()
