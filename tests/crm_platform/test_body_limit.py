"""A body sent without Content-Length (chunked) is measured like any other, on the servers
Loom runs under — `loom serve` (Werkzeug) and gunicorn: past the limit it is refused whole
with 413, never cut at the limit and taken."""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import pytest
from werkzeug.serving import make_server

LIMIT = 4096


def chunked_post(port: int, path: str, body: bytes, token: str) -> tuple[int, dict]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    pieces = (body[i:i + 1000] for i in range(0, len(body), 1000))
    try:
        connection.request("POST", path, body=pieces, encode_chunked=True, headers={
            "Content-Type": "application/json", "Authorization": f"Bearer {token}",
            "Transfer-Encoding": "chunked"})
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"{}")
    finally:
        connection.close()


def department(size: int) -> bytes:
    """A department padded with spaces to `size` bytes: cut anywhere, it still parses."""
    body = json.dumps({"name": "Sales"}).encode()
    return body + b" " * (size - len(body))


@pytest.fixture
def werkzeug_port(make_app) -> Iterator[int]:
    server = make_server("127.0.0.1", 0, make_app(max_body_bytes=LIMIT), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_port
    server.shutdown()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def gunicorn_port(database_url, make_app) -> Iterator[int]:
    make_app()  # the test database is emptied after the test, as for any app
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": "test-secret",
           "LOOM_MAX_BODY_BYTES": str(LIMIT)}
    process = subprocess.Popen([sys.executable, "-m", "gunicorn", "--workers", "1",
                                "--bind", f"127.0.0.1:{port}", "crm_platform.wsgi:app"],
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.mark.parametrize("server", ["werkzeug_port", "gunicorn_port"])
def test_a_chunked_body_past_the_limit_is_refused_whole(request, tenant_a, server) -> None:
    port = request.getfixturevalue(server)
    status, body = chunked_post(port, "/api/v1/admin/departments", department(LIMIT + 500),
                                tenant_a.token)
    assert status == 413 and body["error"]["code"] == "payload_too_large"
    status, body = chunked_post(port, "/api/v1/admin/departments", department(LIMIT - 100),
                                tenant_a.token)
    assert status == 201, body
    listing = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    listing.request("GET", "/api/v1/admin/departments",
                    headers={"Authorization": f"Bearer {tenant_a.token}"})
    names = [item["name"] for item in json.loads(listing.getresponse().read())["items"]]
    assert names == ["Sales"]                                # only the one within the limit
