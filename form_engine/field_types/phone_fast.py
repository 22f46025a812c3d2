"""A faster validity check for canonical E.164 numbers of single-region country codes.

`phonenumbers.parse` + `is_valid_number` cost ~20 µs. For a number already in E.164 whose
country code belongs to one region only (+86 China, +852 Hong Kong, +81 Japan …), validity
is: the national number matches the region's general pattern and one of its number-type
patterns, each within that type's possible lengths — the test `phonenumbers` itself runs.
Here those patterns are joined into one compiled regular expression per region (~1 µs).
Country codes shared by several regions (+1, +7, +44 …) take the full path; a test checks
this module against `phonenumbers` on generated numbers.
"""

from __future__ import annotations

import re
from functools import cache

from phonenumbers import PhoneMetadata
from phonenumbers.phonenumberutil import COUNTRY_CODE_TO_REGION_CODE

_TYPES = ("premium_rate", "toll_free", "shared_cost", "voip", "personal_number", "pager",
          "uan", "voicemail", "fixed_line", "mobile")


def _alternative(pattern: str, lengths: tuple[int, ...]) -> str:
    if lengths and lengths[0] != -1:
        allowed = "|".join(rf"[0-9]{{{length}}}" for length in lengths)
        return rf"(?=(?:{allowed})\Z)(?:{pattern})"
    return f"(?:{pattern})"


@cache
def _prefix(country_code: int) -> re.Pattern[str] | None:
    """The region's national-prefix / carrier-code pattern that parsing strips."""
    regions = COUNTRY_CODE_TO_REGION_CODE.get(country_code, ())
    metadata = PhoneMetadata.metadata_for_region_or_calling_code(country_code, regions[0])
    parsing = metadata.national_prefix_for_parsing or metadata.national_prefix
    return re.compile(parsing) if parsing else None


@cache
def _matcher(country_code: int) -> re.Pattern[str] | None:
    regions = COUNTRY_CODE_TO_REGION_CODE.get(country_code, ())
    if len(regions) != 1:
        return None
    metadata = PhoneMetadata.metadata_for_region_or_calling_code(country_code, regions[0])
    if metadata is None or metadata.general_desc is None:
        return None
    general = metadata.general_desc
    default_lengths = tuple(general.possible_length or ())
    alternatives = []
    for name in _TYPES:
        desc = getattr(metadata, name, None)
        if desc is None or not desc.national_number_pattern:
            continue
        lengths = tuple(desc.possible_length or ()) or default_lengths
        alternatives.append(_alternative(desc.national_number_pattern, lengths))
    if not alternatives or not general.national_number_pattern:
        return None
    head = _alternative(general.national_number_pattern, default_lengths)
    return re.compile(rf"(?={head}\Z)(?:{'|'.join(alternatives)})\Z")


_Patterns = tuple[re.Pattern[str] | None, re.Pattern[str] | None]
# Leading digits ("8", "86") -> (validity pattern, prefix pattern) of that country code,
# or None when they are no country code; filled as numbers are met, so a number costs a
# dictionary lookup or two instead of parsing and three cached calls.
_COUNTRIES: dict[str, _Patterns | None] = {}


def _country(head: str) -> _Patterns | None:
    try:
        return _COUNTRIES[head]
    except KeyError:
        pass
    code = int(head)
    entry = None
    if code in COUNTRY_CODE_TO_REGION_CODE:
        matcher = _matcher(code)
        entry = (matcher, _prefix(code) if matcher is not None else None)
    _COUNTRIES[head] = entry
    return entry


def fast_validity(e164: str) -> bool | None:
    """True/False for a canonical `+<digits>` number, or None when only the full check can
    tell (unknown or shared country code, or anything unusual)."""
    for size in (2, 3, 4):
        entry = _country(e164[1:size])
        if entry is not None:
            matcher, prefix = entry
            if matcher is None:
                return None
            national = e164[size:]
            if prefix is not None and prefix.match(national):
                return None  # parsing would strip or rewrite a prefix here: parse fully
            return matcher.match(national) is not None
    return None
