"""Delivering the outbox: effects that leave the transaction, written with the change that
caused them (DESIGN §5, "nothing lost").

`dispatch_due(app)` claims entries that are due — a lease: `sending` until a deadline, so
a worker that dies mid-delivery leaves the entry to be retried, never lost — delivers each
outside any transaction, then records the outcome: `done`, or another attempt later with
backoff (30 s, 2 min, 10 min, 1 h, then every 6 h), or `failed` after `MAX_ATTEMPTS`,
visible to administrators, who may retry it.

Webhooks are POSTed as JSON with `X-Loom-Delivery` (the entry's id: the same on every
retry, so a receiver can drop duplicates) and `X-Loom-Signature: sha256=<hex>`, an HMAC
of the body with the tenant's webhook key (derived from SECRET_KEY; shown to tenant
administrators). Kinds this version cannot deliver yet fail at once, saying so.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
import socket
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime, timedelta
from typing import Any

from flask import Flask
from sqlalchemy import Select, or_, select

from crm_platform.db import database, dump_json, for_claiming, utcnow
from crm_platform.errors import Conflict, NotFound
from crm_platform.models import OutboxEntry
from crm_platform.scoping import TenantScope

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 8
BACKOFF = (timedelta(seconds=30), timedelta(minutes=2), timedelta(minutes=10),
           timedelta(hours=1), timedelta(hours=6))
LEASE = timedelta(minutes=5)
TIMEOUT_SECONDS = 10


def webhook_key(app: Flask, tenant_id: int) -> bytes:
    """The tenant's webhook signing key (stable for as long as SECRET_KEY is)."""
    secret = str(app.config["SECRET_KEY"]).encode()
    return hmac.new(secret, f"loom-webhook:{tenant_id}".encode(), hashlib.sha256).digest()


def signature(key: bytes, body: bytes) -> str:
    return "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()


def _claim(app: Flask, now: datetime) -> tuple[int, int, str, dict[str, Any]] | None:
    with database(app).transaction() as session:
        entry = session.scalars(for_claiming(session, select(OutboxEntry).where(
            or_(OutboxEntry.status == "pending", OutboxEntry.status == "sending"),
            OutboxEntry.next_attempt_at <= now).order_by(OutboxEntry.next_attempt_at,
                                                         OutboxEntry.id).limit(1))).first()
        if entry is None:
            return None
        entry.status, entry.next_attempt_at = "sending", now + LEASE
        entry.attempts += 1
        return entry.id, entry.tenant_id, entry.kind, dict(entry.payload)


def _deliver(app: Flask, entry_id: int, tenant_id: int, kind: str,
             payload: dict[str, Any]) -> None:
    """Raises on failure (the message is recorded)."""
    if kind == "send_email":
        _send_email(app, payload)
        return
    if kind != "webhook":
        raise ValueError(f"{kind} effects are not delivered by this version yet")
    if not app.config["LOOM_SETTINGS"].webhook_allow_private:
        _refuse_private(payload["url"])
    body = dump_json({key: value for key, value in payload.items() if key != "url"}).encode()
    request = urllib.request.Request(payload["url"], data=body, method="POST", headers={
        "Content-Type": "application/json", "User-Agent": "Loom-Webhook/1",
        "X-Loom-Delivery": str(entry_id),
        "X-Loom-Signature": signature(webhook_key(app, tenant_id), body)})
    with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
        if not 200 <= response.status < 300:
            raise urllib.error.HTTPError(payload["url"], response.status, "not 2xx",
                                         response.headers, None)


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


def _refuse_private(url: str) -> None:
    """A tenant's webhook may not reach the servers Loom runs among (SSRF): loopback,
    private, link-local and reserved addresses are refused (LOOM_WEBHOOK_ALLOW_PRIVATE
    allows them, for an installation inside one company's network)."""
    host = urllib.parse.urlsplit(url).hostname or ""
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except OSError as exc:
        raise urllib.error.URLError(f"cannot resolve {host}") from exc
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%")[0])
        if ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_reserved or (
                ip.is_multicast or ip.is_unspecified):
            raise ValueError(f"webhooks to {host} ({ip}) are not allowed")


def _record(app: Flask, entry_id: int, error: str | None, now: datetime) -> None:
    with database(app).transaction() as session:
        entry = session.get(OutboxEntry, entry_id)
        if entry is None:
            return
        if error is None:
            entry.status, entry.last_error = "done", None
        elif entry.attempts >= MAX_ATTEMPTS or error.startswith("unsupported:"):
            entry.status, entry.last_error = "failed", error[:500]
        else:
            entry.status, entry.last_error = "pending", error[:500]
            entry.next_attempt_at = now + BACKOFF[min(entry.attempts - 1, len(BACKOFF) - 1)]


def dispatch_due(app: Flask, now: datetime | None = None, limit: int = 50) -> int:
    """Deliver up to `limit` due entries; returns how many were attempted."""
    now = now or utcnow()
    attempted = 0
    for _ in range(limit):
        claimed = _claim(app, now)
        if claimed is None:
            break
        entry_id, tenant_id, kind, payload = claimed
        try:
            _deliver(app, entry_id, tenant_id, kind, payload)
            error = None
        except ValueError as exc:
            error = f"unsupported: {exc}"
        except (OSError, urllib.error.URLError) as exc:  # down, refused, timed out, not 2xx
            error = f"{type(exc).__name__}: {exc}"
        _record(app, entry_id, error, now)
        attempted += 1
    return attempted


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

