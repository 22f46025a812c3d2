"""Imports: one row per uploaded sheet — its options, progress, counts and row errors."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from crm_platform.db import Base, IdType, JSONType, OptionalTimestamp, Timestamp, tenant_fk
from crm_platform.models.keys import RowId, references, tenant_key


class Import(Base):
    __tablename__ = "imports"
    __table_args__ = (tenant_key(),
                      *references(("form_id", "forms", "CASCADE"),
                                  ("created_by_id", "users", "SET NULL")),
                      Index(None, "tenant_id", "form_id", "id"))

    id: Mapped[RowId]
    tenant_id: Mapped[int] = tenant_fk()
    form_id: Mapped[int] = mapped_column(IdType)
    created_by_id: Mapped[int | None] = mapped_column(IdType)
    # queued -> running -> done | failed (a file or job error: nothing written)
    status: Mapped[str] = mapped_column(String(16))
    dry_run: Mapped[bool] = mapped_column(Boolean)
    mode: Mapped[str] = mapped_column(String(16))        # insert | upsert | skip_duplicates
    on_error: Mapped[str] = mapped_column(String(16))    # all_or_nothing | valid_only
    locale: Mapped[str] = mapped_column(String(8))
    filename: Mapped[str] = mapped_column(String(255))
    format: Mapped[str | None] = mapped_column(String(8))
    encoding: Mapped[str | None] = mapped_column(String(16))
    # {"columns": {header: field key | null}, "match_on": [field keys]}
    options: Mapped[dict[str, Any]] = mapped_column(JSONType)
    total_rows: Mapped[int] = mapped_column(Integer, default=0)
    processed_rows: Mapped[int] = mapped_column(Integer, default=0)
    created_count: Mapped[int] = mapped_column(Integer, default=0)
    updated_count: Mapped[int] = mapped_column(Integer, default=0)
    skipped_count: Mapped[int] = mapped_column(Integer, default=0)
    error_count: Mapped[int] = mapped_column(Integer, default=0)   # rows that failed
    # [{"row", "column", "field", "value", "code", "message"}], the first 10 000
    row_errors: Mapped[list[dict[str, Any]]] = mapped_column(JSONType)
    # A file-level refusal or a job failure: {"code", "message", "params"}
    error: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    # The uploaded file while the job waits; cleared when it has run.
    content: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[Timestamp]
    started_at: Mapped[OptionalTimestamp]
    finished_at: Mapped[OptionalTimestamp]
