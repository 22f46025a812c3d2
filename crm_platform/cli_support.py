"""What the CLI does inside a transaction, kept apart from click so tests can call it."""

from __future__ import annotations

from sqlalchemy.orm import Session

from crm_platform.auth.passwords import hash_password
from crm_platform.errors import NotFound, invalid
from crm_platform.models import Role, User
from crm_platform.scoping import TenantScope
from crm_platform.services.identity_checks import check_password, normalize_email
from crm_platform.services.roles import set_user_roles
from crm_platform.services.tenants import create_tenant, tenant_by_slug


def create_user_in_tenant(session: Session, tenant_slug: str, email: str, name: str | None,
                          password: str, locale: str, role_keys: tuple[str, ...]) -> User:
    """Bootstrap a user without an acting principal (the operator at the console)."""
    tenant = tenant_by_slug(session, tenant_slug)
    if tenant is None:
        raise NotFound("resource_not_found", resource="tenant", id=tenant_slug)
    scope = TenantScope(session, tenant.id)
    email = normalize_email(email)
    if session.scalars(scope.select(User, User.email == email)).first() is not None:
        raise invalid("email", "taken", value=email)
    user = scope.add(User(email=email, name=name or email.split("@")[0], locale=locale,
                          password_hash=hash_password(check_password(password))))
    session.flush()
    role_ids = []
    for index, key in enumerate(role_keys):
        role = session.scalars(scope.select(Role, Role.key == key)).first()
        if role is None:
            raise invalid(f"role[{index}]", "no_such_reference", resource="role", value=key)
        role_ids.append(role.id)
    set_user_roles(scope, user, role_ids, "role")
    return user


def prepare_demo(session: Session, slug: str, email: str, password: str) -> bool:
    """The demo tenant and its administrator; False when they already exist."""
    if tenant_by_slug(session, slug) is not None:
        return False
    create_tenant(session, {"slug": slug, "name": "Demo Co.", "admin": {
        "email": email, "password": password, "name": "Demo Admin"}})
    return True
