"""Configuring role × form permissions (who may create, read, change and delete records
of a form, in which scope, which fields they may not see or change, and whether they see
and may claim the records nobody owns — the pool)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete

from crm_platform.auth.principal import Principal
from crm_platform.errors import FieldError, ValidationFailed
from crm_platform.models import Form, FormPermission, Role
from crm_platform.scoping import TenantScope


def _field_keys(form: Form) -> set[str]:
    return {field["key"] for field in form.draft.get("fields", [])}


def permissions_of(scope: TenantScope, actor: Principal, form: Form) -> list[dict[str, Any]]:
    actor.require_designer()
    roles = {role.id: role.key for role in scope.session.scalars(scope.select(Role))}
    rows = scope.session.scalars(scope.select(FormPermission, FormPermission.form_id == form.id)
                                 .order_by(FormPermission.role_id))
    return [{"role": roles.get(row.role_id, str(row.role_id)), "can_create": row.can_create,
             "read": row.read_scope, "update": row.update_scope, "delete": row.delete_scope,
             "hidden_fields": list(row.hidden_fields),
             "readonly_fields": list(row.readonly_fields), "pool": row.pool} for row in rows]


def set_permissions(scope: TenantScope, actor: Principal, form: Form,
                    items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Replace the form's permissions with `items` (one per role); all checked first."""
    actor.require_designer()
    roles = {role.key: role.id for role in scope.session.scalars(scope.select(Role))}
    fields = _field_keys(form)
    problems: list[FieldError] = []
    seen: set[str] = set()
    for index, item in enumerate(items):
        if item["role"] not in roles:
            problems.append(FieldError(f"items[{index}].role", "no_such_reference",
                                       {"resource": "role", "value": item["role"]}))
        if item["role"] in seen:
            problems.append(FieldError(f"items[{index}].role", "taken",
                                       {"value": item["role"]}))
        seen.add(item["role"])
        for option in ("hidden_fields", "readonly_fields"):
            for position, key in enumerate(item.get(option, [])):
                if key not in fields:
                    problems.append(FieldError(f"items[{index}].{option}[{position}]",
                                               "unknown_filter_field", {"value": key}))
    if problems:
        raise ValidationFailed(fields=problems, count=len(problems))
    scope.session.execute(scope.filter(delete(FormPermission), FormPermission)
                          .where(FormPermission.form_id == form.id))
    for item in items:
        scope.add(FormPermission(
            form_id=form.id, role_id=roles[item["role"]], can_create=item.get("can_create", False),
            read_scope=item.get("read", "none"), update_scope=item.get("update", "none"),
            delete_scope=item.get("delete", "none"),
            hidden_fields=list(item.get("hidden_fields", [])),
            readonly_fields=list(item.get("readonly_fields", [])),
            pool=bool(item.get("pool", False))))
    scope.session.flush()
    return permissions_of(scope, actor, form)
