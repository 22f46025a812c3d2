"""Loom over HTTP under gunicorn against the stack's own floor, in the same run.

Both apps run under gunicorn on this machine (2 workers of the chosen class), on the same
PostgreSQL, with 20 000 deals loaded; 8 concurrent clients (threads with keep-alive
connections) drive one operation at a time: create one record, get one by id, a filtered
sorted page of 50 (one region, amounts up to a bound, biggest first), and a batch of 1 000
new records. Both servers are up at once and driven in turn, round by round (5 rounds of
2 s each, 2 of 1.5 s with --quick), and the median round of each is compared: this
machine's speed drifts by tens of per cent within minutes. The floor
(`benchmarks/http_floor.py`) serves the same operations on a plain typed table with
Flask + SQLAlchemy and nothing else.
`ratio` is Loom's throughput ÷ the floor's: ≥ 0.5 means "≤ 2× the floor" (targets: get and
page ≥ 0.5, create and batch ≥ 0.33).

    python -m benchmarks.http                    # gthread workers (the documented choice)
    python -m benchmarks.http --worker-class sync
    python -m benchmarks.http --quick            # 2 rounds of 1.5 s instead of 5 of 2 s
    LOOM_BENCH_POSTGRES_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench  (default)
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
from decimal import Decimal
from typing import Any

import simplejson

from benchmarks.common import report
from benchmarks.records import POSTGRES_URL, loom, published_form

CLIENTS = 8
PRELOAD = 20_000
FORM = {"key": "deal", "fields": [
    {"key": "code", "type": "text"}, {"key": "name", "type": "text"},
    {"key": "region", "type": "text", "indexed": True},
    {"key": "amount", "type": "currency", "indexed": True}]}
REGIONS = ["华北", "华东", "华南", "西部"]


def deal(rng: random.Random, index: int) -> dict[str, Any]:
    return {"code": f"D{index:08d}", "name": f"客户 {index} 有限公司",
            "region": rng.choice(REGIONS),
            "amount": Decimal(rng.randrange(100_000, 500_000_000)) / 100}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def serve(target: str, env: dict[str, str], worker_class: str, keep_alive: int
          ) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    threads = ["--threads", "4"] if worker_class == "gthread" else []
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", "2", "--worker-class", worker_class,
         *threads, "--keep-alive", str(keep_alive), "--bind", f"127.0.0.1:{port}",
         "--log-level", "warning", target],
        env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process, port
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{target} did not start")


def drive(port: int, prefix: str, headers: dict[str, str], make, seconds: float) -> float:
    """Requests a second from CLIENTS threads, each with one keep-alive connection;
    `make(rng)` gives (method, path, body or None)."""
    done = [0] * CLIENTS
    deadline = time.perf_counter() + seconds

    def client(slot: int) -> None:
        rng = random.Random(slot)
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        while time.perf_counter() < deadline:
            method, path, body = make(rng)
            payload = (simplejson.dumps(body, use_decimal=True).encode()
                       if body is not None else None)
            connection.request(method, prefix + path, body=payload, headers={
                **headers, **({"Content-Type": "application/json"} if payload else {})})
            response = connection.getresponse()
            response.read()
            assert response.status < 300, (path, response.status)
            done[slot] += 1
        connection.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=client, args=(slot,)) for slot in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(done) / (time.perf_counter() - started)


def loom_world(url: str) -> tuple[str, list[int]]:
    """Loom's database: a tenant, the deal form, PRELOAD deals; its token and the ids."""
    from crm_platform.db import database
    from crm_platform.models import User
    from crm_platform.scoping import TenantScope
    from crm_platform.services.identity.tokens import issue_token

    app = loom(url)
    tenant_id, user_id, _form_id = published_form(app, FORM)
    with app.app_context(), database(app).transaction() as session:
        _token, secret = issue_token(TenantScope(session, tenant_id),
                                     session.get(User, (tenant_id, user_id)), "bench", user_id)
    client, rng = app.test_client(), random.Random(1)
    ids: list[int] = []
    for start in range(0, PRELOAD, 1000):
        response = client.post("/api/v1/apps/crm/forms/deal/records/batch",
                               headers={"Authorization": f"Bearer {secret}"},
                               json={"items": [{"data": deal(rng, start + i)}
                                               for i in range(1000)]})
        ids += [item["id"] for item in response.get_json()["items"]]
    app.extensions["loom.db"].dispose()
    return secret, ids


def floor_world(url: str) -> list[int]:
    from sqlalchemy import create_engine, insert, select

    os.environ["FLOOR_DATABASE_URL"] = url
    from benchmarks import http_floor

    engine = create_engine(url)
    http_floor.metadata.drop_all(engine)
    http_floor.metadata.create_all(engine)
    rng = random.Random(1)
    with engine.begin() as connection:
        connection.execute(insert(http_floor.deals), [
            {**deal(rng, index), "tenant_id": 1} for index in range(PRELOAD)])
        ids = list(connection.execute(select(http_floor.deals.c.id)).scalars())
    engine.dispose()
    return ids


def operations(ids: list[int], counter: list[int], page_query: Any) -> dict[str, Any]:
    def create(rng):
        counter[0] += 1
        return "POST", "/records", {"data": deal(rng, 10**7 + counter[0])}

    def get(rng):
        return "GET", f"/records/{rng.choice(ids)}", None

    def page(rng):
        region, below = rng.choice(REGIONS), rng.randrange(1_000_000, 4_000_000)
        return ("GET", "/records?" + page_query(region, below), None)

    def batch(rng):
        counter[0] += 1000
        return "POST", "/records/batch", {"items": [
            {"data": deal(rng, 2 * 10**7 + counter[0] + i)} for i in range(1000)]}

    return {"create": create, "get": get, "page": page, "batch": batch}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--worker-class", default="gthread", choices=["gthread", "sync"])
    parser.add_argument("--keep-alive", type=int, default=5)
    args = parser.parse_args()
    rounds, seconds = (2, 1.5) if args.quick else (5, 2.0)
    url = POSTGRES_URL
    secret, loom_ids = loom_world(url)
    floor_ids = floor_world(url)
    from urllib.parse import quote

    def loom_query(region: str, below: int) -> str:
        return "limit=50&sort=-amount&filter=" + quote(json.dumps(
            {"and": [{"field": "region", "op": "eq", "value": region},
                     {"field": "amount", "op": "lte", "value": below}]}))

    def floor_query(region: str, below: int) -> str:
        return f"region={quote(region)}&below={below}"

    apps = {
        "loom": ("crm_platform.wsgi:app", {"DATABASE_URL": url, "SECRET_KEY": "bench"},
                 "/api/v1/apps/crm/forms/deal", {"Authorization": f"Bearer {secret}"},
                 operations(loom_ids, [0], loom_query)),
        "floor": ("benchmarks.http_floor:app", {"FLOOR_DATABASE_URL": url}, "", {},
                  operations(floor_ids, [0], floor_query)),
    }
    servers = {name: serve(target, env, args.worker_class, args.keep_alive)
               for name, (target, env, *_rest) in apps.items()}
    try:
        for operation in ("get", "page", "create", "batch"):
            # Rounds interleaved, so that a machine that slows down or speeds up during
            # the run weighs on both sides alike; the median round of each is reported.
            rates: dict[str, list[float]] = {"loom": [], "floor": []}
            for round_ in range(rounds + 1):
                for name, (_target, _env, prefix, headers, ops) in apps.items():
                    rate = drive(servers[name][1], prefix, headers, ops[operation],
                                 0.5 if round_ == 0 else seconds)   # round 0 warms up
                    if round_:
                        rates[name].append(rate)
            scale = 1000 if operation == "batch" else 1
            unit = "rows/s" if operation == "batch" else "requests/s"
            report("http", f"{operation}_{unit.replace('/', '_per_')}_{args.worker_class}",
                   statistics.median(rates["loom"]) * scale, unit,
                   "minimal Flask + SQLAlchemy on a plain table, same run, rounds interleaved",
                   statistics.median(rates["floor"]) * scale)
    finally:
        for process, _port in servers.values():
            process.terminate()
            process.wait(timeout=30)


if __name__ == "__main__":
    main()
