"""API tokens and the login-failure counters behind throttling."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm_platform.db import (
    Base,
    IdType,
    OptionalTimestamp,
    Timestamp,
    UTCDateTime,
    tenant_fk,
)
from crm_platform.models.keys import RowId, references, tenant_key

if TYPE_CHECKING:
    from crm_platform.models.tenancy import Tenant, User


class ApiToken(Base):
    """A named bearer token; only the SHA-256 of the secret is stored."""

    __tablename__ = "api_tokens"
    __table_args__ = (
        tenant_key(),
        *references(("user_id", "users", "CASCADE"), ("created_by_id", "users", "SET NULL")),
        Index(None, "tenant_id", "user_id"),
        # A token names no tenant, so it is found by its hash alone (on a distributed
        # database, in every shard); uniqueness holds within the tenant, and 240 random
        # bits never collide across tenants.
        UniqueConstraint("tenant_id", "token_hash"),
        Index(None, "token_hash"),
    )

    id: Mapped[RowId]
    tenant_id: Mapped[int] = tenant_fk()
    user_id: Mapped[int] = mapped_column(IdType)
    name: Mapped[str] = mapped_column(String(200))
    token_hash: Mapped[str] = mapped_column(String(64))
    prefix: Mapped[str] = mapped_column(String(16))
    created_by_id: Mapped[int | None] = mapped_column(IdType)
    created_at: Mapped[Timestamp]
    expires_at: Mapped[OptionalTimestamp]
    last_used_at: Mapped[OptionalTimestamp]
    revoked_at: Mapped[OptionalTimestamp]

    # Loaded with the token in one statement when a request presents it (tokens.py).
    user: Mapped[User] = relationship(
        primaryjoin="and_(foreign(ApiToken.user_id) == User.id, "
                    "foreign(ApiToken.tenant_id) == User.tenant_id)", viewonly=True)
    tenant: Mapped[Tenant] = relationship(viewonly=True)


class LoginThrottle(Base):
    """Failed sign-ins per key (tenant + e-mail, or client address) inside a window."""

    __tablename__ = "login_throttle"

    key: Mapped[str] = mapped_column(String(400), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    locked_until: Mapped[OptionalTimestamp]
