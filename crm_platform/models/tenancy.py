"""Tenants and the people in them: users, departments (a tree), roles."""

from __future__ import annotations

import enum

from sqlalchemy import Boolean, Index, String, Text, UniqueConstraint, and_, true
from sqlalchemy.orm import Mapped, foreign, mapped_column, relationship

from crm_platform.db import Base, IdType, IntPK, Timestamp, tenant_fk, utcnow
from crm_platform.models.keys import RowId, references, tenant_key


class TenantStatus(enum.StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"


class Tenant(Base):
    __tablename__ = "tenants"

    id: Mapped[IntPK]
    slug: Mapped[str] = mapped_column(String(63), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default=TenantStatus.ACTIVE)
    # The one tenant that holds platform administrators; never listed or suspended.
    is_platform: Mapped[bool] = mapped_column(Boolean, default=False)
    default_locale: Mapped[str] = mapped_column(String(8), default="en")
    default_region: Mapped[str] = mapped_column(String(2), default="CN")
    # IANA zone for "today", date-relative automations and naive date-times in imports.
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    # A duplicate the caller may not read names its owner (whom to ask), or only "an
    # administrator" when the company keeps owners private.
    show_duplicate_owner: Mapped[bool] = mapped_column(Boolean, default=True,
                                                       server_default=true())
    created_at: Mapped[Timestamp]
    updated_at: Mapped[Timestamp] = mapped_column(onupdate=utcnow)

    @property
    def is_active(self) -> bool:
        return self.status == TenantStatus.ACTIVE


class Department(Base):
    __tablename__ = "departments"
    __table_args__ = (
        tenant_key(),
        *references(("parent_id", "departments", "RESTRICT")),
        *references(("head_id", "users", "SET NULL"), use_alter=True),
        Index(None, "tenant_id", "parent_id"),
    )

    id: Mapped[RowId]
    tenant_id: Mapped[int] = tenant_fk()
    name: Mapped[str] = mapped_column(String(200))
    parent_id: Mapped[int | None] = mapped_column(IdType)
    head_id: Mapped[int | None] = mapped_column(IdType)
    created_at: Mapped[Timestamp]
    updated_at: Mapped[Timestamp] = mapped_column(onupdate=utcnow)


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        tenant_key(),
        *references(("manager_id", "users", "SET NULL"),
                    ("department_id", "departments", "SET NULL")),
        UniqueConstraint("tenant_id", "email"),
        Index(None, "tenant_id", "department_id"),
        Index(None, "tenant_id", "manager_id"),
    )

    id: Mapped[RowId]
    tenant_id: Mapped[int] = tenant_fk()
    email: Mapped[str] = mapped_column(String(254))
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    locale: Mapped[str] = mapped_column(String(8), default="en")
    timezone: Mapped[str | None] = mapped_column(String(64))  # None: the tenant's
    manager_id: Mapped[int | None] = mapped_column(IdType)
    department_id: Mapped[int | None] = mapped_column(IdType)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    is_platform_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[Timestamp]
    updated_at: Mapped[Timestamp] = mapped_column(onupdate=utcnow)

    roles: Mapped[list[Role]] = relationship(
        secondary="user_roles", order_by="Role.id", viewonly=True, lazy="selectin",
        primaryjoin=lambda: and_(foreign(UserRole.user_id) == User.id,
                                 foreign(UserRole.tenant_id) == User.tenant_id),
        secondaryjoin=lambda: and_(foreign(UserRole.role_id) == Role.id,
                                   foreign(UserRole.tenant_id) == Role.tenant_id),
    )
    # Read with the user in one statement when a web session signs a request in (login.py).
    tenant: Mapped[Tenant] = relationship(viewonly=True)


class Role(Base):
    __tablename__ = "roles"
    __table_args__ = (tenant_key(), UniqueConstraint("tenant_id", "key"))

    id: Mapped[RowId]
    tenant_id: Mapped[int] = tenant_fk()
    key: Mapped[str] = mapped_column(String(63))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    # Built-in roles (admin, designer) are created with the tenant and cannot be removed.
    is_system: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[Timestamp]


class UserRole(Base):
    __tablename__ = "user_roles"
    __table_args__ = (
        tenant_key("user_id", "role_id"),
        *references(("user_id", "users", "CASCADE"), ("role_id", "roles", "CASCADE")),
        Index(None, "tenant_id", "role_id"),
    )

    user_id: Mapped[int] = mapped_column(IdType, autoincrement=False)
    role_id: Mapped[int] = mapped_column(IdType, autoincrement=False)
    tenant_id: Mapped[int] = tenant_fk()
