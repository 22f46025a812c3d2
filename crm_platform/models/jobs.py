"""Background jobs as rows: the database, not the queue, knows what must run."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from crm_platform.db import Base, IdType, IntPK, JSONType, OptionalTimestamp, Timestamp


class Job(Base):
    """One job: a handler's name and its JSON arguments, its state and its lease.

    `queued` until a worker claims it (`running`, leased until `lease_until` and the lease
    renewed while it works), then `done` or, after its last attempt, `failed` with the
    reason. A queued job is handed to the queue (`dispatched_at`) after the transaction
    that made it commits; the sweeper hands it over again if it is still queued a while
    later (the queue lost it), and takes back a running job whose lease ran out (its
    worker died)."""

    __tablename__ = "jobs"
    __table_args__ = (Index(None, "status", "not_before"),)

    id: Mapped[IntPK]
    # the tenant the job works for; none for platform-wide work (planner statistics)
    tenant_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("tenants.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(64))
    args: Mapped[list[Any]] = mapped_column(JSONType)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    not_before: Mapped[Timestamp]
    dispatched_at: Mapped[OptionalTimestamp]
    lease_until: Mapped[OptionalTimestamp]
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[Timestamp]
