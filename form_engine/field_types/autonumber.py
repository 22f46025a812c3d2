"""`autonumber`: a unique, human-friendly number given on create, from a `pattern` with
date parts and a zero-padded sequence the platform supplies: `SO-{YYYY}{MM}{DD}-{seq:4}`
gives SO-20240105-0042. `reset` restarts the sequence every year, month or day."""

import re
from collections.abc import Iterator, Mapping
from datetime import date
from typing import Any, ClassVar

from form_engine.errors import Problem
from form_engine.field_types.base import TEXTUAL, Coercer, FieldType, TypeEnv

SEQUENCE = re.compile(r"\{seq(?::(\d{1,2}))?\}")
DATE_PARTS = {"{YYYY}": "%Y", "{YY}": "%y", "{MM}": "%m", "{DD}": "%d"}
RESET_KEYS = {"never": "", "yearly": "%Y", "monthly": "%Y-%m", "daily": "%Y-%m-%d"}


def period_key(reset: str, today: date) -> str:
    """The sequence scope for `reset` on `today` ('' never resets)."""
    fmt = RESET_KEYS[reset]
    return today.strftime(fmt) if fmt else ""


def format_number(pattern: str, sequence: int, today: date) -> str:
    text = pattern
    for part, fmt in DATE_PARTS.items():
        text = text.replace(part, today.strftime(fmt))
    return SEQUENCE.sub(lambda m: str(sequence).zfill(int(m.group(1) or 1)), text)


class Autonumber(FieldType):
    name = "autonumber"
    kind = "computed"
    widget = "computed"
    operators = TEXTUAL
    in_subtable = False
    options: ClassVar[dict[str, Any]] = {
        "pattern": {"type": "string", "minLength": 5, "maxLength": 100},
        "reset": {"enum": sorted(RESET_KEYS)},
    }

    def check(self, field: Mapping[str, Any]) -> Iterator[Problem]:
        if len(SEQUENCE.findall(field.get("pattern", "{seq}"))) != 1:
            yield Problem("pattern", "bad_autonumber_pattern", {})

    def coercer(self, field: Mapping[str, Any], lenient: bool, env: TypeEnv) -> Coercer:
        return lambda value: value

    def json_schema(self, field: Mapping[str, Any]) -> dict[str, Any]:
        return {"type": "string"}
