"""How platform objects look in API responses."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from crm_platform.models import ApiToken, App, Department, Form, FormVersion, Role, Tenant, User


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def tenant(row: Tenant) -> dict[str, Any]:
    return {"id": row.id, "slug": row.slug, "name": row.name, "status": row.status,
            "default_locale": row.default_locale, "default_region": row.default_region,
            "timezone": row.timezone,
            "created_at": iso(row.created_at), "updated_at": iso(row.updated_at)}


def user(row: User) -> dict[str, Any]:
    return {"id": row.id, "email": row.email, "name": row.name, "locale": row.locale,
            "timezone": row.timezone, "manager_id": row.manager_id,
            "department_id": row.department_id,
            "is_active": row.is_active,
            "roles": [{"id": r.id, "key": r.key, "name": r.name} for r in row.roles],
            "created_at": iso(row.created_at), "updated_at": iso(row.updated_at)}


def department(row: Department) -> dict[str, Any]:
    return {"id": row.id, "name": row.name, "parent_id": row.parent_id, "head_id": row.head_id,
            "created_at": iso(row.created_at), "updated_at": iso(row.updated_at)}


def role(row: Role) -> dict[str, Any]:
    return {"id": row.id, "key": row.key, "name": row.name, "description": row.description,
            "is_system": row.is_system, "created_at": iso(row.created_at)}


def token(row: ApiToken) -> dict[str, Any]:
    return {"id": row.id, "user_id": row.user_id, "name": row.name, "prefix": row.prefix,
            "created_at": iso(row.created_at), "expires_at": iso(row.expires_at),
            "last_used_at": iso(row.last_used_at), "revoked_at": iso(row.revoked_at)}


def app(row: App) -> dict[str, Any]:
    return {"id": row.id, "key": row.key, "name": row.name, "description": row.description,
            "created_at": iso(row.created_at)}


def form(row: Form, app_key: str, published: FormVersion | None) -> dict[str, Any]:
    return {
        "key": row.key, "app": app_key, "draft": row.draft,
        "draft_updated_at": iso(row.draft_updated_at),
        "published_version": row.published_version,
        "published": None if published is None else {
            "version": published.version, "definition": published.definition,
            "published_at": iso(published.published_at)},
        "has_unpublished_changes": published is None or published.definition != row.draft,
    }


def form_summary(row: Form) -> dict[str, Any]:
    return {"key": row.key, "label": row.draft.get("label", row.key),
            "published_version": row.published_version}


def version(row: FormVersion) -> dict[str, Any]:
    return {"version": row.version, "published_at": iso(row.published_at),
            "published_by": row.published_by_id, "diff": row.diff, "impact": row.impact}
