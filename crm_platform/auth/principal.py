"""Who is calling: resolved once per request from a bearer token or the session cookie."""

from __future__ import annotations

from dataclasses import dataclass

from crm_platform.errors import Forbidden


@dataclass(frozen=True)
class Principal:
    user_id: int
    tenant_id: int
    email: str
    locale: str
    is_platform_admin: bool
    is_tenant_admin: bool
    role_keys: frozenset[str]
    via: str  # "token" or "session"
    token_id: int | None = None

    def require_platform_admin(self) -> None:
        if not self.is_platform_admin:
            raise Forbidden("platform_admin_required")

    def require_tenant_admin(self) -> None:
        if not self.is_tenant_admin:
            raise Forbidden("tenant_admin_required")

    def has_role(self, key: str) -> bool:
        return key in self.role_keys
