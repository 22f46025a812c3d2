"""Checking a JSON document against its JSON Schema, every problem reported at once as a
`FieldError` with a path (`admin.email`, `roles[1]`), a code and the parameters its message
needs — for request bodies (`api.body`), and for documents the services read themselves
(a template bundle, a user made from the command line)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cache
from typing import Any

from jsonschema.exceptions import ValidationError

from crm_platform.errors import FieldError, ValidationFailed
from form_engine.errors import join_path, json_path
from form_engine.json_schema import Validator


@cache
def _validator(schema_json: str) -> Any:
    schema = json.loads(schema_json)
    Validator.check_schema(schema)
    return Validator(schema)


def validator_for(schema: dict[str, Any]) -> Any:
    """A checked, reused validator per distinct schema."""
    return _validator(json.dumps(schema, sort_keys=True))


_SIMPLE = {
    "minLength": ("too_short", "limit"),
    "maxLength": ("too_long", "limit"),
    "minimum": ("too_small", "limit"),
    "maximum": ("too_large", "limit"),
    "exclusiveMinimum": ("too_small", "limit"),
    "exclusiveMaximum": ("too_large", "limit"),
    "minItems": ("too_few_items", "limit"),
    "maxItems": ("too_many_items", "limit"),
    "pattern": ("bad_pattern", "pattern"),
    "format": ("bad_format", "format"),
    "uniqueItems": ("duplicate_items", None),
}


def field_errors(error: ValidationError) -> Iterator[FieldError]:
    """Translate one jsonschema error into field errors with our codes."""
    path = json_path(error.absolute_path)
    keyword = error.validator
    if keyword == "required":
        instance = error.instance if isinstance(error.instance, dict) else {}
        for name in error.validator_value:
            if name not in instance:
                yield FieldError(join_path(path, name), "required")
    elif keyword == "additionalProperties":
        known = set(error.schema.get("properties", {}))
        for name in error.instance:
            if name not in known:
                yield FieldError(join_path(path, str(name)), "unknown_field")
    elif keyword == "unevaluatedProperties":
        for name in error.instance:
            if name not in error.schema.get("properties", {}):
                yield FieldError(join_path(path, str(name)), "unknown_field")
    elif keyword == "type":
        expected = error.validator_value
        expected = expected if isinstance(expected, str) else next(
            (kind for kind in expected if kind != "null"), "string")
        yield FieldError(path, "wrong_type", {"expected": expected})
    elif keyword in ("enum", "const"):
        allowed = error.validator_value if keyword == "enum" else [error.validator_value]
        yield FieldError(path, "not_one_of",
                         {"allowed": ", ".join(json.dumps(v, ensure_ascii=False) for v in allowed)})
    elif keyword in _SIMPLE:
        code, param = _SIMPLE[keyword]
        yield FieldError(path, code, {param: error.validator_value} if param else {})
    elif keyword in ("anyOf", "oneOf") and error.context:
        best = min(error.context, key=lambda e: len(e.absolute_path) * -1)
        yield from field_errors(best)
    else:
        yield FieldError(path, "invalid")


def check_against(schema: dict[str, Any], data: Any) -> None:
    """Raise ValidationFailed listing every problem of `data`; deduplicated, in order."""
    problems: list[FieldError] = []
    for error in validator_for(schema).iter_errors(data):
        for problem in field_errors(error):
            if problem not in problems:
                problems.append(problem)
    if problems:
        problems.sort(key=lambda p: p.path)
        raise ValidationFailed(fields=problems, count=len(problems))
