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

from crm_platform.api.body import read_json
from crm_platform.auth.principal import Principal
from crm_platform.errors import FieldError, Unauthorized, ValidationFailed
from crm_platform.schema_checks import check_against

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
    # A multipart/form-data body: these text fields (typed like query parameters) and one
    # file part `file`, up to `upload_limit` bytes; the view gets body["file"] =
    # (filename, bytes).
    upload: dict[str, dict[str, Any]] | None = None
    upload_limit: Callable[[], int] | None = None


def current_principal() -> Principal:
    principal: Principal | None = g.get("principal")
    if principal is None:
        raise Unauthorized()
    return principal


def _coerce_query(schema: dict[str, Any], raw: str) -> Any:
    kind = schema.get("type")
    if kind == "integer":
        if not _INTEGER.fullmatch(raw):
            raise ValueError(raw)
        return int(raw)
    if kind == "boolean":
        if raw.lower() in ("true", "1", "yes"):
            return True
        if raw.lower() in ("false", "0", "no"):
            return False
        raise ValueError(raw)
    return raw


def read_query(query: dict[str, dict[str, Any]], source: Any = None) -> dict[str, Any]:
    """Declared query parameters (or multipart fields: `source`), typed and checked;
    undeclared ones are ignored."""
    source = request.args if source is None else source
    values: dict[str, Any] = {}
    problems: list[FieldError] = []
    for name, schema in query.items():
        if name not in source:
            continue
        raw = source[name]
        if "\x00" in raw:  # no database stores it (PostgreSQL refuses it in any text)
            problems.append(FieldError(name, "nul_character"))
            continue
        try:
            values[name] = _coerce_query(schema, raw)
        except ValueError:
            problems.append(FieldError(name, "wrong_type", {"expected": schema.get("type")}))
    if problems:
        raise ValidationFailed(fields=problems, count=len(problems))
    check_against({"type": "object", "properties": query}, values)
    return values


def read_upload(fields: dict[str, dict[str, Any]], limit: int | None) -> dict[str, Any]:
    """A multipart body: its declared text fields, typed, and the `file` part."""
    if limit is not None:
        request.max_content_length = limit  # before the body is read (Flask 3.1)
    if not (request.mimetype or "").startswith("multipart/form-data"):
        raise ValidationFailed(fields=[FieldError("file", "upload_expected", {})], count=1)
    values = read_query(fields, request.form)
    upload = request.files.get("file")
    if upload is None:
        raise ValidationFailed(fields=[FieldError("file", "required", {})], count=1)
    values["file"] = (upload.filename or "", upload.read())
    return values


def operation(summary: str, *, tags: tuple[str, ...] | str, body: dict[str, Any] | None = None,
              query: dict[str, dict[str, Any]] | None = None,
              responses: dict[int, dict[str, Any] | None] | None = None,
              authenticated: bool = True, description: str = "",
              raw_body: dict[str, Any] | None = None,
              content_type: str = "application/json",
              upload: dict[str, dict[str, Any]] | None = None,
              upload_limit: Callable[[], int] | None = None) -> Callable:
    """Declare an API endpoint. The view receives `principal`, `body` and `query` as needed."""
    spec = Operation(
        summary=summary, tags=(tags,) if isinstance(tags, str) else tags, body=body,
        query=query or {}, responses=responses or {200: None}, authenticated=authenticated,
        description=description, raw_body=raw_body, content_type=content_type,
        upload=upload, upload_limit=upload_limit,
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
            elif spec.upload is not None:
                kwargs["body"] = read_upload(spec.upload, spec.upload_limit and
                                             spec.upload_limit())
            return view(**kwargs)

        endpoint.openapi = spec  # type: ignore[attr-defined]
        return endpoint

    return decorate
