"""The one error handler: every failure becomes the documented error body.

`{"error": {"code", "message", "fields": [{"path", "code", "message"}]}}`, messages in the
caller's locale. Web pages get the same information as a small HTML page.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, current_app, g, jsonify, render_template, request, session
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as SQLAlchemyTimeoutError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException, MethodNotAllowed, RequestEntityTooLarge

from crm_platform.errors import (
    BadRequest,
    Conflict,
    LoomError,
    NotFound,
    PayloadTooLarge,
    TooManyRequests,
)
from crm_platform.i18n import LOCALES, pick_locale, render_error

log = logging.getLogger(__name__)

def request_locale() -> str:
    """The signed-in user's locale, else the one chosen on the sign-in page, else the best
    of Accept-Language, else the default."""
    principal = g.get("principal")
    if principal is not None:
        return principal.locale
    if session.get("locale") in LOCALES:
        return session["locale"]
    accepted = [value for value, _quality in request.accept_languages]
    return pick_locale(*accepted, default=current_app.config["LOOM_SETTINGS"].default_locale)


def error_body(error: LoomError, locale: str) -> dict[str, Any]:
    return {"error": render_error(error, locale)}


def error_text(error: LoomError, locale: str) -> str:
    """The error in one line for a page's notice: each field's message, else the whole."""
    said = render_error(error, locale)
    return "; ".join(item["message"] for item in said["fields"]) or said["message"]


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.path in ("/healthz", "/readyz") or (
        request.accept_mimetypes.best == "application/json")


def respond(error: LoomError) -> Response:
    locale = request_locale()
    body = error_body(error, locale)
    if _wants_json():
        response = jsonify(body)
    else:
        response = Response(render_template("shell/error.html", error=body["error"],
                                            status=error.status), mimetype="text/html")
    response.status_code = error.status
    for name, value in error.headers.items():
        response.headers[name] = value
    return response


def _from_http_exception(exc: HTTPException) -> LoomError:
    if isinstance(exc, CSRFError):
        return BadRequest("csrf_failed")
    if isinstance(exc, RequestEntityTooLarge):
        # the limit of this request (an import allows more than other bodies)
        return PayloadTooLarge(limit=request.max_content_length
                               or current_app.config["MAX_CONTENT_LENGTH"])
    if isinstance(exc, MethodNotAllowed):
        return LoomError("method_not_allowed", method=request.method,
                         headers={"Allow": ", ".join(exc.valid_methods or [])}).with_status(405)
    if exc.code == 404:
        return NotFound()
    if exc.code == 429:
        return TooManyRequests(60)
    return LoomError("bad_request" if (exc.code or 500) < 500 else "internal_error"
                     ).with_status(exc.code or 500)


def init_app(app: Flask) -> None:
    @app.errorhandler(LoomError)
    def _domain(error: LoomError) -> Response:
        return respond(error)

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Response:
        return respond(_from_http_exception(exc))

    @app.errorhandler(StaleDataError)
    def _stale(exc: StaleDataError) -> Response:
        # Someone else changed the row between our read and our write: nothing was written.
        return respond(LoomError("changed_meanwhile").with_status(412))

    @app.errorhandler(IntegrityError)
    def _integrity(exc: IntegrityError) -> Response:
        # Two requests raced for the same unique value; the loser is told, nothing is written.
        log.info("integrity conflict: %s", exc.orig)
        return respond(Conflict())

    @app.errorhandler(OperationalError)
    @app.errorhandler(SQLAlchemyTimeoutError)
    def _database_down(exc: Exception) -> Response:
        log.exception("database error")
        return respond(LoomError("internal_error").with_status(503))

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return respond(LoomError("internal_error").with_status(500))
