"""Login throttling: after N failed sign-ins in a window a key is locked (HTTP 429).

An attempt is *claimed* before the password is checked, with one atomic
`UPDATE … SET failures = failures + 1 … RETURNING`, so concurrent guesses cannot all slip
through between a check and a write. A correct password then gives the claim back (the
account's counter is cleared, the client's decremented). Counters live in the database, so
every web worker sees the same numbers; keys are hashed, so any input fits the column.
"""

from __future__ import annotations

import hashlib
import math
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from crm_platform.config import Settings
from crm_platform.db import Database, utcnow
from crm_platform.errors import TooManyRequests
from crm_platform.models import LoginThrottle


def _hashed(kind: str, value: str) -> str:
    return f"{kind}:{hashlib.sha256(value.encode('utf-8', 'replace')).hexdigest()}"


def throttle_keys(tenant_slug: str, email: str, client: str | None) -> list[str]:
    """One key per account, one per client address (a wider net for password spraying)."""
    keys = [_hashed("account", f"{tenant_slug}\n{email}")]
    if client:
        keys.append(_hashed("client", client))
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

    def claim(self, keys: list[str], now: datetime | None = None) -> None:
        """Count one attempt for every key; 429 with Retry-After when any is locked."""
        now = now or utcnow()
        cutoff = now - timedelta(seconds=self.settings.login_window_seconds)
        lockout = timedelta(seconds=self.settings.login_lockout_seconds)
        locked_until: datetime | None = None
        counted: list[str] = []
        with self.db.transaction() as session:
            insert = pg_insert if session.get_bind().dialect.name == "postgresql" else (
                sqlite_insert)
            for key in keys:
                session.execute(insert(LoginThrottle).values(
                    key=key, failures=0, window_started_at=now).on_conflict_do_nothing())
                expired = LoginThrottle.window_started_at < cutoff
                failures = session.scalar(
                    update(LoginThrottle)
                    .where(LoginThrottle.key == key,
                           (LoginThrottle.locked_until.is_(None))
                           | (LoginThrottle.locked_until <= now))
                    .values(failures=case((expired, 1), else_=LoginThrottle.failures + 1),
                            window_started_at=case((expired, now),
                                                   else_=LoginThrottle.window_started_at),
                            locked_until=None)
                    .returning(LoginThrottle.failures))
                if failures is None:  # locked already
                    until = session.scalar(select(LoginThrottle.locked_until)
                                           .where(LoginThrottle.key == key))
                    locked_until = max(filter(None, (locked_until, until)), default=now)
                elif failures > self._limit(key):
                    until = now + lockout
                    session.execute(update(LoginThrottle).where(LoginThrottle.key == key)
                                    .values(locked_until=until, failures=0,
                                            window_started_at=now))
                    locked_until = max(filter(None, (locked_until, until)))
                else:
                    counted.append(key)
            if locked_until is not None:
                # A refused attempt checks no password: it must not count against other keys.
                self._give_back(session, counted)
        if locked_until is not None:
            seconds = math.ceil((locked_until - now).total_seconds())
            raise TooManyRequests(max(seconds, 1), code="login_throttled")

    @staticmethod
    def _give_back(session: Any, keys: list[str]) -> None:
        session.execute(update(LoginThrottle)
                        .where(LoginThrottle.key.in_(keys), LoginThrottle.failures > 0)
                        .values(failures=LoginThrottle.failures - 1))

    def succeeded(self, keys: list[str]) -> None:
        """A correct password: clear the account's count, give the client its attempt back."""
        with self.db.transaction() as session:
            accounts = [key for key in keys if key.startswith("account:")]
            session.execute(delete(LoginThrottle).where(LoginThrottle.key.in_(accounts)))
            self._give_back(session, [key for key in keys if key not in accounts])
