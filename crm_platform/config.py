"""Settings read from the environment, with the embedded defaults `loom demo` relies on."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from typing import Any

from crm_platform.errors import ConfigError


def normalize_database_url(url: str) -> str:
    """Pin PostgreSQL URLs to psycopg 3, whatever scheme spelling the operator used."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _flag(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


# Each setting and the environment variable it is read from.
ENV_VARIABLES = {
    "database_url": "DATABASE_URL",
    "redis_url": "REDIS_URL",
    "secret_key": "SECRET_KEY",
    "max_body_bytes": "LOOM_MAX_BODY_BYTES",
    "max_import_bytes": "LOOM_MAX_IMPORT_BYTES",
    "webhook_allow_private": "LOOM_WEBHOOK_ALLOW_PRIVATE",
    "smtp_url": "LOOM_SMTP_URL",
    "mail_from": "LOOM_MAIL_FROM",
    "default_locale": "LOOM_DEFAULT_LOCALE",
    "secure_cookies": "LOOM_SECURE_COOKIES",
    "login_max_failures": "LOOM_LOGIN_MAX_FAILURES",
    "login_window_seconds": "LOOM_LOGIN_WINDOW_SECONDS",
    "login_lockout_seconds": "LOOM_LOGIN_LOCKOUT_SECONDS",
    "trusted_proxies": "LOOM_TRUSTED_PROXIES",
}


@dataclass(frozen=True)
class Settings:
    """Everything Loom reads from its environment; see README "Configuration"."""

    database_url: str = "sqlite:///loom.db"
    redis_url: str | None = None
    secret_key: str | None = None
    max_body_bytes: int = 2 * 1024 * 1024
    # An uploaded sheet (CSV / XLSX) may be this large.
    max_import_bytes: int = 50 * 1024 * 1024
    # Webhooks may reach private / loopback addresses (an installation inside one network).
    webhook_allow_private: bool = False
    # Where automation e-mails go out: smtp://user:password@host:port (smtps:// for TLS).
    smtp_url: str | None = None
    mail_from: str = "loom@localhost"
    default_locale: str = "en"
    secure_cookies: bool = False
    login_max_failures: int = 5
    login_window_seconds: int = 300
    login_lockout_seconds: int = 300
    token_touch_seconds: int = 60
    # How many reverse proxies in front of Loom set X-Forwarded-For / -Proto (0: none).
    trusted_proxies: int = 0
    testing: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: Any) -> Settings:
        """Build settings from environment variables; keyword overrides win."""
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        types = {f.name: f.type for f in fields(cls)}
        for name, variable in ENV_VARIABLES.items():
            raw = environ.get(variable)
            if raw is None or raw == "":
                continue
            kind = types[name]
            try:
                if kind == "int":
                    values[name] = int(raw)
                elif kind == "bool":
                    values[name] = _flag(raw)
                else:
                    values[name] = raw
            except ValueError as exc:
                raise ConfigError(f"{variable} must be a whole number, got {raw!r}") from exc
        values.update(overrides)
        return cls(**values).checked()

    def checked(self) -> Settings:
        """Normalise and sanity-check values; raise ConfigError naming the variable."""
        if self.default_locale not in ("en", "zh"):
            raise ConfigError("LOOM_DEFAULT_LOCALE must be 'en' or 'zh'")
        if self.max_body_bytes < 1024:
            raise ConfigError("LOOM_MAX_BODY_BYTES must be at least 1024")
        if self.max_import_bytes < 1024:
            raise ConfigError("LOOM_MAX_IMPORT_BYTES must be at least 1024")
        if not 0 <= self.trusted_proxies <= 5:
            raise ConfigError("LOOM_TRUSTED_PROXIES must be between 0 and 5")
        for name in ("login_max_failures", "login_window_seconds", "login_lockout_seconds"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{ENV_VARIABLES[name]} must be at least 1")
        return replace(self, database_url=normalize_database_url(self.database_url))
