"""Finding records as a caller sees them: the form without the fields their roles hide
(those cannot be filtered, sorted or searched on — that would reveal them), the records in
their read scope, narrowed by a filter and a search. The API's list and export and the
workspace's list and kanban pages all start here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from crm_platform.auth.principal import Principal
from crm_platform.models import Form
from crm_platform.scoping import TenantScope
from crm_platform.services.forms import definitions as form_service
from crm_platform.services.records import operations as record_service
from crm_platform.services.records import query as record_query
from crm_platform.services.records.access import Access
from crm_platform.services.storage import filters as record_filters
from form_engine.compiled import CompiledForm


@dataclass(frozen=True)
class Found:
    form: CompiledForm                # as the caller sees it
    listing: record_query.Listing
    access: Access


def find_records(scope: TenantScope, actor: Principal, form: Form, filter_text: Any = None,
                 search: str | None = None, deleted: bool = False) -> Found:
    """The records of `form` the caller may read matching `filter_text` (the filter
    language as JSON text, or already parsed) and `search`; a bad filter is a 422 naming
    its `filter…` path."""
    _version, compiled = record_service.current_version(scope, form)
    access = record_service.access(scope, actor, form)
    compiled = record_query.without(compiled, access.hidden)
    found = record_service.listing(scope, actor, form, deleted)
    if filter_text is not None:
        parsed = (record_filters.parse_filter(filter_text) if isinstance(filter_text, str)
                  else filter_text)
        found = found.narrowed(record_filters.plan_filter(compiled, parsed,
                                                          form_service.now_in(scope)))
    if search:
        found = found.narrowed(record_query.search(compiled, search,
                                                   scope.session.get_bind().dialect.name))
    return Found(compiled, found, access)
