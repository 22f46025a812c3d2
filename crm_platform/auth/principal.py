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
    # the user's department as the request began: new records go to it
    department_id: int | None = None
    timezone: str = "UTC"  # IANA name: the user's own, else their tenant's
    name: str = ""  # shown in the page header: the user's name, else their e-mail
    tenant_name: str = ""

    @classmethod
    def console(cls, tenant_id: int) -> Principal:
        """The operator at the command line: a tenant administrator with no user row."""
        return cls(user_id=0, tenant_id=tenant_id, email="", locale="en",
                   is_platform_admin=False, is_tenant_admin=True,
                   role_keys=frozenset({"admin"}), via="console")

    @property
    def acting_user_id(self) -> int | None:
        """The user to record as author, None for the console."""
        return None if self.via == "console" else self.user_id

    def require_platform_admin(self) -> None:
        if not self.is_platform_admin:
            raise Forbidden("platform_admin_required")

    def require_tenant_admin(self) -> None:
        if not self.is_tenant_admin:
            raise Forbidden("tenant_admin_required")

    def require_designer(self) -> None:
        """Building apps, forms and flows: tenant administrators and the `designer` role."""
        if not (self.is_tenant_admin or "designer" in self.role_keys):
            raise Forbidden("designer_required")

    def has_role(self, key: str) -> bool:
        return key in self.role_keys
