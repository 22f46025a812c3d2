"""Login throttling: after N failures in a window a key is locked for a while (HTTP 429).

Counters live in the database, so every web worker sees the same numbers, and are written in
a transaction of their own: the failed request itself is rolled back, its count must not be.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from crm_platform.config import Settings
from crm_platform.db import Database, utcnow
from crm_platform.errors import TooManyRequests
from crm_platform.models import LoginThrottle


def throttle_keys(tenant_slug: str, email: str, client: str | None) -> list[str]:
    """One key per account, one per client address (a wider net for password spraying)."""
    keys = [f"account:{tenant_slug.lower()}:{email.lower()}"]
    if client:
        keys.append(f"client:{client}")
    return keys


class LoginThrottler:
    # A client address may fail this many times more than one account before it is locked.
    CLIENT_FACTOR = 4

    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings

    def _limit(self, key: str) -> int:
        factor = self.CLIENT_FACTOR if key.startswith("client:") else 1
        return self.settings.login_max_failures * factor

    def check(self, keys: list[str], now: datetime | None = None) -> None:
        """Raise 429 with Retry-After when any key is locked."""
        now = now or utcnow()
        with self.db.transaction() as session:
            for key in keys:
                row = session.get(LoginThrottle, key)
                if row is not None and row.locked_until is not None and row.locked_until > now:
                    seconds = math.ceil((row.locked_until - now).total_seconds())
                    raise TooManyRequests(max(seconds, 1), code="login_throttled")

    def record_failure(self, keys: list[str], now: datetime | None = None) -> None:
        now = now or utcnow()
        window = timedelta(seconds=self.settings.login_window_seconds)
        with self.db.transaction() as session:
            for key in keys:
                # Concurrent first failures must not race to insert the same key.
                insert = pg_insert if session.get_bind().dialect.name == "postgresql" else (
                    sqlite_insert)
                session.execute(insert(LoginThrottle).values(
                    key=key, failures=0, window_started_at=now).on_conflict_do_nothing())
                row = session.get(LoginThrottle, key, with_for_update=True,
                                  populate_existing=True)
                assert row is not None
                if now - row.window_started_at > window:
                    row.failures, row.window_started_at, row.locked_until = 0, now, None
                row.failures += 1
                if row.failures >= self._limit(key):
                    row.locked_until = now + timedelta(
                        seconds=self.settings.login_lockout_seconds
                    )
                    row.failures, row.window_started_at = 0, now

    def record_success(self, keys: list[str]) -> None:
        """A good password clears the account's counter (not the client's)."""
        with self.db.transaction() as session:
            for key in keys:
                if key.startswith("account:"):
                    row = session.get(LoginThrottle, key)
                    if row is not None:
                        session.delete(row)
