"""`phone`: a phone number checked with `phonenumbers`, stored in E.164 (+8613812345678).

Numbers without a country code are read in the field's `region`, else the tenant's default
region from the validation context, else CN.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any, ClassVar

import phonenumbers

from form_engine.field_types.base import Coercer, TypeEnv, reject
from form_engine.field_types.phone_fast import fast_validity
from form_engine.field_types.strings import StringType

E164_PATTERN = r"^\+[1-9][0-9]{6,14}$"
_E164 = re.compile(E164_PATTERN)  # the JSON API takes canonical numbers only


@lru_cache(maxsize=65_536)
def normalize_phone(text: str, region: str) -> str | None:
    """E.164 form of a valid number, else None (cached: the same numbers recur)."""
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


_SEPARATORS = re.compile(r"[\s\-.()]")


def _plain_e164(text: str, country: int) -> str | None:
    """A typed number in E.164 when it is plainly one: `+` and digits, or (in the field's
    region) national digits without a trunk 0; None for anything parsing must decide."""
    digits = _SEPARATORS.sub("", text)
    if digits.startswith("+"):
        candidate = digits
    elif country and digits[:1].isdigit() and digits[0] != "0":
        candidate = f"+{country}{digits}"
    else:
        return None
    return candidate if _E164.fullmatch(candidate) else None


class Phone(StringType):
    name = "phone"
    widget = "phone"
    default_max_length = 40
    options: ClassVar[dict[str, Any]] = {"region": {"type": "string", "pattern": "^[A-Z]{2}$"}}

    def coercer(self, field: Mapping[str, Any], lenient: bool, env: TypeEnv) -> Coercer:
        region = field.get("region") or env.region
        limit = self.max_length(field)
        country = phonenumbers.country_code_for_region(region)

        def coerce(value: Any) -> str:
            if isinstance(value, int) and lenient and not isinstance(value, bool):
                value = str(value)
            if not isinstance(value, str):
                raise reject("wrong_type", expected="text")
            if len(value) > limit:
                raise reject("too_long", limit=limit)
            if not lenient and not _E164.fullmatch(value):
                raise reject("phone_needs_country_code", region=region, country=f"+{country}")
            if not lenient:
                verdict = fast_validity(value)  # canonical already: no parsing needed
                if verdict is True:
                    return value
                if verdict is False:
                    raise reject("bad_phone", region=region)
            else:
                candidate = _plain_e164(value, country)  # "138 0013 8000", "+86-138…"
                if candidate is not None and fast_validity(candidate) is True:
                    return candidate
            normalized = normalize_phone(value, region)
            if normalized is None:
                raise reject("bad_phone", region=region)
            return normalized

        return coerce

    def json_schema(self, field: Mapping[str, Any]) -> dict[str, Any]:
        return {"type": "string", "pattern": E164_PATTERN,
                "description": "E.164, e.g. +8613812345678"}

    def display(self, field: Mapping[str, Any], value: Any, locale: str) -> str:
        return _international(value) if value else ""


@lru_cache(maxsize=4096)
def _international(value: Any) -> str:
    """+8613800138000 as people write it: +86 138 0013 8000 (lists show many: cached)."""
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        return str(value)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
