"""Approval flows: drafts and immutable versions; instances, their tasks and timers;
in-app notifications; and the outbox of effects that leave the transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from crm_platform.db import (
    Base,
    IdType,
    JSONType,
    OptionalTimestamp,
    Timestamp,
    tenant_fk,
    utcnow,
)
from crm_platform.models.keys import RowId, references, tenant_key


class Flow(Base):
    """An approval flow or an automation rule of one form of an app (DESIGN §5): both are
    drafted, checked, published as immutable versions and rolled back the same way."""

    __tablename__ = "flows"
    __table_args__ = (tenant_key(),
                      *references(("app_id", "apps", "CASCADE"), ("form_id", "forms", "CASCADE"),
                                  ("draft_updated_by_id", "users", "SET NULL")),
                      UniqueConstraint("tenant_id", "app_id", "key"))

    id: Mapped[RowId]
    tenant_id: Mapped[int] = tenant_fk()
    kind: Mapped[str] = mapped_column(String(16), default="approval",
                                      server_default="approval")   # approval | automation
    app_id: Mapped[int] = mapped_column(IdType)
    form_id: Mapped[int] = mapped_column(IdType)
    key: Mapped[str] = mapped_column(String(63))
    draft: Mapped[dict[str, Any]] = mapped_column(JSONType)
    published_version: Mapped[int | None] = mapped_column(Integer)
    draft_updated_by_id: Mapped[int | None] = mapped_column(IdType)
    created_at: Mapped[Timestamp]
    draft_updated_at: Mapped[Timestamp] = mapped_column(onupdate=utcnow)


class FlowVersion(Base):
    """A published flow; never changed. Running instances keep the version they began on."""

    __tablename__ = "flow_versions"
    __table_args__ = (tenant_key(),
                      *references(("flow_id", "flows", "CASCADE"),
                                  ("published_by_id", "users", "SET NULL")),
                      UniqueConstraint("tenant_id", "flow_id", "version"),
                      Index(None, "tenant_id", "flow_id"))

    id: Mapped[RowId]
    tenant_id: Mapped[int] = tenant_fk()
    flow_id: Mapped[int] = mapped_column(IdType)
    version: Mapped[int] = mapped_column(Integer)
    definition: Mapped[dict[str, Any]] = mapped_column(JSONType)
    # the form version it was checked against, and the version it restores (rollback)
    form_version: Mapped[int] = mapped_column(Integer)
    restores: Mapped[int | None] = mapped_column(Integer)
    published_by_id: Mapped[int | None] = mapped_column(IdType)
    published_at: Mapped[Timestamp]


class FlowInstance(Base):
    """One record's trip through one version of a flow; `state` is the engine's."""

    __tablename__ = "flow_instances"
    __table_args__ = (tenant_key(),
                      *references(("flow_id", "flows", "CASCADE"), ("form_id", "forms", "CASCADE"),
                                  ("record_id", "records", "CASCADE"),
                                  ("submitter_id", "users", "SET NULL")),
                      Index(None, "tenant_id", "record_id"))

    id: Mapped[RowId]
    tenant_id: Mapped[int] = tenant_fk()
    flow_id: Mapped[int] = mapped_column(IdType)
    flow_version: Mapped[int] = mapped_column(Integer)
    form_id: Mapped[int] = mapped_column(IdType)
    record_id: Mapped[int] = mapped_column(IdType)
    status: Mapped[str] = mapped_column(String(16))
    state: Mapped[dict[str, Any]] = mapped_column(JSONType)
    submitter_id: Mapped[int | None] = mapped_column(IdType)
    created_at: Mapped[Timestamp]
    updated_at: Mapped[Timestamp] = mapped_column(onupdate=utcnow)


class FlowTask(Base):
    """A task of an instance as the inbox reads it (the engine's state is the truth)."""

    __tablename__ = "flow_tasks"
    __table_args__ = (tenant_key(),
                      *references(("instance_id", "flow_instances", "CASCADE"),
                                  ("assignee_id", "users", "SET NULL")),
                      UniqueConstraint("tenant_id", "instance_id", "number"),
                      Index(None, "tenant_id", "assignee_id", "status"))

    id: Mapped[RowId]
    tenant_id: Mapped[int] = tenant_fk()
    instance_id: Mapped[int] = mapped_column(IdType)
    number: Mapped[int] = mapped_column(Integer)          # the engine's task id
    node: Mapped[str] = mapped_column(String(63))
    assignee_id: Mapped[int | None] = mapped_column(IdType)
    status: Mapped[str] = mapped_column(String(16))
    due_at: Mapped[OptionalTimestamp]
    created_at: Mapped[Timestamp]
    closed_at: Mapped[OptionalTimestamp]


class FlowTimer(Base):
    """A task's time limit: a row with a due time — the database is the source of truth."""

    __tablename__ = "flow_timers"
    __table_args__ = (tenant_key(),
                      *references(("instance_id", "flow_instances", "CASCADE")),
                      Index(None, "due_at", "fired_at"))

    id: Mapped[RowId]
    tenant_id: Mapped[int] = tenant_fk()
    instance_id: Mapped[int] = mapped_column(IdType)
    task_number: Mapped[int] = mapped_column(Integer)
    due_at: Mapped[Timestamp]
    fired_at: Mapped[OptionalTimestamp]


class Notification(Base):
    """An in-app message to one user (a task for them, a copy, a reminder, an outcome)."""

    __tablename__ = "notifications"
    __table_args__ = (tenant_key(),
                      *references(("user_id", "users", "CASCADE"),
                                  ("record_id", "records", "CASCADE"),
                                  ("instance_id", "flow_instances", "CASCADE")),
                      Index(None, "tenant_id", "user_id", "id"))

    id: Mapped[RowId]
    tenant_id: Mapped[int] = tenant_fk()
    user_id: Mapped[int] = mapped_column(IdType)
    kind: Mapped[str] = mapped_column(String(32))
    record_id: Mapped[int | None] = mapped_column(IdType)
    instance_id: Mapped[int | None] = mapped_column(IdType)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType)
    read_at: Mapped[OptionalTimestamp]
    created_at: Mapped[Timestamp]


class OutboxEntry(Base):
    """An effect that leaves the transaction (webhook, e-mail, new record), written with the
    change that caused it; a dispatcher delivers it (DESIGN §5, "nothing lost")."""

    __tablename__ = "outbox"
    __table_args__ = (tenant_key(), Index(None, "status", "next_attempt_at"))

    id: Mapped[RowId]
    tenant_id: Mapped[int] = tenant_fk()
    kind: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[Timestamp]
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[Timestamp]


class AutomationRun(Base):
    """A scheduled rule fired for a record at one occurrence (a cron time, a date, a stay
    in a state): the unique key makes it fire once, whichever worker ticks."""

    __tablename__ = "automation_runs"
    __table_args__ = (tenant_key(),
                      *references(("flow_id", "flows", "CASCADE"),
                                  ("record_id", "records", "CASCADE")),
                      UniqueConstraint("tenant_id", "flow_id", "record_id", "occurrence"))

    id: Mapped[RowId]
    tenant_id: Mapped[int] = tenant_fk()
    flow_id: Mapped[int] = mapped_column(IdType)
    record_id: Mapped[int] = mapped_column(IdType)
    occurrence: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[Timestamp]
