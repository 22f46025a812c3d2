"""Loom's platform: the Flask application around the form and workflow engines."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Flask
from flask_wtf.csrf import CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix

from crm_platform.auth.throttle import LoginThrottler
from crm_platform.config import Settings
from crm_platform.db import Database
from crm_platform.errors import ConfigError
from crm_platform.json_provider import ExactJSONProvider


class LoomFlask(Flask):
    json_provider_class = ExactJSONProvider


def create_app(config: Settings | dict[str, Any] | None = None) -> Flask:
    """Build the application; `config` is Settings, overrides for Settings, or None (env)."""
    if isinstance(config, Settings):
        settings = config.checked()
    else:
        settings = Settings.from_env(**(config or {}))
    if not settings.secret_key:
        raise ConfigError("SECRET_KEY is not set: sessions and CSRF tokens need it")

    app = LoomFlask(__name__, static_folder=None)
    app.config.update(
        LOOM_SETTINGS=settings,
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=settings.max_body_bytes,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.secure_cookies,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=12),
        WTF_CSRF_TIME_LIMIT=None,  # tied to the session instead, which expires itself
        TESTING=settings.testing,
    )

    from crm_platform.body_limit import ChunkedBodyLimit

    app.wsgi_app = ChunkedBodyLimit(  # type: ignore[method-assign]
        app.wsgi_app, settings.max_body_bytes, max(settings.max_body_bytes,
                                                   settings.max_import_bytes))
    if settings.trusted_proxies:
        # Client addresses (login throttling) and the scheme come from the proxies' headers.
        hops = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]

    database = Database(settings.database_url)
    database.init_app(app)
    app.extensions["loom.throttler"] = LoginThrottler(database, settings)

    from crm_platform import api, health, http_errors, security_headers, web
    from crm_platform.auth import request as request_auth
    from crm_platform.services import flows

    csrf = CSRFProtect(app)
    csrf.exempt(api.api)  # API: bearer tokens; cookie callers are checked in request_auth
    csrf.exempt(health.health)
    request_auth.init_app(app)
    flows.init_app(app)
    http_errors.init_app(app)
    security_headers.init_app(app)
    api.init_app(app)
    app.register_blueprint(health.health)
    web.init_app(app)
    return app

