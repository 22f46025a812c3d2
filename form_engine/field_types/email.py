"""`email`: an e-mail address, checked by email-validator's syntax rules (no DNS lookup).

The common shape (ASCII dot-atom local part, letters/digits/hyphen domain labels) is
accepted by a precompiled check that email-validator agrees with (a test proves it on
generated addresses); everything else goes through email-validator itself.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from email_validator import EmailNotValidError, validate_email

from form_engine.field_types.base import reject
from form_engine.field_types.strings import StringType

_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_TLD = r"[A-Za-z](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_COMMON = re.compile(rf"^{_ATEXT}(?:\.{_ATEXT})*@(?:{_LABEL}\.)+{_TLD}$")
# Top-level names email-validator refuses (special-use domains, RFC 6761 and friends).
_SPECIAL_TLDS = frozenset({"arpa", "invalid", "local", "localhost", "onion", "test",
                           "internal", "home", "lan", "corp", "intranet", "private"})


def check_email(text: str) -> str:
    """The normalised address (domain lower-cased) or CoercionError('bad_email')."""
    if (len(text) <= 254 and _COMMON.fullmatch(text) and len(text.partition("@")[0]) <= 64
            and text.rsplit(".", 1)[-1].lower() not in _SPECIAL_TLDS):
        local, _, domain = text.partition("@")
        return f"{local}@{domain.lower()}"
    try:
        return validate_email(text, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise reject("bad_email", detail=str(exc)) from exc


class Email(StringType):
    name = "email"
    widget = "email"
    default_max_length = 254

    def normalize(self, text: str, field: Mapping[str, Any]) -> str:
        return check_email(text)

    def json_schema(self, field: Mapping[str, Any]) -> dict[str, Any]:
        return {**super().json_schema(field), "format": "email"}
