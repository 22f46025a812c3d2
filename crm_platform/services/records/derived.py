"""Derived values kept current: related rollups follow their records.

A rollup over related records (`{"type": "rollup", "related": {"form": "purchase",
"link_field": "member"}, ...}`) is stored with its record, so lists filter and sort on it
like any field. To keep it current whenever it is read, every write of a record — created,
changed, moved to another parent, deleted, restored; through the API, a batch, an import
or a flow — refreshes the records it points at through a lookup that some rollup counts:
their formulas and rollups are worked out again (`form_engine.validation.derived_values`)
and stored if they changed. A refreshed record's own dependants follow, a few levels up.

No update is lost when children are written concurrently: each parent is locked (in id
order, so two writers never wait on each other crosswise) *before* its rollups are
computed, so a second writer waits for the first to commit and then counts its child too.
A refresh is not a change of the record's own: no history row, no new version; it is
announced as `recomputed`, so the record's rules that watch a changed field run (a member
whose spending crosses 10 000 becomes gold as the purchase is saved).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam

from crm_platform.models import Form, FormVersion, Record
from crm_platform.scoping import TenantScope, is_valid_id
from crm_platform.services.forms import definitions as form_service
from crm_platform.services.records import changes as record_changes
from crm_platform.services.records.resolver import PageResolver, PlatformResolver
from crm_platform.services.storage.json_values import json_ready
from form_engine.compiled import CompiledForm
from form_engine.context import ValidationContext
from form_engine.validation import derived_values

MAX_DEPTH = 3    # a rollup over a rollup over a rollup …
# (app id, published versions of its forms) -> {form key: [(parent form id, link field)]}
_DEPENDANTS: dict[tuple[Any, ...], dict[str, list[tuple[int, str]]]] = {}


def _dependants(scope: TenantScope, form: Form) -> list[tuple[int, str]]:
    """(form id, link field) of the forms of the app with a rollup over `form`'s records."""
    # the current versions, by more than their numbers (ids of a restored database may
    # repeat; a version published anew has a new time), as the compile cache keys them
    published = tuple(tuple(row) for row in scope.session.execute(scope.filter(scope.select(
        Form, Form.app_id == form.app_id).join(
        FormVersion, (FormVersion.form_id == Form.id)
        & (FormVersion.version == Form.published_version)).with_only_columns(
        Form.id, FormVersion.id, FormVersion.published_at).order_by(Form.id), FormVersion)))
    key = (scope.tenant_id, form.app_id, published)
    if key not in _DEPENDANTS:
        found: dict[str, list[tuple[int, str]]] = {}
        for form_id, _version, _at in published:
            parent = scope.session.get(Form, (scope.tenant_id, form_id))
            compiled = form_service.compiled(scope, form_service.version_row(scope, parent))
            # every (child form, link field) pair: two forms may link here through
            # lookups of the same name (follow_up.customer, contract.customer)
            links = sorted({(item.spec["related"]["form"], item.spec["related"]["link_field"])
                            for item in compiled.computed
                            if item.type == "rollup" and "related" in item.spec})
            for child, link_field in links:
                found.setdefault(child, []).append((form_id, link_field))
        if len(_DEPENDANTS) > 1000:
            _DEPENDANTS.clear()
        _DEPENDANTS[key] = found
    return _DEPENDANTS[key].get(form.key, [])


def refresh_related(scope: TenantScope, form: Form,
                    changes: Iterable[tuple[Mapping[str, Any] | None,
                                            Mapping[str, Any] | None]],
                    depth: int = 0, now: datetime | None = None) -> None:
    """After records of `form` changed from `before` to `after` (None: not there), refresh
    the records they point at (before and after: a child that moved leaves one parent for
    another) whose rollups count them (`now`: the time they are worked out for)."""
    dependants = _dependants(scope, form)
    if not dependants or depth >= MAX_DEPTH:
        return
    changes = list(changes)

    for parent_form_id, link_field in dependants:
        ids = sorted({value for pair in changes for data in pair if data is not None
                      for value in [data.get(link_field)] if is_valid_id(value)})
        if not ids:
            continue
        parent_form = scope.session.get(Form, (scope.tenant_id, parent_form_id))
        refreshed = []
        for start in range(0, len(ids), 500):
            parents = scope.session.scalars(scope.select(
                Record, Record.form_id == bindparam(None, parent_form_id,
                                                    literal_execute=True),
                Record.id.in_(ids[start:start + 500]), Record.deleted_at.is_(None))
                .order_by(Record.id).with_for_update().execution_options(
                    populate_existing=True)).all()
            page = Page(scope, parent_form, [parent.id for parent in parents], now)
            for parent in parents:
                before = parent.data
                derived = json_ready(page.recomputed(parent))
                if any(before.get(key) != value for key, value in derived.items()):
                    parent.data = {**before, **derived}
                    refreshed.append((parent, before))
        scope.session.flush()
        if refreshed:
            refresh_related(scope, parent_form, [(before, parent.data)
                                                 for parent, before in refreshed],
                             depth + 1, now)
            record_changes.announce_recomputed(scope, parent_form, refreshed)


class Page:
    """Records of one form worked out again together: each version compiled once, each
    related rollup asked once for the page (`PageResolver`), at one moment (`now`)."""

    def __init__(self, scope: TenantScope, form: Form, record_ids: list[int],
                 now: datetime | None = None) -> None:
        self.scope, self.form, self.now = scope, form, now
        self.resolver = PageResolver(PlatformResolver(scope, form), record_ids)
        self._compiled: dict[int, CompiledForm] = {}

    def recomputed(self, record: Record) -> dict[str, Any]:
        """The record's computed fields (formulas, rollups) as they compute now, under
        the form version it is stored in."""
        compiled = self._compiled.get(record.form_version)
        if compiled is None:
            compiled = self._compiled[record.form_version] = form_service.compiled(
                self.scope, form_service.version_row(self.scope, self.form,
                                                     record.form_version))
        context = ValidationContext(resolver=self.resolver, record_id=record.id,
                                    system=True)
        if self.now is not None:
            now = self.now
            context.clock = lambda: now
        values = derived_values(compiled, record.data, context)
        return {item.key: values[item.key] for item in compiled.computed}
