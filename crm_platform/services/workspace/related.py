"""A record's related records: the records of the app's other forms whose lookup field
points at it (a customer's contacts and deals), as far as the reader may read them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from crm_platform.auth.principal import Principal
from crm_platform.models import Form, Record
from crm_platform.scoping import TenantScope
from crm_platform.services.forms import definitions as form_service
from crm_platform.services.records import operations as record_service
from crm_platform.services.records import query as record_query
from crm_platform.services.records.finding import find_records
from form_engine.titles import record_title

SHOWN = 10


@dataclass(frozen=True)
class RelatedList:
    form_key: str
    form_label: Any
    field_key: str          # the lookup field of `form_key` that points here
    field_label: Any
    records: list[tuple[int, str]]  # (id, title), newest first
    count: int
    exact: bool
    can_create: bool


def related_lists(scope: TenantScope, actor: Principal, form: Form, record: Record
                  ) -> list[RelatedList]:
    lists = []
    others = scope.session.scalars(scope.select(
        Form, Form.app_id == form.app_id, Form.published_version.is_not(None))
        .order_by(Form.id)).all()
    for other in others:
        compiled = form_service.compiled(scope, form_service.version_row(scope, other))
        for item in compiled.fields:
            if item.type != "lookup" or item.spec.get("form") != form.key:
                continue
            access = record_service.access(scope, actor, other)
            if (access.read == "none" and not access.pool) or item.key in access.hidden:
                continue
            found = find_records(scope, actor, other, {"field": item.key, "op": "eq",
                                                       "value": record.id})
            rows, _next = record_query.page(scope, found.listing,
                                            record_query.parse_sort(found.form, "-updated_at"),
                                            SHOWN, None)
            count, exact = record_query.count(scope.session, found.listing.select(scope))
            lists.append(RelatedList(
                other.key, compiled.label, item.key, item.label,
                [(row.id, record_title(found.form, row.data, found.access.hidden)
                  or f"#{row.id}") for row in rows], count, exact, found.access.can_create))
    return lists
