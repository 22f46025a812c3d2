"""Shared behaviour of the text-like types: length limits and a user `pattern` on RE2."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from functools import lru_cache
from typing import Any, ClassVar

import re2

from form_engine.errors import Problem
from form_engine.field_types.base import (
    TEXTUAL,
    Coercer,
    Constant,
    FieldType,
    TypeEnv,
    check_min_max,
    reject,
)

LENGTH_OPTIONS = {
    "min_length": {"type": "integer", "minimum": 0, "maximum": 100_000},
    "max_length": {"type": "integer", "minimum": 1, "maximum": 100_000},
    "pattern": {"type": "string", "minLength": 1, "maxLength": 1000},
    "pattern_message": {"$ref": "#/$defs/label"},
}


# RE2 is linear in the text, but each character costs up to the compiled program's size
# (`(.*a){500}` compiles to 5 500 instructions: 0.6 s on 100 000 characters). A check is
# kept under ~50 ms by bounding both when the form is saved: the program, and the program
# times the longest text the field takes (~1.2 ns per instruction and character, measured).
MAX_PATTERN_PROGRAM = 1000
PATTERN_BUDGET = 40_000_000


@lru_cache(maxsize=2048)
def compile_pattern(pattern: str) -> Any:
    """RE2 runs in linear time: no user pattern can hang a worker (e.g. `(a+)+$`)."""
    options = re2.Options()
    options.max_mem = 8 << 20
    return re2.compile(pattern, options)


class StringType(FieldType):
    """Text stored as `str`, with min/max length and an optional pattern."""

    options: ClassVar[dict[str, Any]] = LENGTH_OPTIONS
    operators = TEXTUAL
    default_max_length: ClassVar[int] = 500
    multiline: ClassVar[bool] = False

    def check(self, field: Mapping[str, Any]) -> Iterator[Problem]:
        yield from check_min_max(field, "min_length", "max_length")
        if "pattern" in field:
            try:
                size = compile_pattern(field["pattern"]).programsize
            except Exception as exc:  # re2.error and friends
                detail = exc.args[0] if exc.args else exc
                if isinstance(detail, bytes):
                    detail = detail.decode("utf-8", "replace")
                yield Problem("pattern", "bad_pattern", {"detail": str(detail)[:200]})
                return
            if size > MAX_PATTERN_PROGRAM:
                yield Problem("pattern", "pattern_too_complex", {"limit": MAX_PATTERN_PROGRAM,
                                                                 "size": size})
            elif size * self.max_length(field) > PATTERN_BUDGET:
                yield Problem("max_length", "pattern_text_too_long",
                              {"limit": PATTERN_BUDGET // size})

    def max_length(self, field: Mapping[str, Any]) -> int:
        return field.get("max_length", self.default_max_length)

    def normalize(self, text: str, field: Mapping[str, Any]) -> str:
        """Type-specific normalisation after length checks (email, phone, url override)."""
        return text

    def coercer(self, field: Mapping[str, Any], lenient: bool, env: TypeEnv) -> Coercer:
        low = field.get("min_length", 0)
        high = self.max_length(field)
        pattern = compile_pattern(field["pattern"]) if "pattern" in field else None
        normalize = self.normalize
        multiline = self.multiline

        def coerce(value: Any) -> str:
            if not isinstance(value, str):
                if lenient and isinstance(value, int | float) and not isinstance(value, bool):
                    value = str(value)
                else:
                    raise reject("wrong_type", expected="text")
            if lenient:
                value = value.strip() if multiline else " ".join(value.split())
            size = len(value)
            if size > high:
                raise reject("too_long", limit=high)
            if size < low:
                raise reject("too_short", limit=low)
            if pattern is not None and pattern.search(value) is None:
                raise reject("pattern_mismatch", pattern=field["pattern"],
                             message=field.get("pattern_message"))
            return normalize(value, field)

        return coerce

    def strict_source(self, field: Mapping[str, Any], constant: Constant) -> list[str] | None:
        kind = type(self)
        if ("pattern" in field or kind.coercer is not StringType.coercer
                or kind.normalize is not StringType.normalize):
            return None  # phone, e-mail and url check more: their coercers are called
        low, high = field.get("min_length", 0), self.max_length(field)
        return ["if v.__class__ is not str: return None",
                f"if not {low} <= len(v) <= {high}: return None",
                "v = v or None"]  # empty text is stored as blank

    def lenient_source(self, field: Mapping[str, Any], constant: Constant
                       ) -> tuple[str, list[str]] | None:
        if self.strict_source(field, constant) is None:
            return None
        low, high = field.get("min_length", 0), self.max_length(field)
        tidy = "v = v.strip()" if self.multiline else "v = ' '.join(v.split())"
        # blank text never gets here: the generated code has stored it as None already
        return "v.__class__ is str", [tidy, f"if not {low} <= len(v) <= {high}: return None"]

    def json_schema(self, field: Mapping[str, Any]) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": "string", "maxLength": self.max_length(field)}
        if field.get("min_length"):
            schema["minLength"] = field["min_length"]
        if "pattern" in field:
            schema["pattern"] = field["pattern"]
        return schema
