"""Headers on every response that tell the browser what a page may do.

- `Content-Security-Policy`: scripts, styles, images, fonts and connections only from
  Loom itself — no inline script, no `eval`, no plug-ins — and no page may be framed by
  another site (`frame-ancestors 'none'`: clickjacking); forms post only to Loom.
- `X-Frame-Options: DENY` for browsers that predate `frame-ancestors`.
- `X-Content-Type-Options: nosniff`: a JSON answer or an upload is never run as script.
- `Referrer-Policy: same-origin`: record URLs do not leak to other sites.
"""

from __future__ import annotations

from flask import Flask, Response

CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:",
    "font-src 'self'", "connect-src 'self'", "object-src 'none'", "base-uri 'self'",
    "form-action 'self'", "frame-ancestors 'none'"))
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def _add_headers(response: Response) -> Response:
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def init_app(app: Flask) -> None:
    app.after_request(_add_headers)
