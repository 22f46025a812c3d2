"""Bodies sent without a `Content-Length` (chunked) are measured before Flask sees them.

Flask enforces `MAX_CONTENT_LENGTH` on a body whose length is announced. A chunked body
has none: under Werkzeug's server (`loom serve`) Flask reads it only up to the limit and
takes what it got, so an oversized body was cut and — if the rest still parsed — accepted.
Nothing a user sends may be dropped silently. This middleware reads such a body first (to
disk past 1 MB), up to the largest limit any route has, then hands it on *with* its length:
each route's own limit then applies exactly as to any other body (413 in the caller's
language), and a body past the largest limit is announced as one byte longer than it, so
it is refused whole however the server frames it (Werkzeug, gunicorn).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.wsgi import ClosingIterator

_SPOOL = 1024 * 1024
# Routes that take a file larger than other bodies (each then applies its own limit):
# imports, and template bundles (installed, or offered as an upgrade).
UPLOADS = ("/imports", "/templates/install", "/templates/file", "/upgrade/offer")
_READ = 64 * 1024


class ChunkedBodyLimit:
    def __init__(self, app: Callable[..., Iterable[bytes]], body_limit: int,
                 upload_limit: int) -> None:
        self.app = app
        self.body_limit = body_limit        # every route's limit …
        self.upload_limit = upload_limit    # … but uploads' (imports, bundles)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]
                 ) -> Iterable[bytes]:
        if environ.get("CONTENT_LENGTH") or "chunked" not in environ.get(
                "HTTP_TRANSFER_ENCODING", "").lower():
            return self.app(environ, start_response)
        ceiling = self.upload_limit if environ.get("PATH_INFO", "").rstrip("/").endswith(
            UPLOADS) else self.body_limit
        stream = environ["wsgi.input"]
        # open until the response has been sent: closed by the ClosingIterator below
        body = tempfile.SpooledTemporaryFile(max_size=_SPOOL)  # noqa: SIM115
        size = 0
        while size <= ceiling:
            block = stream.read(min(_READ, ceiling + 1 - size))
            if not block:
                break
            body.write(block)
            size += len(block)
        body.seek(0)
        environ["wsgi.input"] = body
        environ["CONTENT_LENGTH"] = str(size)     # > ceiling: refused by every route
        environ.pop("HTTP_TRANSFER_ENCODING", None)
        return ClosingIterator(self.app(environ, start_response), [body.close])
