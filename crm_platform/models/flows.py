"""Approval flows: a working draft per flow and its immutable published versions."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from crm_platform.db import Base, IdType, IntPK, JSONType, Timestamp, tenant_fk, utcnow


class Flow(Base):
    """An approval flow of one form of an app (DESIGN §5)."""

    __tablename__ = "flows"
    __table_args__ = (UniqueConstraint("tenant_id", "app_id", "key"),)

    id: Mapped[IntPK]
    tenant_id: Mapped[int] = tenant_fk()
    app_id: Mapped[int] = mapped_column(IdType, ForeignKey("apps.id", ondelete="CASCADE"))
    form_id: Mapped[int] = mapped_column(IdType, ForeignKey("forms.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(63))
    draft: Mapped[dict[str, Any]] = mapped_column(JSONType)
    published_version: Mapped[int | None] = mapped_column(Integer)
    draft_updated_by_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[Timestamp]
    draft_updated_at: Mapped[Timestamp] = mapped_column(onupdate=utcnow)


class FlowVersion(Base):
    """A published flow; never changed. Running instances keep the version they began on."""

    __tablename__ = "flow_versions"
    __table_args__ = (UniqueConstraint("tenant_id", "flow_id", "version"),
                      Index(None, "tenant_id", "flow_id"))

    id: Mapped[IntPK]
    tenant_id: Mapped[int] = tenant_fk()
    flow_id: Mapped[int] = mapped_column(IdType, ForeignKey("flows.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    definition: Mapped[dict[str, Any]] = mapped_column(JSONType)
    # the form version it was checked against, and the version it restores (rollback)
    form_version: Mapped[int] = mapped_column(Integer)
    restores: Mapped[int | None] = mapped_column(Integer)
    published_by_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("users.id", ondelete="SET NULL"))
    published_at: Mapped[Timestamp]
