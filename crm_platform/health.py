"""Liveness and readiness probes."""

from __future__ import annotations

from flask import Blueprint, current_app
from sqlalchemy import text

from crm_platform.api.operations import operation
from crm_platform.db import database

health = Blueprint("health", __name__)


@health.get("/healthz")
@operation("Liveness: the process is serving", tags=("Meta",), authenticated=False,
           responses={200: {"type": "object"}})
def healthz():
    """The process is up and serving."""
    return {"status": "ok"}


@health.get("/readyz")
@operation("Readiness: the database (and Redis, when configured) answer", tags=("Meta",),
           authenticated=False, responses={200: {"type": "object"}, 503: {"type": "object"}})
def readyz():
    """The database answers, and Redis too when one is configured."""
    checks: dict[str, str] = {}
    try:
        with database().engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # any failure means "not ready", with the reason
        checks["database"] = f"error: {type(exc).__name__}"
    redis_url = current_app.config["LOOM_SETTINGS"].redis_url
    if redis_url:
        try:
            from redis import Redis

            Redis.from_url(redis_url, socket_connect_timeout=2, socket_timeout=2).ping()
            checks["redis"] = "ok"
        except Exception as exc:
            checks["redis"] = f"error: {type(exc).__name__}"
    ready = all(value == "ok" for value in checks.values())
    return {"status": "ok" if ready else "unavailable", "checks": checks}, 200 if ready else 503
