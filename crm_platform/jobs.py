"""Background jobs (DESIGN §5): on rq when `REDIS_URL` is set — `loom worker` runs them —
otherwise on a small thread pool inside the serving process.

A job is a name from `HANDLERS` and JSON-simple arguments; the handler reads everything
else from the database, so a job may run anywhere, twice, or after a restart. Enqueue only
what is committed: the job may start before the caller's transaction would have.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from importlib import import_module
from typing import Any

from flask import Flask

log = logging.getLogger(__name__)

# name -> "module:function"; each handler takes (app, *args) and runs in an app context
HANDLERS = {
    "import": "crm_platform.services.imports:run_import_job",
    "build_indexes": "crm_platform.services.forms:build_indexes_job",
    "refresh_statistics": "crm_platform.services.imports:refresh_statistics_job",
}
QUEUE = "default"
_worker_app: Flask | None = None


def _handler(name: str) -> Callable[..., Any]:
    module, _, function = HANDLERS[name].partition(":")
    return getattr(import_module(module), function)  # type: ignore[no-any-return]


def enqueue(app: Flask, name: str, *args: Any) -> None:
    settings = app.config["LOOM_SETTINGS"]
    if settings.redis_url:
        from redis import Redis
        from rq import Queue, Retry

        queue = Queue(QUEUE, connection=Redis.from_url(settings.redis_url))
        queue.enqueue(perform, name, *args, retry=Retry(max=3, interval=[5, 30, 120]),
                      job_timeout=3600, description=f"{name} {args}")
        return
    pool: ThreadPoolExecutor = app.extensions.setdefault(
        "loom.jobs", ThreadPoolExecutor(max_workers=2, thread_name_prefix="loom-job"))
    future = pool.submit(_run_in_app, app, name, args)
    futures = app.extensions.setdefault("loom.job_futures", [])
    futures[:] = [f for f in futures if not f.done()] + [future]


def enqueue_after_commit(session: Any, name: str, *args: Any) -> None:
    """Enqueue the job once `session`'s transaction has committed (never for one rolled
    back): a job reads committed rows, and may start at once."""
    from flask import current_app
    from sqlalchemy import event

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    event.listen(session, "after_commit", lambda _session: enqueue(app, name, *args),
                 once=True)


def _run_in_app(app: Flask, name: str, args: tuple[Any, ...]) -> None:
    with app.app_context():
        try:
            _handler(name)(app, *args)
        except Exception:  # the handler records its own failure; this is the last resort
            log.exception("job %s%r failed", name, args)


def tick(app: Flask) -> None:
    """The periodic work: fire due timers and scheduled rules, deliver the outbox (the
    database says what is due)."""
    from crm_platform.services.outbox import dispatch_due
    from crm_platform.services.schedules import run_scheduled_rules
    from crm_platform.services.timers import fire_due_timers

    for work in (fire_due_timers, run_scheduled_rules, dispatch_due):
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


def perform(name: str, *args: Any) -> None:
    """What an rq worker runs: the handler, in an app built from the worker's environment."""
    app = worker_app()
    with app.app_context():
        _handler(name)(app, *args)
