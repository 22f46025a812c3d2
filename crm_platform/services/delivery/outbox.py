"""Delivering the outbox: effects that leave the transaction, written with the change that
caused them (DESIGN §5, "nothing lost").

`dispatch_due(app)` claims entries that are due — a lease: `sending` until a deadline, so
a worker that dies mid-delivery leaves the entry to be retried, never lost — delivers them
outside any transaction, then records each outcome: `done`, or another attempt later with
backoff (30 s, 2 min, 10 min, 1 h, then every 6 h), or `failed` after `MAX_ATTEMPTS`,
visible to administrators, who may retry it.

One tenant's slow or dead endpoint delays only its own deliveries. Entries are delivered
by up to `WORKERS` threads at once; due entries are taken round robin across tenants (each
tenant's oldest first, then each tenant's second …); and no endpoint (scheme, host, port)
has more than `PER_ENDPOINT` deliveries in flight in one dispatcher, the rest waiting their
turn while other endpoints go ahead. A dispatcher keeps claiming as threads free up, so an
entry that falls due while a slow endpoint is being waited on goes out at once.

Webhooks are POSTed as JSON with `X-Loom-Delivery` (the entry's id: the same on every
retry, so a receiver can drop duplicates) and `X-Loom-Signature: sha256=<hex>`, an HMAC
of the body with the tenant's webhook key (derived from SECRET_KEY; shown to tenant
administrators), to the address that was checked, never following a redirect
(`webhooks`). Kinds this version cannot deliver yet fail at once, saying so.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import urllib.parse
from collections import Counter
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import Flask
from sqlalchemy import Select, func, select

from crm_platform.db import database, dump_json, utcnow
from crm_platform.errors import Conflict, NotFound
from crm_platform.models import OutboxEntry
from crm_platform.scoping import TenantScope
from crm_platform.services.delivery import webhooks

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 8
BACKOFF = (timedelta(seconds=30), timedelta(minutes=2), timedelta(minutes=10),
           timedelta(hours=1), timedelta(hours=6))
LEASE = timedelta(minutes=5)
TIMEOUT_SECONDS = 10
WORKERS = 8          # deliveries in flight at once, per dispatcher
PER_ENDPOINT = 2     # of which to one endpoint
_POLL_SECONDS = 0.2  # how often a busy dispatcher looks for newly due entries
_DUE = ("pending", "sending")


def webhook_key(app: Flask, tenant_id: int) -> bytes:
    """The tenant's webhook signing key (stable for as long as SECRET_KEY is)."""
    secret = str(app.config["SECRET_KEY"]).encode()
    return hmac.new(secret, f"loom-webhook:{tenant_id}".encode(), hashlib.sha256).digest()


def signature(key: bytes, body: bytes) -> str:
    return "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class _Claimed:
    id: int
    tenant_id: int
    kind: str
    payload: dict[str, Any]

    @property
    def endpoint(self) -> str:
        if self.kind == "webhook":
            return webhooks.endpoint(str(self.payload.get("url", "")))
        return self.kind   # e-mail: the one SMTP server


def _claim(app: Flask, now: datetime, room: int, busy: Counter[str],
           served: Counter[int]) -> list[_Claimed]:
    """Up to `room` due entries, round robin across tenants (counting those this
    dispatcher has `served` already), none to an endpoint that already has
    `PER_ENDPOINT` in flight. Each is claimed by a conditional update (one row, or another
    dispatcher took it first), so no entry is delivered twice at once."""
    turn = func.row_number().over(partition_by=OutboxEntry.tenant_id, order_by=(
        OutboxEntry.next_attempt_at, OutboxEntry.id)).label("turn")
    due = select(OutboxEntry.id, OutboxEntry.tenant_id, OutboxEntry.kind,
                 OutboxEntry.payload, turn).where(
        OutboxEntry.status.in_(_DUE), OutboxEntry.next_attempt_at <= now).subquery()
    window = room * (PER_ENDPOINT + 1) + sum(busy.values()) + 20
    claimed: list[_Claimed] = []
    taken = Counter(busy)
    with database(app).transaction() as session:
        rows = session.execute(select(due.c.id, due.c.tenant_id, due.c.kind, due.c.payload,
                                      due.c.turn).order_by(due.c.turn, due.c.id)
                               .limit(window)).all()
        rows.sort(key=lambda row: (row.turn + served[row.tenant_id], row.turn, row.id))
        for row in rows:
            entry = _Claimed(row.id, row.tenant_id, row.kind, dict(row.payload))
            if taken[entry.endpoint] >= PER_ENDPOINT:
                continue    # its endpoint is busy: later, while others go ahead
            won = session.execute(TenantScope(session, entry.tenant_id).update(
                OutboxEntry, OutboxEntry.id == entry.id, OutboxEntry.status.in_(_DUE),
                OutboxEntry.next_attempt_at <= now).values(
                status="sending", next_attempt_at=now + LEASE,
                attempts=OutboxEntry.attempts + 1)).rowcount
            if won == 1:
                claimed.append(entry)
                taken[entry.endpoint] += 1
                served[entry.tenant_id] += 1
                if len(claimed) == room:
                    break
    return claimed


def _deliver(app: Flask, entry: _Claimed) -> None:
    """Raises on failure (the message is recorded)."""
    if entry.kind == "send_email":
        _send_email(app, entry.payload)
        return
    if entry.kind != "webhook":
        raise ValueError(f"{entry.kind} effects are not delivered by this version yet")
    payload = entry.payload
    body = dump_json({key: value for key, value in payload.items() if key != "url"}).encode()
    webhooks.post(str(payload["url"]), body, {
        "Content-Type": "application/json", "User-Agent": "Loom-Webhook/1",
        "X-Loom-Delivery": str(entry.id),
        "X-Loom-Signature": signature(webhook_key(app, entry.tenant_id), body)},
        allow_private=app.config["LOOM_SETTINGS"].webhook_allow_private,
        timeout=TIMEOUT_SECONDS)


def _send_email(app: Flask, payload: dict[str, Any]) -> None:
    """One message to the entry's recipients over LOOM_SMTP_URL."""
    import smtplib
    from email.message import EmailMessage

    settings = app.config["LOOM_SETTINGS"]
    if not settings.smtp_url:
        raise ValueError("no SMTP server is configured (LOOM_SMTP_URL)")
    target = urllib.parse.urlsplit(settings.smtp_url)
    message = EmailMessage()
    message["From"], message["To"] = settings.mail_from, ", ".join(payload["to"])
    message["Subject"] = payload["subject"]
    message.set_content(payload["body"])
    client = smtplib.SMTP_SSL if target.scheme == "smtps" else smtplib.SMTP
    with client(target.hostname or "localhost", target.port or 25,
                timeout=TIMEOUT_SECONDS) as smtp:
        if target.username:
            smtp.login(urllib.parse.unquote(target.username),
                       urllib.parse.unquote(target.password or ""))
        smtp.send_message(message)


def _record(app: Flask, key: tuple[int, int], error: str | None, now: datetime) -> None:
    with database(app).transaction() as session:
        entry = session.get(OutboxEntry, key)
        if entry is None:
            return
        if error is None:
            entry.status, entry.last_error = "done", None
        elif entry.attempts >= MAX_ATTEMPTS or error.startswith("unsupported:"):
            entry.status, entry.last_error = "failed", error[:500]
        else:
            entry.status, entry.last_error = "pending", error[:500]
            entry.next_attempt_at = now + BACKOFF[min(entry.attempts - 1, len(BACKOFF) - 1)]


def _attempt(app: Flask, entry: _Claimed, now: datetime) -> None:
    """One delivery and its outcome (run on a dispatcher thread)."""
    try:
        _deliver(app, entry)
        error = None
    except ValueError as exc:   # includes webhooks.WebhookRefused: retrying cannot help
        error = f"unsupported: {exc}"
    except OSError as exc:      # down, refused, timed out, not 2xx, a redirect
        error = f"{type(exc).__name__}: {exc}"
    except Exception as exc:    # a bug must not leave the entry leased with no word
        log.exception("outbox entry %s", entry.id)
        error = f"{type(exc).__name__}: {exc}"
    _record(app, (entry.tenant_id, entry.id), error, now)


def dispatch_due(app: Flask, now: datetime | None = None, limit: int = 50) -> int:
    """Deliver up to `limit` due entries, `WORKERS` at a time, fairly (see the module);
    returns how many were attempted once all of them have finished."""
    attempted = 0
    running: dict[Future[None], str] = {}
    busy: Counter[str] = Counter()
    served: Counter[int] = Counter()
    with ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="loom-outbox") as pool:
        while True:
            moment = now or utcnow()
            room = min(WORKERS - len(running), limit - attempted)
            for entry in _claim(app, moment, room, busy, served) if room > 0 else ():
                running[pool.submit(_attempt, app, entry, moment)] = entry.endpoint
                busy[entry.endpoint] += 1
                attempted += 1
            if not running:
                return attempted
            finished, _ = wait(running, timeout=_POLL_SECONDS, return_when=FIRST_COMPLETED)
            for future in finished:
                busy[running.pop(future)] -= 1


# -- administration ----------------------------------------------------------------------
def outbox_query(scope: TenantScope, status: str | None) -> Select[tuple[OutboxEntry]]:
    statement = scope.select(OutboxEntry)
    return statement.where(OutboxEntry.status == status) if status else statement


def retry(scope: TenantScope, entry_id: int) -> OutboxEntry:
    """Send a failed entry again (from the next tick on), with a fresh count of attempts."""
    entry = scope.find(OutboxEntry, entry_id)
    if entry is None:
        raise NotFound("resource_not_found", resource="outbox entry", id=entry_id)
    if entry.status != "failed":
        raise Conflict("outbox_not_failed", status=entry.status)
    entry.status, entry.attempts, entry.next_attempt_at = "pending", 0, utcnow()
    return entry

