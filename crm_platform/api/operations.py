"""`@operation`: one declaration per endpoint that authenticates, validates the body and
query, and describes the endpoint for the OpenAPI document — so the document cannot drift
from what the code accepts."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import wraps
from typing import Any

from flask import g, request

from crm_platform.api.body import check_against, read_json
from crm_platform.auth.principal import Principal
from crm_platform.errors import FieldError, Unauthorized, ValidationFailed

_INTEGER = re.compile(r"^-?[0-9]{1,19}$")


@dataclass(frozen=True)
class Operation:
    summary: str
    tags: tuple[str, ...]
    body: dict[str, Any] | None = None
    query: dict[str, dict[str, Any]] = field(default_factory=dict)
    responses: dict[int, dict[str, Any] | None] = field(default_factory=dict)
    authenticated: bool = True
    description: str = ""
    # A JSON body that the view checks itself (e.g. a form definition, checked by the
    # form engine with its own messages); documented, not validated here.
    raw_body: dict[str, Any] | None = None
    content_type: str = "application/json"


def current_principal() -> Principal:
    principal: Principal | None = g.get("principal")
    if principal is None:
        raise Unauthorized()
    return principal


def _coerce_query(schema: dict[str, Any], raw: str) -> Any:
    kind = schema.get("type")
    if kind == "integer":
        if not _INTEGER.match(raw):
            raise ValueError(raw)
        return int(raw)
    if kind == "boolean":
        if raw.lower() in ("true", "1", "yes"):
            return True
        if raw.lower() in ("false", "0", "no"):
            return False
        raise ValueError(raw)
    return raw


def read_query(query: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Declared query parameters, typed and checked; undeclared ones are ignored."""
    values: dict[str, Any] = {}
    problems: list[FieldError] = []
    for name, schema in query.items():
        if name not in request.args:
            continue
        raw = request.args[name]
        try:
            values[name] = _coerce_query(schema, raw)
        except ValueError:
            problems.append(FieldError(name, "wrong_type", {"expected": schema.get("type")}))
    if problems:
        raise ValidationFailed(fields=problems, count=len(problems))
    check_against({"type": "object", "properties": query}, values)
    return values


def operation(summary: str, *, tags: tuple[str, ...] | str, body: dict[str, Any] | None = None,
              query: dict[str, dict[str, Any]] | None = None,
              responses: dict[int, dict[str, Any] | None] | None = None,
              authenticated: bool = True, description: str = "",
              raw_body: dict[str, Any] | None = None,
              content_type: str = "application/json") -> Callable:
    """Declare an API endpoint. The view receives `principal`, `body` and `query` as needed."""
    spec = Operation(
        summary=summary, tags=(tags,) if isinstance(tags, str) else tags, body=body,
        query=query or {}, responses=responses or {200: None}, authenticated=authenticated,
        description=description, raw_body=raw_body, content_type=content_type,
    )

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def endpoint(**kwargs: Any) -> Any:
            if spec.authenticated:
                kwargs["principal"] = current_principal()
            if spec.query:
                kwargs["query"] = read_query(spec.query)
            if spec.body is not None:
                data = read_json()
                check_against(spec.body, data)
                kwargs["body"] = data
            elif spec.raw_body is not None:
                kwargs["body"] = read_json()
            return view(**kwargs)

        endpoint.openapi = spec  # type: ignore[attr-defined]
        return endpoint

    return decorate
