"""The platform's answers to the form engine's questions (`form_engine.context.Resolver`),
always inside one tenant."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from crm_platform.models import Department, User
from crm_platform.scoping import TenantScope, is_valid_id


class PlatformResolver:
    def __init__(self, scope: TenantScope) -> None:
        self.scope = scope

    def missing_references(self, target: str, form: str | None, ids: Collection[int]
                           ) -> Collection[int]:
        wanted = {value for value in ids if is_valid_id(value)}
        if target == "user":
            model: Any = User
        elif target == "department":
            model = Department
        else:
            # Records arrive with the records store; until then no record can be referenced.
            return set(ids)
        found = set(self.scope.session.scalars(
            self.scope.select(model).with_only_columns(model.id).where(model.id.in_(wanted))))
        return set(ids) - found

    def related_rollup(self, form: str, link_field: str, column: str | None, function: str,
                       record_id: int | None) -> Any:
        # No related records exist before the records store does.
        return 0 if function in ("count", "sum") else None
