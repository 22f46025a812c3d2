"""Checks shared by the identity services: e-mail syntax, passwords, slugs, locales."""

from __future__ import annotations

import re
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


def check_password(value: str, path: str = "password", *known: str) -> str:
    """At least `MIN_PASSWORD_LENGTH` characters, and not a common or easily guessed
    password (`password`, `12345678`, `Passw0rd!`, a name and a year): zxcvbn's estimate,
    which knows the lists of leaked passwords, common names and keyboard walks, must be
    at least 2 of 4 ("safe from unthrottled online guessing"). `known`: words of the
    account (its e-mail, name) that count as easy to guess too."""
    if len(value) < MIN_PASSWORD_LENGTH:
        raise invalid(path, "password_too_weak", limit=MIN_PASSWORD_LENGTH)
    from zxcvbn import zxcvbn

    words = {word.lower() for text in known if text
             for word in (text, *re.split(r"[^\w]+", text), text.partition("@")[0]) if word}
    # zxcvbn's time grows fast with length; its own front end scores the first 100
    if zxcvbn(value[:100], user_inputs=sorted(words))["score"] < 2:
        raise invalid(path, "password_too_common")
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
