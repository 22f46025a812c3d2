"""What a page shows for the ids a record holds: a user's name, a department's name, and a
looked-up record's title — the latter only for records the reader may read (else a list
would reveal what the reader may not see; the page shows the bare reference instead)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from crm_platform.auth.principal import Principal
from crm_platform.models import Department, Form, Record, User
from crm_platform.scoping import TenantScope, is_valid_id
from crm_platform.services.forms import definitions as form_service
from crm_platform.services.records.access import access_for, read_plan
from form_engine.compiled import CompiledForm
from form_engine.titles import record_title


@dataclass
class Names:
    """Display names by id: `users`, `departments`, and `records` by (form key, id)."""

    users: dict[int, str] = field(default_factory=dict)
    departments: dict[int, str] = field(default_factory=dict)
    records: dict[tuple[str, int], str] = field(default_factory=dict)


def names_for(scope: TenantScope, actor: Principal, form: Form, compiled: CompiledForm,
              rows: Iterable[Mapping[str, Any]], owners: Iterable[Any] = ()) -> Names:
    """Every name the records' `rows` (their data) and `owners` refer to, a statement per
    kind of reference (and per looked-up form)."""
    users: set[int] = {owner for owner in owners if is_valid_id(owner)}
    departments: set[int] = set()
    looked_up: dict[str, set[int]] = {}
    for data in rows:
        for item in compiled.fields:
            value = data.get(item.key)
            if not is_valid_id(value):
                continue
            if item.type == "user":
                users.add(value)
            elif item.type == "department":
                departments.add(value)
            elif item.type == "lookup":
                looked_up.setdefault(item.spec["form"], set()).add(value)
    names = Names()
    if users:
        names.users = dict(scope.session.execute(scope.select(User, User.id.in_(users))
                                                 .with_only_columns(User.id, User.name)).all())
    if departments:
        names.departments = dict(scope.session.execute(
            scope.select(Department, Department.id.in_(departments))
            .with_only_columns(Department.id, Department.name)).all())
    for key, ids in looked_up.items():
        names.records.update(_titles(scope, actor, form.app_id, key, ids))
    return names


def _titles(scope: TenantScope, actor: Principal, app_id: int, key: str, ids: set[int]
            ) -> dict[tuple[str, int], str]:
    target = scope.session.scalars(scope.select(Form, Form.app_id == app_id,
                                                Form.key == key)).first()
    if target is None or target.published_version is None:
        return {}
    access = access_for(scope, actor, target)
    if access.read == "none" and not access.pool:
        return {}
    records = scope.session.scalars(scope.select(
        Record, Record.form_id == target.id, Record.id.in_(ids), Record.deleted_at.is_(None),
        read_plan(scope, actor, access).clause())).all()
    titles = {}
    for record in records:
        compiled = form_service.compiled(
            scope, form_service.version_row(scope, target, record.form_version))
        titles[(key, record.id)] = record_title(compiled, record.data, access.hidden) or (
            f"#{record.id}")
    return titles


def active_people(scope: TenantScope, limit: int = 500) -> list[tuple[int, str]]:
    """(id, name) of the tenant's active users, by name: whom a record or a task may be
    handed to."""
    return [tuple(row) for row in scope.session.execute(
        scope.select(User, User.is_active.is_(True)).with_only_columns(User.id, User.name)
        .order_by(User.name).limit(limit)).all()]
