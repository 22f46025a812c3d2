"""The one tenant-scoped query helper: every read and write of tenant data goes through it.

A `TenantScope` binds a session to one tenant. Its `select` adds the tenant filter, its
`get` turns "exists in another tenant" into the same `NotFound` as "does not exist", and
its `add` stamps the tenant on new rows — so no call site filters by `tenant_id` by hand
(a test greps for that).
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import Delete, Select, Update, delete, func, select, update
from sqlalchemy.orm import Session

from crm_platform.errors import FieldError, NotFound, ValidationFailed

M = TypeVar("M")
MAX_ID = 2**63 - 1  # BIGINT; larger numbers cannot name a row


def is_valid_id(ident: Any) -> bool:
    return isinstance(ident, int) and not isinstance(ident, bool) and 1 <= ident <= MAX_ID


class TenantScope:
    def __init__(self, session: Session, tenant_id: int) -> None:
        self.session = session
        self.tenant_id = tenant_id

    def select(self, model: type[M], *criteria: Any) -> Select[tuple[M]]:
        """`SELECT model WHERE tenant_id = :tenant AND criteria`."""
        return select(model).where(model.tenant_id == self.tenant_id, *criteria)  # type: ignore[attr-defined]

    def update(self, model: type, *criteria: Any) -> Update:
        """`UPDATE model … WHERE tenant_id = :tenant AND criteria` (add `.values(…)`)."""
        return update(model).where(model.tenant_id == self.tenant_id, *criteria  # type: ignore[attr-defined]
                                   ).execution_options(synchronize_session=False)

    def delete(self, model: type, *criteria: Any) -> Delete:
        """`DELETE FROM model WHERE tenant_id = :tenant AND criteria`."""
        return delete(model).where(model.tenant_id == self.tenant_id, *criteria  # type: ignore[attr-defined]
                                   ).execution_options(synchronize_session=False)

    def filter(self, statement: Select[Any], model: type) -> Select[Any]:
        """Add this tenant's filter for `model` to an arbitrary statement (joins, counts)."""
        return statement.where(model.tenant_id == self.tenant_id)  # type: ignore[attr-defined]

    def find(self, model: type[M], ident: Any) -> M | None:
        """The row with primary key `ident` in this tenant, or None."""
        if not is_valid_id(ident):
            return None
        return self.session.scalars(self.select(model, model.id == ident)).first()  # type: ignore[attr-defined]

    def get(self, model: type[M], ident: Any, resource: str) -> M:
        """The row or `NotFound` — identical for missing and other-tenant rows."""
        row = self.find(model, ident)
        if row is None:
            raise NotFound("resource_not_found", resource=resource, id=ident)
        return row

    def reference(self, model: type[M], ident: Any, path: str, resource: str) -> M:
        """Resolve a reference given in input; a dangling one is a field error at `path`."""
        row = self.find(model, ident)
        if row is None:
            raise ValidationFailed(
                fields=[FieldError(path, "no_such_reference", {"resource": resource,
                                                              "value": ident})]
            )
        return row

    def with_tenant(self, statement: Select[Any]) -> Select[Any]:
        """`statement` also reading this scope's tenant row: one statement, not two."""
        from crm_platform.models import Tenant

        return statement.join(Tenant, Tenant.id == self.tenant_id).add_columns(Tenant)

    def count(self, model: type, *criteria: Any) -> int:
        statement = self.filter(select(func.count()).select_from(model), model)
        return self.session.scalar(statement.where(*criteria)) or 0

    def lock_tenant(self) -> None:
        """Serialize this tenant's guarded changes (cycles, last admin) on PostgreSQL.

        `SELECT … FOR UPDATE` on the tenant row; SQLite serializes all writers anyway.
        """
        from crm_platform.models import Tenant

        self.session.execute(select(Tenant.id).where(Tenant.id == self.tenant_id)
                             .with_for_update())

    def add(self, row: M) -> M:
        """Stamp `row` with this tenant and add it to the session."""
        row.tenant_id = self.tenant_id  # type: ignore[attr-defined]
        self.session.add(row)
        return row
