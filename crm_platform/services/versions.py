"""Looking up a numbered, immutable version of a form or a flow."""

from __future__ import annotations

from typing import Any

from crm_platform.errors import NotFound
from crm_platform.scoping import TenantScope


def numbered_version(scope: TenantScope, model: Any, owner_column: Any, owner: Any,
                     number: int | None) -> Any:
    """Version `number` of `owner` (a form or flow), or its published one when None."""
    number = number if number is not None else owner.published_version
    if number is None:
        raise NotFound("no_published_version", form=owner.key)
    row = scope.session.scalars(scope.select(model, owner_column == owner.id,
                                             model.version == number)).first()
    if row is None:
        raise NotFound("resource_not_found", resource="version", id=number)
    return row
