"""Reading a JSON request body and checking it against its JSON Schema.

Every problem is reported at once as a `FieldError` with a path (`admin.email`,
`roles[1]`), a code and the parameters the message needs; nothing reaches a service
until the body is well-formed and of the documented shape.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from functools import cache
from typing import Any

from flask import request
from jsonschema.exceptions import ValidationError

from crm_platform.errors import BadRequest, FieldError, UnsupportedMediaType, ValidationFailed
from form_engine.errors import join_path, json_path
from form_engine.json_schema import Validator


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed in JSON")


def _unstorable_text(data: Any) -> str | None:
    """Where the body holds text no database stores: NUL characters or lone surrogates."""
    stack: list[tuple[Any, str]] = [(data, "")]
    while stack:
        value, path = stack.pop()
        if isinstance(value, str):
            texts = [value]
        elif isinstance(value, dict):
            texts = [key for key in value if isinstance(key, str)]
            stack.extend((item, f"{path}.{key}" if path else str(key))
                         for key, item in value.items())
        elif isinstance(value, list):
            texts = []
            stack.extend((item, f"{path}[{index}]") for index, item in enumerate(value))
        else:
            continue
        for text in texts:
            if "\x00" in text:
                return f"a NUL character at {path or 'the top'}"
            try:
                text.encode("utf-8")
            except UnicodeEncodeError:
                return f"an unpaired surrogate (\\ud800-\\udfff) at {path or 'the top'}"
    return None


def read_json() -> Any:
    """The parsed body; 415 when it is not JSON, 400 naming where it stops being JSON."""
    if not request.is_json:
        if not request.content_length and not request.mimetype:
            raise BadRequest("json_required")
        raise UnsupportedMediaType(content_type=request.mimetype or "(none)")
    raw = request.get_data(cache=True)  # 413 is raised here past the configured limit
    try:
        data = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant,
                          parse_float=Decimal)  # money stays exact
    except UnicodeDecodeError as exc:
        raise BadRequest("malformed_json", detail=f"not UTF-8 at byte {exc.start}") from exc
    except json.JSONDecodeError as exc:
        raise BadRequest(
            "malformed_json", detail=f"{exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from exc
    except (ValueError, RecursionError) as exc:
        raise BadRequest("malformed_json", detail=str(exc)[:200] or "nested too deeply") from exc
    problem = _unstorable_text(data)
    if problem is not None:
        raise BadRequest("malformed_json", detail=problem)
    return data


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
