"""Posting one webhook to a tenant's endpoint — to the address that was checked.

A tenant may not make Loom reach the servers it runs among (SSRF). The host is resolved
once; every address it resolves to must be public (loopback, private, link-local,
reserved, multicast and unspecified addresses are refused unless
`LOOM_WEBHOOK_ALLOW_PRIVATE`); and the connection is made to that very address, with the
host name kept for the `Host` header and TLS (SNI and certificate). So a DNS answer that
changes between the check and the connection ("DNS rebinding") cannot move the request
elsewhere. Redirects are never followed: a 3xx is a failed delivery, saying where it
pointed, because following it would reach an address nobody checked.
"""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import socket
import ssl
import threading
import urllib.parse
from typing import Any


class WebhookRefused(ValueError):
    """The URL may not be delivered to at all (retrying will not help)."""


class WebhookFailed(OSError):
    """This attempt failed (down, timed out, not 2xx): worth another try later."""


def checked_address(host: str, port: int, allow_private: bool) -> str:
    """The address to connect to: the first `host` resolves to, once all are allowed."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise WebhookFailed(f"cannot resolve {host}") from exc
    addresses = [info[4][0] for info in infos]
    if not addresses:
        raise WebhookFailed(f"cannot resolve {host}")
    if not allow_private:
        for address in addresses:
            ip = ipaddress.ip_address(address.split("%")[0])
            # not only private ranges: shared (100.64/10, where some clouds keep their
            # metadata service), documentation, benchmarking … anything not global
            if not ip.is_global or ip.is_multicast:
                raise WebhookRefused(f"webhooks to {host} ({ip}) are not allowed")
    return addresses[0]


class _PinnedHTTP(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self.address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self.address, self.port), self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self.address = address

    def connect(self) -> None:
        raw = socket.create_connection((self.address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(raw, server_hostname=self.host)


def _cut(connection: http.client.HTTPConnection) -> None:
    """End a delivery that has run past its deadline (the blocked read then fails)."""
    sock = connection.sock
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


def endpoint(url: str) -> str:
    """What one slow or dead receiver is: scheme, host and port."""
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{(parts.hostname or '').lower()}:{parts.port or ''}"


def post(url: str, body: bytes, headers: dict[str, str], *, allow_private: bool,
         timeout: float) -> None:
    """POST `body` to `url`; returns on a 2xx, raises `WebhookFailed` or `WebhookRefused`."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise WebhookRefused(f"{url[:100]} is not an http(s) URL")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    address = checked_address(parts.hostname, port, allow_private)
    kind: Any = _PinnedHTTPS if parts.scheme == "https" else _PinnedHTTP
    connection = kind(parts.hostname, port, address, timeout)
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    # `timeout` bounds each read; a receiver dripping a byte at a time is cut off when the
    # whole exchange has taken twice as long
    watchdog = threading.Timer(2 * timeout, _cut, args=(connection,))
    watchdog.daemon = True
    watchdog.start()
    try:
        connection.request("POST", target, body=body, headers=headers)
        response = connection.getresponse()
        response.read(65_536)  # a receiver's answer is not kept; a huge one is not read
    except (OSError, http.client.HTTPException) as exc:
        raise WebhookFailed(f"{type(exc).__name__}: {exc}") from exc
    finally:
        watchdog.cancel()
        connection.close()
    if 300 <= response.status < 400:
        raise WebhookFailed(f"HTTP {response.status}: redirects are not followed "
                            f"(to {response.getheader('Location', '?')[:200]})")
    if not 200 <= response.status < 300:
        raise WebhookFailed(f"HTTP {response.status}: not 2xx")
