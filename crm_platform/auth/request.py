"""Resolving the principal of each request: a bearer token, else the session cookie.

Resolution runs in a short transaction of its own and leaves a plain `Principal` on
`flask.g`, so a request never holds two database connections (the request session opens
its own only when the view needs one). A session-authenticated API call that changes
something must carry the CSRF token in `X-CSRFToken` (pages put it in a meta tag); bearer
calls need none, since a browser never attaches a bearer token by itself.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Flask, current_app, g, request, session
from flask_wtf.csrf import CSRFError, validate_csrf
from sqlalchemy.orm import Session
from wtforms.validators import ValidationError as WTFValidationError

from crm_platform.auth.login import session_principal
from crm_platform.auth.principal import Principal
from crm_platform.db import database, request_session, utcnow
from crm_platform.errors import BadRequest, Forbidden, Unauthorized
from crm_platform.scoping import is_valid_id
from crm_platform.services.identity.tokens import principal_for_secret, touch

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# A web session ends this long after sign-in, however active it is.
SESSION_MAX_AGE = timedelta(hours=12)


def _bearer_secret() -> str | None:
    header = request.headers.get("Authorization")
    if header is None:
        return None
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise Unauthorized("invalid_token")
    return secret.strip()


def _from_token(db_session: Session, secret: str) -> Principal:
    every = timedelta(seconds=current_app.config["LOOM_SETTINGS"].token_touch_seconds)
    principal, due = principal_for_secret(db_session, secret, every)
    if due:
        touch(database(), principal)
    return principal


def _from_session(db_session: Session) -> Principal | None:
    user_id, tenant_id = session.get("user_id"), session.get("tenant_id")
    if user_id is None:
        return None
    started = session.get("iat", 0)
    if utcnow().timestamp() - started > SESSION_MAX_AGE.total_seconds():
        session.clear()
        return None
    try:
        principal = (session_principal(db_session, tenant_id, user_id, session.get("fp", ""))
                     if is_valid_id(user_id) and is_valid_id(tenant_id) else None)
    except Forbidden:
        if request.path.startswith("/api/"):
            raise
        session.clear()  # web pages: a suspended or deactivated user is signed out
        return None
    if principal is None:
        session.clear()  # stale: the user is gone or changed their password
    return principal


def resolve_principal() -> None:
    g.principal = None
    if request.endpoint in (None, "static", "web.static") or request.path in (
            "/healthz", "/readyz"):
        return
    api_call = request.path.startswith("/api/")
    secret = _bearer_secret() if api_call else None
    # In the request's own session: one transaction for the whole request, and what was
    # read here (the user, the tenant) is not read again.
    db_session = request_session()
    g.principal = (_from_token(db_session, secret) if secret is not None
                   else _from_session(db_session))
    if (g.principal is not None and g.principal.via == "session" and api_call
            and request.method not in SAFE_METHODS):
        try:
            validate_csrf(request.headers.get("X-CSRFToken"))
        except (CSRFError, WTFValidationError) as exc:
            raise BadRequest("csrf_failed") from exc


def init_app(app: Flask) -> None:
    app.before_request(resolve_principal)
