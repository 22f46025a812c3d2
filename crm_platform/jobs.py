"""Background jobs (DESIGN §5): on rq when `REDIS_URL` is set — `loom worker` runs them —
otherwise on a small thread pool inside the serving process.

A job is a row (`models.Job`): a name from `HANDLERS` and JSON-simple arguments; the
handler reads everything else from the database, so a job may run anywhere, twice, or
after a restart. The row is written in the transaction that needs the job, and the job is
handed to the queue only after that transaction commits — the queue is a messenger, the
database the record: with Redis down, flushed or a worker killed, nothing is lost.

- **Claimed once**: a worker claims a job with a conditional update; a duplicate delivery
  finds it taken or done and does nothing.
- **Leased**: a running job is leased for `LEASE` and the lease renewed while its handler
  works; a job whose worker died is taken back when the lease runs out.
- **Retried**: a failed attempt is tried again after a back-off; after `MAX_ATTEMPTS` the
  job is `failed`, its reason kept, and the handler's failure hook tells the user (an
  import says why it did not run).
- **Swept**: `sweep_jobs` (every tick of `loom serve` and `loom worker`) hands over again
  the jobs still queued a while after they were handed over (the queue lost them), and
  takes back those whose lease ran out.
"""

from __future__ import annotations

import logging
import threading
import traceback
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime, timedelta
from importlib import import_module
from typing import Any

from flask import Flask
from sqlalchemy import or_, select, update

log = logging.getLogger(__name__)

# name -> "module:function"; each handler takes (app, *args) and runs in an app context
HANDLERS = {
    "import": "crm_platform.services.imports.jobs:run_import_job",
    "build_indexes": "crm_platform.services.forms.indexes:build_indexes_job",
    "refresh_statistics": "crm_platform.services.imports.jobs:refresh_statistics_job",
    "install_template": "crm_platform.services.templates.tasks:install_job",
}
# name -> "module:function" called as (app, reason, *args) when a job has failed for good
FAILURE_HOOKS = {
    "import": "crm_platform.services.imports.jobs:import_job_failed",
    "install_template": "crm_platform.services.templates.tasks:install_job_failed",
}
QUEUE = "default"
MAX_ATTEMPTS = 3
BACKOFF = (timedelta(seconds=5), timedelta(seconds=30), timedelta(minutes=2))
LEASE = timedelta(minutes=10)
REDISPATCH = timedelta(minutes=5)   # still queued this long after the hand-over: lost
_worker_app: Flask | None = None


def _function(spec: str) -> Callable[..., Any]:
    module, _, function = spec.partition(":")
    return getattr(import_module(module), function)  # type: ignore[no-any-return]


def _now() -> datetime:
    from crm_platform.db import utcnow

    return utcnow()


def add_job(session: Any, name: str, *args: Any, tenant_id: int | None = None) -> Any:
    """The job's row, added to `session` (it runs only if the transaction commits)."""
    from crm_platform.models import Job

    if name not in HANDLERS:
        raise ValueError(f"no job handler named {name}")
    job = Job(tenant_id=tenant_id, name=name, args=list(args), status="queued", attempts=0,
              not_before=_now(), dispatched_at=_now())
    session.add(job)
    session.flush()
    return job


def enqueue_after_commit(session: Any, name: str, *args: Any,
                         tenant_id: int | None = None) -> None:
    """The job, written in `session`'s transaction and handed to the queue once that has
    committed (never for one rolled back): a job reads committed rows."""
    from flask import current_app
    from sqlalchemy import event

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    job = add_job(session, name, *args, tenant_id=tenant_id)
    job_id = job.id
    event.listen(session, "after_commit", lambda _session: dispatch(app, job_id), once=True)


def enqueue(app: Flask, name: str, *args: Any, tenant_id: int | None = None) -> int:
    """The job, in a transaction of its own, handed to the queue at once. Its id."""
    from crm_platform.db import database

    with database(app).transaction() as session:
        job_id = add_job(session, name, *args, tenant_id=tenant_id).id
    dispatch(app, job_id)
    return job_id


def dispatch(app: Flask, job_id: int) -> None:
    """Hand a job to the queue (rq) or the in-process pool. Best effort: if Redis cannot
    be reached the job stays queued in the database and the sweeper hands it over later —
    the request that made it has succeeded either way."""
    settings = app.config["LOOM_SETTINGS"]
    if settings.redis_url:
        try:
            from redis import Redis
            from rq import Queue

            queue = Queue(QUEUE, connection=Redis.from_url(settings.redis_url,
                                                            socket_connect_timeout=2))
            queue.enqueue(perform, job_id, job_timeout=int(LEASE.total_seconds() * 6),
                          description=f"loom job {job_id}")
        except Exception:  # Redis down: the sweeper hands it over once it is back
            log.warning("job %s stays queued: the queue is unreachable", job_id,
                        exc_info=True)
        return
    pool: ThreadPoolExecutor = app.extensions.setdefault(
        "loom.jobs", ThreadPoolExecutor(max_workers=2, thread_name_prefix="loom-job"))
    future = pool.submit(_run_in_app, app, job_id)
    futures = app.extensions.setdefault("loom.job_futures", [])
    futures[:] = [f for f in futures if not f.done()] + [future]


def _run_in_app(app: Flask, job_id: int) -> None:
    with app.app_context():
        try:
            run_job(app, job_id)
        except Exception:  # recorded on the job; this is the last resort
            log.exception("job %s failed", job_id)


def _claim(app: Flask, job_id: int, now: datetime) -> tuple[str, list[Any]] | None:
    """Take the job if it is due and nobody holds it; its name and arguments."""
    from crm_platform.db import database
    from crm_platform.models import Job

    with database(app).transaction() as session:
        taken = session.execute(update(Job).where(
            Job.id == job_id, or_(Job.status == "queued", Job.status == "running"),
            or_((Job.status == "queued") & (Job.not_before <= now),
                Job.lease_until < now)).values(
            status="running", attempts=Job.attempts + 1, lease_until=now + LEASE)
            .execution_options(synchronize_session=False)).rowcount
        if taken != 1:
            return None
        job = session.get(Job, job_id)
        return job.name, list(job.args)


def run_job(app: Flask, job_id: int) -> None:
    """Run one job, once: claim, renew the lease while working, record the outcome."""
    from crm_platform.db import database
    from crm_platform.models import Job

    claimed = _claim(app, job_id, _now())
    if claimed is None:
        return  # done, failed, or another worker has it
    name, args = claimed
    working = threading.Event()
    renewer = threading.Thread(target=_renew_lease, args=(app, job_id, working), daemon=True)
    renewer.start()
    try:
        _function(HANDLERS[name])(app, *args)
    except Exception as error:
        working.set()
        renewer.join()
        reason = f"{type(error).__name__}: {error}"[:500]
        log.warning("job %s (%s) failed: %s\n%s", job_id, name, reason,
                    traceback.format_exc())
        _attempt_failed(app, job_id, reason)
        return
    working.set()
    renewer.join()
    with database(app).transaction() as session:
        session.execute(update(Job).where(Job.id == job_id).values(
            status="done", lease_until=None, last_error=None))


def _renew_lease(app: Flask, job_id: int, done: threading.Event) -> None:
    from crm_platform.db import database
    from crm_platform.models import Job

    while not done.wait(LEASE.total_seconds() / 3):
        try:
            with database(app).transaction() as session:
                session.execute(update(Job).where(Job.id == job_id, Job.status == "running")
                                .values(lease_until=_now() + LEASE))
        except Exception:  # the database busy (SQLite: the job's own long write): next time
            log.warning("could not renew the lease of job %s", job_id, exc_info=True)


def _attempt_failed(app: Flask, job_id: int, reason: str) -> None:
    """Another try after a back-off, or — the last attempt spent — failed for good."""
    from crm_platform.db import database
    from crm_platform.models import Job

    with database(app).transaction() as session:
        job = session.get(Job, job_id)
        if job is None:
            return
        job.last_error, job.lease_until = reason, None
        if job.attempts < MAX_ATTEMPTS:
            job.status = "queued"
            job.not_before = _now() + BACKOFF[min(job.attempts, len(BACKOFF)) - 1]
            job.dispatched_at = None  # the sweeper hands it over when it is due
            return
        job.status = "failed"
        name, args = job.name, list(job.args)
    hook = FAILURE_HOOKS.get(name)
    if hook is not None:
        _function(hook)(app, reason, *args)


def sweep_jobs(app: Flask, now: datetime | None = None) -> int:
    """Take back jobs whose worker died (lease run out) and hand over again those the queue
    lost or that are due for another try. Returns how many were handed over."""
    from crm_platform.db import database
    from crm_platform.models import Job

    now = now or _now()
    with database(app).transaction() as session:
        lost = session.scalars(select(Job).where(Job.status == "running",
                                                 Job.lease_until < now)).all()
        for job in lost:
            job.last_error = "the worker running it stopped (its lease ran out)"
            job.status, job.lease_until, job.dispatched_at = "queued", None, None
            job.not_before = min(now, _now())   # due at once (whatever `now` says)
        given_up = [(job.id, job.name, list(job.args)) for job in lost
                    if job.attempts >= MAX_ATTEMPTS]
        for job in lost:
            if job.attempts >= MAX_ATTEMPTS:
                job.status = "failed"
        due = session.scalars(select(Job).where(
            Job.status == "queued", Job.not_before <= now,
            or_(Job.dispatched_at.is_(None), Job.dispatched_at < now - REDISPATCH))
            .order_by(Job.id).limit(200)).all()
        for job in due:
            job.dispatched_at = now
        handed = [job.id for job in due]
    for _job_id, name, args in given_up:
        hook = FAILURE_HOOKS.get(name)
        if hook is not None:
            _function(hook)(app, "the worker running it stopped, every time it was tried",
                            *args)
    for job_id in handed:
        dispatch(app, job_id)
    return len(handed)


def tick(app: Flask) -> None:
    """The periodic work: fire due timers, work date-dependent values out for a new day,
    fire scheduled rules, deliver the outbox, forget import drafts nobody finished (the
    database says what is due)."""
    from crm_platform.services.delivery.outbox import dispatch_due
    from crm_platform.services.flows.schedules import run_scheduled_rules
    from crm_platform.services.flows.timers import fire_due_timers
    from crm_platform.services.imports.wizard import drop_stale_drafts
    from crm_platform.services.records.dated import refresh_dated_forms

    for work in (sweep_jobs, fire_due_timers, refresh_dated_forms, run_scheduled_rules,
                 dispatch_due, drop_stale_drafts):
        try:
            work(app)
        except Exception:  # a bad tick must not stop the ticker; the rows stay due
            log.exception("tick: %s failed", work.__name__)


def start_ticker(app: Flask, interval: float = 15.0) -> threading.Event:
    """A daemon thread that ticks every `interval` seconds (`loom serve` without Redis,
    `loom worker` with it). Set the returned event to stop it."""
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(interval):
            with app.app_context():
                tick(app)

    threading.Thread(target=loop, name="loom-ticker", daemon=True).start()
    return stop


def wait_for_jobs(app: Flask, timeout: float = 60) -> None:
    """Block until the in-process jobs started so far have finished (tests, shutdown)."""
    futures: list[Future[None]] = app.extensions.get("loom.job_futures", [])
    for future in list(futures):
        future.result(timeout=timeout)


def worker_app() -> Flask:
    """The app of a worker process, built once from its environment."""
    global _worker_app
    if _worker_app is None:
        import secrets

        from crm_platform import create_app
        from crm_platform.config import Settings

        settings = Settings.from_env()
        # A worker serves no requests: nothing it could sign is ever checked, so without
        # SECRET_KEY a throwaway one does.
        _worker_app = create_app(Settings.from_env(
            secret_key=settings.secret_key or secrets.token_urlsafe(32)))
    return _worker_app


def perform(job_id: int) -> None:
    """What an rq worker runs: the job, in an app built from the worker's environment."""
    app = worker_app()
    with app.app_context():
        run_job(app, job_id)
