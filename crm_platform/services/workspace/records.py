"""Records as lines in lists outside their form (home, inbox, notifications): where each
lives and what it is called, with no field its reader may not see."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from crm_platform.models import App, Form, Record
from crm_platform.scoping import TenantScope
from crm_platform.services.forms import definitions as form_service
from form_engine.titles import record_title


@dataclass(frozen=True)
class RecordEntry:
    """A record as a line in a list elsewhere: where it lives and what it is called."""

    app_key: str
    form_key: str
    form_label: Any
    id: int
    title: str
    at: datetime


def titled(scope: TenantScope, rows: Sequence[tuple[Record, Form, App]],
            hidden_of: dict[int, frozenset[str]]) -> dict[int, RecordEntry]:
    """Each record's entry by id; `hidden_of` maps a form's id to the fields its reader
    may not see."""
    entries = {}
    for record, form, app in rows:
        compiled = form_service.compiled(
            scope, form_service.version_row(scope, form, record.form_version))
        title = record_title(compiled, record.data, hidden_of.get(form.id, frozenset()))
        entries[record.id] = RecordEntry(app.key, form.key, compiled.label, record.id,
                                         title, record.updated_at)
    return entries
