"""All ORM models, imported here so `Base.metadata` knows every table."""

from crm_platform.models.security import ApiToken, LoginThrottle
from crm_platform.models.tenancy import Department, Role, Tenant, TenantStatus, User, UserRole

__all__ = [
    "ApiToken",
    "Department",
    "LoginThrottle",
    "Role",
    "Tenant",
    "TenantStatus",
    "User",
    "UserRole",
]
