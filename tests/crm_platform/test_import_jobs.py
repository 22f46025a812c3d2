"""Large imports as jobs on a real Redis, run by a real rq worker process (`loom worker
--burst`): queued by the request, done by the worker, written exactly once — even when the
worker is killed in the middle of writing and the job runs again."""

from __future__ import annotations

import io
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from redis import Redis
from rq import Queue
from rq.registry import ScheduledJobRegistry, StartedJobRegistry
from sqlalchemy import create_engine, text

from crm_platform.jobs import QUEUE, enqueue
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
    monkeypatch.setattr("crm_platform.services.imports.SYNC_ROWS", 5)
    return make_app(redis_url=redis_url)


@pytest.fixture
def world(queued_app, make_tenant) -> tuple[Any, dict[str, str], int]:
    """A test client, tenant A's administrator headers and id, and the published lead form."""
    tenant = make_tenant("alpha")
    client = queued_app.test_client()
    headers = tenant.headers
    assert client.post("/api/v1/apps", json={"key": "crm", "name": "CRM"},
                       headers=headers).status_code == 201
    assert client.post("/api/v1/apps/crm/forms", json=LEAD, headers=headers).status_code == 201
    assert client.post(f"{FORM}/publish", json={}, headers=headers).status_code == 201
    return client, headers, tenant.admin_id


def worker_env(database_url: str, redis_url: str) -> dict[str, str]:
    return {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_url,
            "SECRET_KEY": "x"}


def run_worker(database_url: str, redis_url: str) -> str:
    result = subprocess.run([loom(), "worker", "--burst"],
                            env=worker_env(database_url, redis_url), capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout + result.stderr


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
    client, headers, _admin = world
    queued = start(client, headers, sheet(12))
    # On rq, not in this process: nothing happens until a worker takes it.
    waiting = Queue(QUEUE, connection=Redis.from_url(redis_url)).jobs
    assert [job.args for job in waiting if job.args[:1] == ("import",)] == [
        ("import", queued["id"])]
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
    client, headers, admin = world
    assert client.patch(f"/api/v1/admin/users/{admin}", json={"locale": "zh"},
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
    client, headers, _admin = world
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

    # rq finds the abandoned job (its time is up) and retries it: the job runs again.
    connection = Redis.from_url(redis_url)
    StartedJobRegistry(QUEUE, connection=connection).cleanup(timestamp=time.time() + 10**6)
    scheduled = ScheduledJobRegistry(QUEUE, connection=connection)
    (job_id,) = scheduled.get_job_ids()
    while scheduled.get_scheduled_time(job_id).timestamp() > time.time():
        time.sleep(0.2)
    run_worker(database_url, redis_url)
    done = status(client, headers, queued["id"])
    assert done["status"] == "done", done
    assert (done["created"], done["processed_rows"], done["total_rows"]) == (rows, rows, rows)
    listed = client.get(f"{FORM}/records?count=true&limit=1", headers=headers).get_json()
    assert listed["count"] == rows

    # Run once more (a duplicate delivery): a finished import is not written again.
    enqueue(queued_app, "import", queued["id"])
    run_worker(database_url, redis_url)
    again = client.get(f"{FORM}/records?count=true&limit=1", headers=headers).get_json()
    assert again["count"] == rows
    assert status(client, headers, queued["id"])["created"] == rows
