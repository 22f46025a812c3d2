"""Keyset pagination by id: stable under inserts, O(limit) at any depth."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from typing import Any

from sqlalchemy import Select
from sqlalchemy.orm import Session

from crm_platform.errors import invalid
from crm_platform.scoping import MAX_ID

DEFAULT_LIMIT = 50


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"after": last_id}).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        after = json.loads(base64.urlsafe_b64decode(padded))["after"]
    except (binascii.Error, ValueError, KeyError, TypeError) as exc:
        raise invalid("cursor", "bad_cursor") from exc
    if not isinstance(after, int) or isinstance(after, bool) or not 0 <= after <= MAX_ID:
        raise invalid("cursor", "bad_cursor")
    return after


def paginate(session: Session, statement: Select[Any], model: type, query: dict[str, Any],
             render: Callable[[Any], dict[str, Any]]) -> dict[str, Any]:
    """`{"items", "next_cursor"}` for the page after `query["cursor"]`, ordered by id."""
    limit = query.get("limit", DEFAULT_LIMIT)
    if "cursor" in query:
        statement = statement.where(model.id > decode_cursor(query["cursor"]))  # type: ignore[attr-defined]
    rows = list(session.scalars(statement.order_by(model.id).limit(limit + 1)))  # type: ignore[attr-defined]
    more = len(rows) > limit
    rows = rows[:limit]
    return {
        "items": [render(row) for row in rows],
        "next_cursor": encode_cursor(rows[-1].id) if more else None,
    }
