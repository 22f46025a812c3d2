"""Large imports as jobs on a real Redis, run by a real rq worker process (`loom worker
--burst`): queued by the request, done by the worker, written exactly once — even when the
worker is killed in the middle of writing and the job runs again."""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from redis import Redis
from rq import Queue
from sqlalchemy import create_engine, text

from crm_platform.db import utcnow
from crm_platform.jobs import LEASE, MAX_ATTEMPTS, QUEUE, REDISPATCH, enqueue, sweep_jobs
from tests.conftest import bearer
from tests.services import redis_url_or_skip

LEAD = {"key": "lead", "dedup": [["phone"]], "fields": [
    {"key": "name", "type": "text", "label": {"en": "Name", "zh": "姓名"}, "required": True},
    {"key": "phone", "type": "text", "label": {"en": "Phone", "zh": "电话"}},
    {"key": "budget", "type": "currency", "label": {"en": "Budget", "zh": "预算"}}]}
FORM = "/api/v1/apps/crm/forms/lead"


def loom() -> str:
    """The `loom` console script of this venv (`python -m crm_platform.cli` runs nothing:
    the module has no `__main__` guard)."""
    found = shutil.which("loom", path=os.path.dirname(sys.executable))
    assert found, "the loom console script is not installed next to this Python"
    return found


@pytest.fixture
def redis_url() -> Iterator[str]:
    url = redis_url_or_skip()
    connection = Redis.from_url(url)
    connection.flushdb()
    yield url
    connection.flushdb()
    connection.close()


@pytest.fixture
def queued_app(make_app, redis_url: str, monkeypatch):
    """An app that queues imports of more than 5 rows on rq."""
    monkeypatch.setattr("crm_platform.services.imports.jobs.SYNC_ROWS", 5)
    return make_app(redis_url=redis_url)


@pytest.fixture
def world(queued_app, make_tenant) -> tuple[Any, dict[str, str], Any]:
    """A test client, tenant A's administrator headers, the tenant, and the published lead
    form."""
    tenant = make_tenant("alpha")
    client = queued_app.test_client()
    headers = tenant.headers
    assert client.post("/api/v1/apps", json={"key": "crm", "name": "CRM"},
                       headers=headers).status_code == 201
    assert client.post("/api/v1/apps/crm/forms", json=LEAD, headers=headers).status_code == 201
    assert client.post(f"{FORM}/publish", json={}, headers=headers).status_code == 201
    return client, headers, tenant


def worker_env(database_url: str, redis_url: str) -> dict[str, str]:
    return {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_url,
            "SECRET_KEY": "x"}


def run_worker(database_url: str, redis_url: str) -> str:
    result = subprocess.run([loom(), "worker", "--burst"],
                            env=worker_env(database_url, redis_url), capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout + result.stderr


def jobs(database_url: str, name: str = "import") -> list[tuple[str, list, str]]:
    """(name, arguments, status) of every job row of that name, oldest first."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(text(
                "SELECT name, args, status FROM jobs WHERE name = :name ORDER BY id"),
                {"name": name}).all()
    finally:
        engine.dispose()
    return [(name, args if isinstance(args, list) else json.loads(args), status)
            for name, args, status in rows]


def job_ids(database_url: str, name: str = "import") -> list[int]:
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            return list(connection.execute(text(
                "SELECT id FROM jobs WHERE name = :name ORDER BY id"), {"name": name}).scalars())
    finally:
        engine.dispose()


def sheet(rows: int, start: int = 0) -> bytes:
    lines = ["姓名,电话,预算"] + [f"客户{i},{10_000 + i},\"{i % 999 + 1},000.50\""
                                for i in range(start, start + rows)]
    return ("\r\n".join(lines) + "\r\n").encode("gb18030")


def start(client, headers, content: bytes, **fields: str) -> dict[str, Any]:
    response = client.post(f"{FORM}/imports", headers=headers,
                           content_type="multipart/form-data",
                           data={"file": (io.BytesIO(content), "leads.csv"), **fields})
    assert response.status_code == 202, response.get_json()
    body = response.get_json()
    assert body["status"] == "queued"
    return body


def status(client, headers, import_id: int) -> dict[str, Any]:
    response = client.get(f"/api/v1/imports/{import_id}", headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def names(client, headers) -> list[str]:
    response = client.get(f"{FORM}/records?limit=200", headers=headers)
    assert response.status_code == 200
    return [item["data"]["name"] for item in response.get_json()["items"]]


def test_a_queued_import_is_run_by_a_real_worker(world, database_url, redis_url) -> None:
    client, headers, tenant = world
    queued = start(client, headers, sheet(12))
    # On rq, not in this process: nothing happens until a worker takes it.
    waiting = Queue(QUEUE, connection=Redis.from_url(redis_url)).jobs
    assert jobs(database_url) == [("import", [tenant.id, queued["id"]], "queued")]
    assert (job_ids(database_url)[0],) in [job.args for job in waiting]
    assert status(client, headers, queued["id"])["status"] == "queued"
    assert names(client, headers) == []
    run_worker(database_url, redis_url)
    body = status(client, headers, queued["id"])
    assert body["status"] == "done", body
    assert (body["processed_rows"], body["total_rows"]) == (12, 12)
    assert (body["created"], body["failed_rows"], body["written"]) == (12, 0, True)
    assert body["encoding"] == "gb18030"
    assert names(client, headers) == [f"客户{i}" for i in range(12)]
    first = client.get(f"{FORM}/records?limit=1", headers=headers).get_json()["items"][0]
    assert Decimal(str(first["data"]["budget"])) == Decimal("1000.50")
    history = client.get(f"{FORM}/records/{first['id']}/history",
                         headers=headers).get_json()["items"]
    assert [entry["action"] for entry in history] == ["create"]


def test_a_worker_reports_row_errors_in_the_importers_language(world, database_url,
                                                               redis_url) -> None:
    client, headers, tenant = world
    assert client.patch(f"/api/v1/admin/users/{tenant.admin_id}", json={"locale": "zh"},
                        headers=headers).status_code == 200
    content = sheet(8) + "坏行,20000,很多\r\n".encode("gb18030")
    queued = start(client, headers, content, on_error="valid_only")
    run_worker(database_url, redis_url)
    body = status(client, headers, queued["id"])
    assert (body["status"], body["created"], body["failed_rows"]) == ("done", 8, 1)
    (error,) = body["row_errors"]
    assert (error["row"], error["column"], error["field"], error["value"]) == (
        10, "预算", "budget", "很多")
    assert "很多" in error["message"] and "预算" in error["message"]
    errors = client.get(f"/api/v1/imports/{queued['id']}/errors.csv", headers=headers)
    assert errors.get_data().decode("utf-8-sig").startswith("行,列,字段,值,错误代码,说明")
    assert len(names(client, headers)) == 8


def test_a_deactivated_importers_queued_import_does_not_run(world, database_url,
                                                           redis_url) -> None:
    client, headers, _admin = world
    role = client.post("/api/v1/admin/roles", json={"key": "rep", "name": "Rep"},
                       headers=headers).get_json()["id"]
    user = client.post("/api/v1/admin/users", headers=headers,
                       json={"email": "rep@alpha.example", "roles": [role]}).get_json()
    token = client.post("/api/v1/admin/tokens", headers=headers,
                        json={"user_id": user["id"], "name": "rep"}).get_json()["token"]
    queued = start(client, bearer(token), sheet(8))
    assert client.patch(f"/api/v1/admin/users/{user['id']}", json={"is_active": False},
                        headers=headers).status_code == 200
    run_worker(database_url, redis_url)
    body = status(client, headers, queued["id"])
    assert body["status"] == "failed" and body["error"]["code"] == "user_inactive"
    assert (body["created"], body["written"]) == (0, False)
    assert names(client, headers) == []


def test_a_failed_job_says_why_in_the_importers_language(world, database_url,
                                                         redis_url) -> None:
    client, headers, _admin = world
    role = client.post("/api/v1/admin/roles", json={"key": "rep", "name": "Rep"},
                       headers=headers).get_json()["id"]
    user = client.post("/api/v1/admin/users", headers=headers, json={
        "email": "rep@alpha.example", "roles": [role], "locale": "zh"}).get_json()
    token = client.post("/api/v1/admin/tokens", headers=headers,
                        json={"user_id": user["id"], "name": "rep"}).get_json()["token"]
    queued = start(client, bearer(token), sheet(8))
    client.patch(f"/api/v1/admin/users/{user['id']}", json={"is_active": False},
                 headers=headers)
    run_worker(database_url, redis_url)
    body = status(client, headers, queued["id"])
    assert body["error"]["code"] == "user_inactive"
    assert body["error"]["message"] == "该用户已停用。"


# -- a worker killed in the middle ----------------------------------------------------
def _waiting_history_insert(connection) -> int | None:
    """The backend blocked inserting history rows (the job's transaction, mid-write)."""
    return connection.execute(text(
        "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
        "AND (query ILIKE 'INSERT INTO record_history%' "
        "OR query ILIKE 'COPY record_history%')")).scalar()


def _children(pid: int) -> list[int]:
    """The processes `pid` forked (rq's work horse: it runs in its own process group)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _alive(connection, pid: int) -> bool:
    return bool(connection.execute(text("SELECT count(*) FROM pg_stat_activity WHERE pid = :p"),
                                   {"p": pid}).scalar())


def test_a_worker_killed_mid_import_writes_nothing_and_the_retry_writes_once(
        queued_app, world, database_url, redis_url, tmp_path) -> None:
    """Deterministic: a lock on record_history stops the job after it has inserted records
    (in its transaction) and before their history; the worker and its work horse are
    SIGKILLed there. rq's own clean-up of abandoned jobs then retries the job."""
    if database_url.startswith("sqlite"):
        pytest.skip("stopping a writer at a chosen statement needs a table lock; SQLite only "
                    "locks the whole database")
    client, headers, tenant = world
    rows = 1200   # more than one insert batch (1000)
    queued = start(client, headers, sheet(rows))
    engine = create_engine(database_url)
    try:
        with engine.connect() as blocker, engine.connect() as observer:
            observer.execution_options(isolation_level="AUTOCOMMIT")
            blocker.execute(text("LOCK TABLE record_history IN EXCLUSIVE MODE"))
            log = (tmp_path / "worker.log").open("w+")
            worker = subprocess.Popen([loom(), "worker", "--burst"],
                                      env=worker_env(database_url, redis_url),
                                      stdout=log, stderr=subprocess.STDOUT)
            try:
                deadline = time.monotonic() + 90
                backend = None
                while backend is None:
                    assert worker.poll() is None, (tmp_path / "worker.log").read_text()
                    assert time.monotonic() < deadline, "the job never reached the history insert"
                    time.sleep(0.05)
                    backend = _waiting_history_insert(observer)
                running = status(client, headers, queued["id"])
                assert running["status"] == "running"
                # on PostgreSQL the first chunks' records are sent (in the job's
                # transaction) while later rows are still being checked, so the job may
                # or may not have reported its last chunk yet
                assert running["processed_rows"] in (0, rows)
                horses = _children(worker.pid)
                assert horses, "the worker has no work horse"
                # The worker first, so it cannot see its horse die and report the job failed;
                # then the horse, mid-write: as if the machine had gone down.
                os.kill(worker.pid, signal.SIGKILL)
                worker.wait(timeout=30)
                for horse in horses:
                    os.kill(horse, signal.SIGKILL)
            finally:
                if worker.poll() is None:
                    for horse in _children(worker.pid):
                        os.kill(horse, signal.SIGKILL)
                    worker.kill()
                    worker.wait(timeout=30)
                log.close()
            blocker.rollback()   # the orphaned transaction may go on now: it cannot commit
            deadline = time.monotonic() + 60
            while _alive(observer, backend):
                assert time.monotonic() < deadline, "the killed worker's backend lingers"
                time.sleep(0.05)
            assert observer.execute(text("SELECT count(*) FROM records")).scalar() == 0
            assert observer.execute(text("SELECT count(*) FROM record_history")).scalar() == 0
    finally:
        engine.dispose()
    assert names(client, headers) == []
    stuck = status(client, headers, queued["id"])
    assert stuck["status"] == "running" and stuck["created"] == 0

    # The job's lease runs out (its worker no longer renews it): the sweeper takes it back
    # and hands it over again, and the next worker runs it.
    assert jobs(database_url) == [("import", [tenant.id, queued["id"]], "running")]
    assert sweep_jobs(queued_app, now=utcnow() + LEASE + timedelta(seconds=1)) == 1
    run_worker(database_url, redis_url)
    done = status(client, headers, queued["id"])
    assert done["status"] == "done", done
    assert (done["created"], done["processed_rows"], done["total_rows"]) == (rows, rows, rows)
    listed = client.get(f"{FORM}/records?count=true&limit=1", headers=headers).get_json()
    assert listed["count"] == rows

    # Run once more (a duplicate delivery): a finished import is not written again.
    enqueue(queued_app, "import", tenant.id, queued["id"])
    run_worker(database_url, redis_url)
    again = client.get(f"{FORM}/records?count=true&limit=1", headers=headers).get_json()
    assert again["count"] == rows
    assert status(client, headers, queued["id"])["created"] == rows


# -- the queue loses a job; Redis is down; a worker dies every time -------------------
def test_a_job_redis_lost_is_handed_over_again_by_the_sweeper(queued_app, world,
                                                              database_url,
                                                              redis_url) -> None:
    client, headers, _admin = world
    queued = start(client, headers, sheet(12))
    Redis.from_url(redis_url).flushdb()           # the queue forgets everything
    assert sweep_jobs(queued_app) == 0            # handed over a moment ago: not lost yet
    assert sweep_jobs(queued_app, now=utcnow() + REDISPATCH + timedelta(seconds=1)) >= 1
    run_worker(database_url, redis_url)
    assert status(client, headers, queued["id"])["status"] == "done"
    assert len(names(client, headers)) == 12


def test_with_redis_down_publish_and_import_succeed_and_run_later(
        make_app, make_tenant, database_url, redis_url, monkeypatch) -> None:
    monkeypatch.setattr("crm_platform.services.imports.jobs.SYNC_ROWS", 5)
    down = make_app(redis_url="redis://127.0.0.1:1/0")     # nobody listens there
    tenant = make_tenant("alpha")
    client = down.test_client()
    assert client.post("/api/v1/apps", json={"key": "crm", "name": "CRM"},
                       headers=tenant.headers).status_code == 201
    assert client.post("/api/v1/apps/crm/forms", headers=tenant.headers, json={
        **LEAD, "fields": [{**LEAD["fields"][1], "indexed": True}, *LEAD["fields"][::2]]}
                       ).status_code == 201
    assert client.post(f"{FORM}/publish", json={}, headers=tenant.headers).status_code == 201
    queued = start(client, tenant.headers, sheet(12))
    assert {name for name, _args, state in jobs(database_url, "import")
            + jobs(database_url, "build_indexes")} == {"import", "build_indexes"}
    # Redis is back (another process of the same installation sees it): the sweeper
    # hands both jobs over, and a worker runs them.
    up = make_app(redis_url=redis_url)
    assert sweep_jobs(up, now=utcnow() + REDISPATCH + timedelta(seconds=1)) == 2
    run_worker(database_url, redis_url)
    assert status(client, tenant.headers, queued["id"])["status"] == "done"
    form = client.get(FORM, headers=tenant.headers).get_json()
    assert form["indexes"]["ready"] is True


def test_a_job_whose_worker_dies_every_time_fails_saying_why(queued_app, world,
                                                            database_url) -> None:
    client, headers, _admin = world
    queued = start(client, headers, sheet(12))
    (job_id,) = job_ids(database_url)
    engine = create_engine(database_url)
    try:
        with engine.begin() as connection:   # as a worker leaves it when it dies mid-job,
            connection.execute(text(          # on its last attempt
                "UPDATE jobs SET status = 'running', attempts = :n, lease_until = :t "
                "WHERE id = :id"), {"n": MAX_ATTEMPTS, "t": utcnow(), "id": job_id})
    finally:
        engine.dispose()
    sweep_jobs(queued_app, now=utcnow() + timedelta(seconds=1))
    body = status(client, headers, queued["id"])
    assert body["status"] == "failed" and body["error"]["code"] == "import_job_lost"
    assert "start it again" in body["error"]["message"]
    assert jobs(database_url)[0][2] == "failed"
