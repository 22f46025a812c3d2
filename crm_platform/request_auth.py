"""Resolving the principal of each request: a bearer token, else the session cookie.

A session-authenticated API call that changes something must carry the CSRF token in
`X-CSRFToken` (the web UI's pages put it in a meta tag); bearer calls need none, since a
browser never attaches a bearer token on its own.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Flask, current_app, g, request, session
from flask_wtf.csrf import CSRFError, validate_csrf
from wtforms.validators import ValidationError as WTFValidationError

from crm_platform.auth.login import principal_for, session_fingerprint
from crm_platform.db import database, request_session, utcnow
from crm_platform.errors import BadRequest, Unauthorized
from crm_platform.models import ApiToken, User
from crm_platform.services.tokens import token_for_secret

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _bearer_secret() -> str | None:
    header = request.headers.get("Authorization")
    if header is None:
        return None
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise Unauthorized("invalid_token")
    return secret.strip()


def _touch(token: ApiToken) -> None:
    """Record last use at most once a minute, outside the request's own transaction."""
    now = utcnow()
    every = timedelta(seconds=current_app.config["LOOM_SETTINGS"].token_touch_seconds)
    if token.last_used_at is not None and now - token.last_used_at < every:
        return
    with database().transaction() as session_:
        row = session_.get(ApiToken, token.id)
        if row is not None:
            row.last_used_at = now


def resolve_principal() -> None:
    g.principal = None
    if request.endpoint in (None, "static") or request.path in ("/healthz", "/readyz"):
        return
    secret = _bearer_secret()
    db_session = request_session()
    if secret is not None:
        token = token_for_secret(db_session, secret)
        user = db_session.get(User, token.user_id)
        if user is None or user.tenant_id != token.tenant_id:
            raise Unauthorized("invalid_token")
        g.principal = principal_for(db_session, user, "token", token.id)
        _touch(token)
        return
    user_id, tenant_id = session.get("user_id"), session.get("tenant_id")
    if user_id is None:
        return
    user = db_session.get(User, user_id)
    stale = (user is None or user.tenant_id != tenant_id
             or session_fingerprint(user) != session.get("fp"))
    if stale:
        session.clear()  # stale: the user is gone or changed their password
        return
    g.principal = principal_for(db_session, user, "session")
    if request.path.startswith("/api/") and request.method not in SAFE_METHODS:
        try:
            validate_csrf(request.headers.get("X-CSRFToken"))
        except (CSRFError, WTFValidationError) as exc:
            raise BadRequest("csrf_failed") from exc


def init_app(app: Flask) -> None:
    app.before_request(resolve_principal)
