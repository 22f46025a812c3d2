"""The indexes of a form's published version: built by a job once the publish has
committed (`build_indexes_job`, queued by `definitions.publish_form_version`), and which of
them are not usable yet."""

from __future__ import annotations

from typing import Any

from crm_platform.models import Form
from crm_platform.scoping import TenantScope
from crm_platform.services.forms import definitions
from crm_platform.services.storage.data_fields import build_indexes, index_status
from crm_platform.services.storage.kinds import indexed_fields, search_keys
from form_engine.compiler import compile_form


def pending_indexes(scope: TenantScope, form: Form) -> list[str]:
    """The published version's indexes that are not usable yet (being built, or failed)."""
    published = definitions.compiled(scope, definitions.version_row(scope, form))
    return index_status(scope.session.get_bind().engine, form.id, indexed_fields(published),
                        search_keys(published))


def build_indexes_job(app: Any, tenant_id: int, form_id: int) -> None:
    """The job: indexes for the indexed fields and the full-text search of the form's
    published version; the form's indexes no field needs any more are dropped
    (idempotent: existing ones are kept)."""
    from crm_platform.db import database

    db = database(app)
    with db.transaction() as session:
        form = session.get(Form, (tenant_id, form_id))
        if form is None or form.published_version is None:
            return
        scope = TenantScope(session, tenant_id)
        row = definitions.version_row(scope, form)
        compiled = compile_form(row.definition, env=definitions.type_env(scope), checked=True)
        fields, searchable = indexed_fields(compiled), search_keys(compiled)
    build_indexes(db.engine, form_id, fields, searchable)
