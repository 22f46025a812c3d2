"""Reading a JSON request body and checking it against its JSON Schema.

Every problem is reported at once as a `FieldError` with a path (`admin.email`,
`roles[1]`), a code and the parameters the message needs; nothing reaches a service
until the body is well-formed and of the documented shape.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from flask import request

from crm_platform.errors import BadRequest, UnsupportedMediaType


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


