"""Numbered, immutable versions of a form or a flow: looking one up, numbering the next."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from crm_platform.errors import NotFound
from crm_platform.scoping import TenantScope


def numbered_version(scope: TenantScope, model: Any, owner_column: Any, owner: Any,
                     number: int | None, *options: Any) -> Any:
    """Version `number` of `owner` (a form or flow), or its published one when None;
    `options` for the query (such as deferring the documents a caller may not need)."""
    number = number if number is not None else owner.published_version
    if number is None:
        raise NotFound("no_published_version", form=owner.key)
    row = scope.session.scalars(scope.select(model, owner_column == owner.id,
                                             model.version == number).options(*options)).first()
    if row is None:
        raise NotFound("resource_not_found", resource="version", id=number)
    return row


def next_version_number(scope: TenantScope, model: Any, owner_column: Any, owner: Any) -> int:
    """The number the next published version of `owner` takes (1 for the first)."""
    return (scope.session.scalar(scope.filter(
        select(func.max(model.version)).where(owner_column == owner.id), model)) or 0) + 1
