"""Apps, their forms, and each form's immutable published versions."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Boolean, Date, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from crm_platform.db import Base, IdType, JSONType, Timestamp, tenant_fk, utcnow
from crm_platform.models.keys import RowId, references, tenant_key

UNKNOWN_DAY = date(1970, 1, 1)   # Form.dated_as_of: not yet looked at (after a publish)


class App(Base):
    __tablename__ = "apps"
    __table_args__ = (tenant_key(), *references(("created_by_id", "users", "SET NULL")),
                      UniqueConstraint("tenant_id", "key"))

    id: Mapped[RowId]
    tenant_id: Mapped[int] = tenant_fk()
    key: Mapped[str] = mapped_column(String(63))
    name: Mapped[Any] = mapped_column(JSONType)          # text or {en, zh}
    description: Mapped[Any] = mapped_column(JSONType, default=None, nullable=True)
    created_by_id: Mapped[int | None] = mapped_column(IdType)
    created_at: Mapped[Timestamp]


class Form(Base):
    """A form: its working draft and a pointer to the current published version."""

    __tablename__ = "forms"
    __table_args__ = (tenant_key(),
                      *references(("app_id", "apps", "CASCADE"),
                                  ("draft_updated_by_id", "users", "SET NULL")),
                      UniqueConstraint("tenant_id", "app_id", "key"))

    id: Mapped[RowId]
    tenant_id: Mapped[int] = tenant_fk()
    app_id: Mapped[int] = mapped_column(IdType)
    key: Mapped[str] = mapped_column(String(63))
    draft: Mapped[dict[str, Any]] = mapped_column(JSONType)
    published_version: Mapped[int | None] = mapped_column(Integer)
    draft_updated_by_id: Mapped[int | None] = mapped_column(IdType)
    created_at: Mapped[Timestamp]
    draft_updated_at: Mapped[Timestamp] = mapped_column(onupdate=utcnow)
    # Counts the draft's saves: an edit made on an older revision is refused, not written
    # over someone else's (the builder's conflict).
    draft_revision: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The day (tenant's zone) its records' date-dependent formulas and rollups were last
    # worked out for (`records.dated`); None: it has none. UNKNOWN until first looked at.
    dated_as_of: Mapped[date | None] = mapped_column(Date, default=UNKNOWN_DAY,
                                                     server_default="1970-01-01")


class FormDraftStep(Base):
    """One change of a form's draft made in the builder, with the draft before and after
    it, so the designers can undo it and redo it (the newest steps of each form are kept)."""

    __tablename__ = "form_draft_steps"
    __table_args__ = (tenant_key(), *references(("form_id", "forms", "CASCADE")),
                      Index(None, "tenant_id", "form_id", "revision"))

    id: Mapped[RowId]
    tenant_id: Mapped[int] = tenant_fk()
    form_id: Mapped[int] = mapped_column(IdType)
    revision: Mapped[int] = mapped_column(Integer)  # the draft revision the step made
    before: Mapped[dict[str, Any]] = mapped_column(JSONType)
    after: Mapped[dict[str, Any]] = mapped_column(JSONType)
    undone: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[Timestamp]


class FormVersion(Base):
    """A published definition; never changed after it is written."""

    __tablename__ = "form_versions"
    __table_args__ = (tenant_key(),
                      *references(("form_id", "forms", "CASCADE"),
                                  ("published_by_id", "users", "SET NULL")),
                      UniqueConstraint("tenant_id", "form_id", "version"),
                      Index(None, "tenant_id", "form_id"))

    id: Mapped[RowId]
    tenant_id: Mapped[int] = tenant_fk()
    form_id: Mapped[int] = mapped_column(IdType)
    version: Mapped[int] = mapped_column(Integer)
    definition: Mapped[dict[str, Any]] = mapped_column(JSONType)
    diff: Mapped[dict[str, Any]] = mapped_column(JSONType)
    impact: Mapped[dict[str, Any]] = mapped_column(JSONType)
    migrations: Mapped[dict[str, Any]] = mapped_column(JSONType)
    published_by_id: Mapped[int | None] = mapped_column(IdType)
    published_at: Mapped[Timestamp]


class SavedView(Base):
    """A saved arrangement of a form's records — a list (columns, sort, filter, search) or
    a kanban board (grouped by a select field, with a total) — personal to its owner, or
    shared with some roles or everyone in the tenant."""

    __tablename__ = "saved_views"
    __table_args__ = (tenant_key(),
                      *references(("form_id", "forms", "CASCADE"),
                                  ("owner_id", "users", "CASCADE")),
                      Index(None, "tenant_id", "form_id"))

    id: Mapped[RowId]
    tenant_id: Mapped[int] = tenant_fk()
    form_id: Mapped[int] = mapped_column(IdType)
    owner_id: Mapped[int] = mapped_column(IdType)
    name: Mapped[Any] = mapped_column(JSONType)          # text or {en, zh}
    kind: Mapped[str] = mapped_column(String(16))        # list | kanban
    definition: Mapped[dict[str, Any]] = mapped_column(JSONType)
    visibility: Mapped[str] = mapped_column(String(16))  # personal | roles | everyone
    roles: Mapped[list[str]] = mapped_column(JSONType)   # role keys, for "roles"
    created_at: Mapped[Timestamp]
    updated_at: Mapped[Timestamp] = mapped_column(onupdate=utcnow)


class TemplateInstall(Base):
    """An app installed from a template: which template, which version, and the bundle
    as it was installed (without its sample records) — the base of the next upgrade's
    three-way merge. One per app."""

    __tablename__ = "template_installs"
    __table_args__ = (tenant_key(), *references(("app_id", "apps", "CASCADE")),
                      UniqueConstraint("tenant_id", "app_id"))

    id: Mapped[RowId]
    tenant_id: Mapped[int] = tenant_fk()
    app_id: Mapped[int] = mapped_column(IdType)
    template_key: Mapped[str] = mapped_column(String(63))
    version: Mapped[str] = mapped_column(String(40))
    bundle: Mapped[dict[str, Any]] = mapped_column(JSONType)
    # A newer version offered on the gallery page (a shipped one, or a file), kept while
    # its conflicts are resolved; cleared once applied or cancelled.
    pending: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    installed_by_id: Mapped[int | None] = mapped_column(IdType)
    installed_at: Mapped[Timestamp]
    upgraded_at: Mapped[Timestamp] = mapped_column(onupdate=utcnow)


class TemplateTask(Base):
    """An install asked for on the gallery page, run as a job: the page follows it, and
    may be left and come back to. `bundle` is a file's document (none for a shipped
    template); `result` the app made ({"app", "form"}) or the error body, in the asker's
    language."""

    __tablename__ = "template_tasks"
    __table_args__ = (tenant_key(), *references(("requested_by_id", "users", "CASCADE")))

    id: Mapped[RowId]
    tenant_id: Mapped[int] = tenant_fk()
    requested_by_id: Mapped[int] = mapped_column(IdType)
    template_key: Mapped[str | None] = mapped_column(String(63), nullable=True)
    bundle: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    app_key: Mapped[str | None] = mapped_column(String(63), nullable=True)
    sample_data: Mapped[bool] = mapped_column(Boolean, default=True)
    locale: Mapped[str] = mapped_column(String(8), default="en")
    status: Mapped[str] = mapped_column(String(16), default="queued")  # running, done, failed
    result: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    created_at: Mapped[Timestamp]
    updated_at: Mapped[Timestamp] = mapped_column(onupdate=utcnow)
