"""Records of every form in one table (data as JSON), their history, and the sequences
behind autonumbers."""

from __future__ import annotations

from typing import Any, ClassVar

from sqlalchemy import Boolean, Index, Integer, String, Text, false
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


class Record(Base):
    """One record of one form. Adding a field never alters this table (DESIGN §3)."""

    __tablename__ = "records"
    __table_args__ = (
        tenant_key(),
        *references(("form_id", "forms", "CASCADE"), ("owner_id", "users", "SET NULL"),
                    ("department_id", "departments", "SET NULL"),
                    ("created_by_id", "users", "SET NULL"),
                    ("updated_by_id", "users", "SET NULL")),
        Index(None, "tenant_id", "form_id", "id"),
        Index(None, "tenant_id", "form_id", "owner_id"),
        Index(None, "tenant_id", "form_id", "updated_at"),
        Index(None, "tenant_id", "updated_by_id", "updated_at"),  # "my recent records"
    )

    id: Mapped[RowId]
    tenant_id: Mapped[int] = tenant_fk()
    form_id: Mapped[int] = mapped_column(IdType)
    form_version: Mapped[int] = mapped_column(Integer)
    data: Mapped[dict[str, Any]] = mapped_column(JSONType)
    owner_id: Mapped[int | None] = mapped_column(IdType)
    department_id: Mapped[int | None] = mapped_column(IdType)
    state: Mapped[str | None] = mapped_column(String(63))
    locked: Mapped[bool] = mapped_column(Boolean, default=False)
    # Optimistic lock: every change adds one; ETag / If-Match carry it.
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_by_id: Mapped[int | None] = mapped_column(IdType)
    updated_by_id: Mapped[int | None] = mapped_column(IdType)
    created_at: Mapped[Timestamp]
    updated_at: Mapped[Timestamp] = mapped_column(onupdate=utcnow)
    deleted_at: Mapped[OptionalTimestamp]

    # Every UPDATE says `WHERE version = <the version read>`: a concurrent change makes it
    # match nothing and the write fails (412) instead of overwriting — on SQLite too, where
    # SELECT … FOR UPDATE does not exist. The services set the new number themselves.
    __mapper_args__: ClassVar[dict[str, Any]] = {"version_id_col": version,
                                                   "version_id_generator": False}


class RecordHistory(Base):
    """Who changed what, when: one row per create, update, delete and restore."""

    __tablename__ = "record_history"
    __table_args__ = (
        tenant_key(),
        *references(("record_id", "records", "CASCADE"), ("actor_id", "users", "SET NULL")),
        Index(None, "tenant_id", "record_id", "id"),
    )

    id: Mapped[RowId]
    tenant_id: Mapped[int] = tenant_fk()
    record_id: Mapped[int] = mapped_column(IdType)
    action: Mapped[str] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(Integer)
    form_version: Mapped[int] = mapped_column(Integer)
    actor_id: Mapped[int | None] = mapped_column(IdType)
    # {field: [before, after]} for the fields that changed
    changes: Mapped[dict[str, Any]] = mapped_column(JSONType)
    comment: Mapped[str | None] = mapped_column(Text)
    at: Mapped[Timestamp]


class Sequence(Base):
    """The last number handed out for an autonumber field in a period."""

    __tablename__ = "sequences"
    __table_args__ = (tenant_key("form_id", "field_key", "period", on_sqlite=True),
                      *references(("form_id", "forms", "CASCADE")))

    tenant_id: Mapped[int] = tenant_fk()
    form_id: Mapped[int] = mapped_column(IdType, autoincrement=False)
    field_key: Mapped[str] = mapped_column(String(63))
    period: Mapped[str] = mapped_column(String(16))
    value: Mapped[int] = mapped_column(Integer, default=0)


class IdempotencyKey(Base):
    """A client's `Idempotency-Key` for a create: a retry returns the first result.

    Keys are the caller's own (`actor_id` is in the key; 0 for the system): another user
    sending the same key and body creates their own record and never sees this one."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (tenant_key("form_id", "actor_id", "key", on_sqlite=True),
                      *references(("form_id", "forms", "CASCADE"),
                                  ("record_id", "records", "CASCADE")))

    tenant_id: Mapped[int] = tenant_fk()
    form_id: Mapped[int] = mapped_column(IdType, autoincrement=False)
    actor_id: Mapped[int] = mapped_column(IdType, autoincrement=False)
    key: Mapped[str] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))
    record_id: Mapped[int | None] = mapped_column(IdType)
    created_at: Mapped[Timestamp]


class FormPermission(Base):
    """What holders of a role may do with the records of a form (DESIGN §6)."""

    __tablename__ = "form_permissions"
    __table_args__ = (tenant_key("form_id", "role_id", on_sqlite=True),
                      *references(("form_id", "forms", "CASCADE"),
                                  ("role_id", "roles", "CASCADE")))

    tenant_id: Mapped[int] = tenant_fk()
    form_id: Mapped[int] = mapped_column(IdType, autoincrement=False)
    role_id: Mapped[int] = mapped_column(IdType, autoincrement=False)
    can_create: Mapped[bool] = mapped_column(Boolean, default=False)
    # none | own | department | department_tree | all
    read_scope: Mapped[str] = mapped_column(String(16), default="none")
    update_scope: Mapped[str] = mapped_column(String(16), default="none")
    delete_scope: Mapped[str] = mapped_column(String(16), default="none")
    hidden_fields: Mapped[list[str]] = mapped_column(JSONType, default=list)
    readonly_fields: Mapped[list[str]] = mapped_column(JSONType, default=list)
    # Sees the records nobody owns (the customer pool) and may claim them.
    pool: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
