"""Checks shared by the identity services: e-mail syntax, passwords, slugs, locales."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from email_validator import EmailNotValidError, validate_email

from crm_platform.auth.passwords import MIN_PASSWORD_LENGTH
from crm_platform.errors import invalid

RESERVED_SLUGS = frozenset({"platform", "admin", "api", "static", "www", "loom", "login"})


def normalize_email(value: str, path: str = "email") -> str:
    """Syntax-checked, lower-cased e-mail address (no DNS lookups)."""
    try:
        result = validate_email(value, check_deliverability=False)
    except EmailNotValidError as exc:
        raise invalid(path, "bad_format", format="email") from exc
    return result.normalized.lower()


def check_password(value: str, path: str = "password") -> str:
    if len(value) < MIN_PASSWORD_LENGTH:
        raise invalid(path, "password_too_weak", limit=MIN_PASSWORD_LENGTH)
    return value


def check_timezone(value: str, path: str = "timezone") -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise invalid(path, "bad_format", format="time zone") from exc
    return value


def check_slug(value: str, path: str = "slug") -> str:
    if value in RESERVED_SLUGS:
        raise invalid(path, "reserved", value=value)
    return value
