"""Where the test suite finds PostgreSQL and Redis, and what happens when they are missing.

Locally a missing service skips its tests with the reason; under CI (`CI=true`) or with
`LOOM_REQUIRE_SERVICES=1` it fails them, so CI can never pass by skipping.
"""

from __future__ import annotations

import os

import pytest

POSTGRES_URL = os.environ.get(
    "LOOM_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("LOOM_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def services_required() -> bool:
    return (os.environ.get("CI", "").lower() == "true"
            or os.environ.get("LOOM_REQUIRE_SERVICES") == "1")


def unavailable(what: str, url: str, error: Exception) -> None:
    message = f"{what} is not reachable at {url} ({type(error).__name__}: {error})"
    if services_required():
        pytest.fail(message + "; CI requires it (start it as .ci/run does)", pytrace=False)
    pytest.skip(message + "; set LOOM_TEST_POSTGRES_URL / LOOM_TEST_REDIS_URL or start it")


def redis_url_or_skip() -> str:
    from redis import Redis

    try:
        Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except Exception as exc:
        unavailable("Redis", REDIS_URL, exc)
    return REDIS_URL
