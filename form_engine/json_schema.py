"""The JSON Schema validator every Loom schema is checked with: draft 2020-12, with
`pattern` read the way JSON Schema means it (ECMA-262), not the way Python's `re` does.

Python's `$` also matches just before a final newline, so `^[a-z]+$` accepts `"admin\\n"`
— a key with a newline would reach index DDL, a slug a URL. ECMA-262's `$` (without the
multiline flag) matches only at the very end. Patterns are therefore compiled with each
`$` outside a character class read as `\\Z`; the published schemas keep the portable
spelling.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from jsonschema import Draft202012Validator, ValidationError, validators


@lru_cache(maxsize=512)
def ecma_pattern(pattern: str) -> re.Pattern[str]:
    """`pattern` compiled for Python with ECMA-262's `$`: the end of the text, only."""
    out: list[str] = []
    in_class = escaped = False
    for char in pattern:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char == "$":
            out.append(r"\Z")
            continue
        out.append(char)
    return re.compile("".join(out))


def _pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Any:
    if validator.is_type(instance, "string") and not ecma_pattern(pattern).search(instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


Validator = validators.extend(Draft202012Validator, {"pattern": _pattern})
