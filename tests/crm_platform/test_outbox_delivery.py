"""Delivering the outbox to real local endpoints: a slow tenant's endpoint delays only its
own webhooks; a redirect is never followed; the address connected to is the one checked."""

from __future__ import annotations

import http.server
import socket
import threading
import time
from dataclasses import replace

import pytest

from crm_platform.db import utcnow
from crm_platform.models import OutboxEntry
from crm_platform.services.delivery import outbox, webhooks
from crm_platform.services.delivery.outbox import dispatch_due


class Endpoint:
    """A local HTTP receiver that answers each POST after `delay` seconds with `status`
    (and a `Location` when it redirects), noting when each arrived."""

    def __init__(self, delay: float = 0.0, status: int = 204, location: str = "") -> None:
        arrived = self.arrived = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers["Content-Length"]))
                arrived.append((time.monotonic(), self.path, self.headers["Host"]))
                time.sleep(delay)
                self.send_response(status)
                if location:
                    self.send_header("Location", location)
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def private_ok(app):
    app.config["LOOM_SETTINGS"] = replace(app.config["LOOM_SETTINGS"],
                                          webhook_allow_private=True)
    return app


def queue(db, tenant_id: int, url: str, count: int = 1) -> None:
    with db.transaction() as session:
        for number in range(count):
            session.add(OutboxEntry(tenant_id=tenant_id, kind="webhook", status="pending",
                                    attempts=0, next_attempt_at=utcnow(),
                                    payload={"url": url, "n": number}))


def statuses(db) -> list[str]:
    with db.transaction() as session:
        return sorted(entry.status for entry in session.query(OutboxEntry))


def test_a_slow_tenant_delays_only_its_own_webhooks(private_ok, db, tenant_a,
                                                    tenant_b) -> None:
    slow, fast = Endpoint(delay=1.5), Endpoint()
    try:
        queue(db, tenant_b.id, slow.url(), count=4)        # B's endpoint takes 1.5 s each
        started = time.monotonic()
        worker = threading.Thread(target=dispatch_due, args=(private_ok,))
        worker.start()
        time.sleep(0.3)
        queue(db, tenant_a.id, fast.url())                  # A's, queued while B's wait
        worker.join(timeout=30)
    finally:
        slow.stop()
        fast.stop()
    (a_arrived, _path, _host), = fast.arrived
    assert a_arrived - started < 1.2                        # not behind B's 6 s of waiting
    assert len(slow.arrived) == 4
    # never more than PER_ENDPOINT of B's at once: the third came after the first finished
    first, second, third, _fourth = sorted(t for t, _p, _h in slow.arrived)
    assert third - first >= 1.4 and second - first < 0.5
    assert statuses(db) == ["done"] * 5


def test_due_entries_are_taken_round_robin_across_tenants(private_ok, db, tenant_a,
                                                          tenant_b, monkeypatch) -> None:
    receiver = Endpoint()
    monkeypatch.setattr(outbox, "WORKERS", 1)               # one at a time: the order shows
    try:
        queue(db, tenant_b.id, receiver.url("/b"), count=3)
        queue(db, tenant_a.id, receiver.url("/a"), count=2)
        assert dispatch_due(private_ok) == 5
    finally:
        receiver.stop()
    assert [path for _t, path, _h in receiver.arrived] == ["/b", "/a", "/b", "/a", "/b"]


def test_a_redirect_is_never_followed(private_ok, db, tenant_a) -> None:
    target = Endpoint()
    bouncer = Endpoint(status=302, location=target.url("/internal"))
    try:
        queue(db, tenant_a.id, bouncer.url())
        assert dispatch_due(private_ok) == 1
    finally:
        bouncer.stop()
        target.stop()
    assert target.arrived == []
    with db.transaction() as session:
        entry = session.query(OutboxEntry).one()
        assert entry.status == "pending" and "redirects are not followed" in entry.last_error


def test_the_connection_goes_to_the_address_that_was_checked(monkeypatch) -> None:
    """A name that resolves to a public address at the check and to loopback a moment
    later (DNS rebinding) is refused at the check, or reached at the checked address."""
    answers = iter(["93.184.216.34", "127.0.0.1"])
    resolved: list[str] = []

    def getaddrinfo(host, port, *args, **kwargs):
        address = next(answers)
        resolved.append(address)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    connected: list[tuple[str, int]] = []

    def create_connection(address, timeout=None, *args, **kwargs):
        connected.append(address)
        raise ConnectionRefusedError("test: no network")

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket, "create_connection", create_connection)
    with pytest.raises(webhooks.WebhookFailed):
        webhooks.post("http://rebind.example/hook", b"{}", {}, allow_private=False,
                      timeout=1)
    assert resolved == ["93.184.216.34"] and connected == [("93.184.216.34", 80)]


@pytest.mark.parametrize("address", ["127.0.0.1", "10.1.2.3", "169.254.169.254", "::1",
                                     "100.100.100.200", "192.0.2.1"])
def test_private_addresses_are_refused(monkeypatch, address) -> None:
    monkeypatch.setattr(socket, "getaddrinfo", lambda host, port, *a, **k: [
        (socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))])
    with pytest.raises(webhooks.WebhookRefused):
        webhooks.post("http://inside.example/hook", b"{}", {}, allow_private=False, timeout=1)
