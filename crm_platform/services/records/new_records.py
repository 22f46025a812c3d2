"""Writing many new records and their history in bulk (imports and batch creates), in the
caller's transaction: all at once after checking (`NewRecords.insert`), or on PostgreSQL
chunk by chunk from a thread while later chunks are checked (`NewRecords.streamed` makes a
chunk's COPY text, `BackgroundCopy` sends it)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from queue import Queue
from typing import Any

from crm_platform.auth.principal import Principal
from crm_platform.db import utcnow
from crm_platform.errors import Conflict
from crm_platform.models import Form, Record, RecordHistory
from crm_platform.scoping import TenantScope
from crm_platform.services.records import operations as record_service
from crm_platform.services.records.bulk_insert import (
    Prepared,
    copy_text,
    draw_ids,
    insert_rows,
    insert_with_ids,
    prepare,
    write,
)
from crm_platform.services.storage.json_values import json_ready
from form_engine.compiled import CompiledForm
from form_engine.validation import input_values, validate


@dataclass
class Outcome:
    """What a row will do: create, update (record id + patch), skip, or fail."""

    action: str
    data: dict[str, Any] = field(default_factory=dict)
    record_id: int | None = None


class NewRecords:
    """The records an import creates: their rows and history rows, written with the
    form version, writer, department and time of the import; `created_ids` in order."""

    def __init__(self, scope: TenantScope, actor: Principal, form: Form,
                 compiled: CompiledForm, comment: str | None) -> None:
        self.scope, self.actor, self.form, self.compiled = scope, actor, form, compiled
        self.comment = comment      # on each history row: which import wrote it
        self.created_ids: list[int] = []
        self._written: tuple[int, int | None, int | None, Any] | None = None

    def insert(self, creates: list[tuple[int, Outcome]]) -> None:
        """Write the new records and their history in the import's transaction."""
        for start in range(0, len(creates), 1000):
            batch = creates[start:start + 1000]
            rows = self.rows(batch)
            ids = insert_with_ids(self.scope.session, Record.__table__, rows)
            self.created_ids.extend(ids)
            insert_rows(self.scope.session, RecordHistory.__table__,
                        self.history(ids, batch))

    def streamed(self, creates: list[tuple[int, Outcome]], lookups: TenantScope
                 ) -> list[Prepared]:
        """One chunk's new records and their history as COPY text, ready for the copier
        (made here, so the sender only sends); their ids are drawn on the lookups
        connection (a sequence is not transactional)."""
        dialect = self.scope.session.get_bind().dialect
        rows = self.rows(creates)
        ids = draw_ids(lookups.session, Record.__table__, len(rows))
        for row, new_id in zip(rows, ids, strict=True):
            row["id"] = new_id
        self.created_ids.extend(ids)
        ready = [prepare(dialect, Record.__table__, rows),
                 prepare(dialect, RecordHistory.__table__, self.history(ids, creates))]
        for rows_of_table in ready:
            rows_of_table.payload = copy_text(rows_of_table)
            rows_of_table.values = []
        return ready

    def written(self) -> tuple[int, int | None, int | None, Any]:
        """The form version, writer, department and time new records are written with."""
        if self._written is None:
            version, _ = record_service.current_version(self.scope, self.form)
            self._written = (version.version, self.actor.acting_user_id,
                             self.actor.department_id, utcnow())
        return self._written

    def rows(self, batch: list[tuple[int, Outcome]]) -> list[dict[str, Any]]:
        """The records table's rows for a batch of checked rows (auto-numbers drawn now)."""
        form_version, actor_id, department, now = self.written()
        rows = []
        for number, outcome in batch:
            data = outcome.data
            if self.compiled.autonumbers:  # numbers are drawn only now, for rows written
                numbered = validate(self.compiled, input_values(self.compiled, data),
                                    record_service.validation_context(
                                        self.scope, self.actor, self.form,
                                        assign_numbers=True))
                if not numbered.ok:  # it passed the same checks moments ago
                    raise Conflict("import_write_failed", row=number,
                                   detail=numbered.errors[0].message(self.actor.locale))
                data = json_ready(numbered.data)
                outcome.data = data
            rows.append({"tenant_id": self.scope.tenant_id, "form_id": self.form.id,
                         "form_version": form_version, "data": data,
                         "owner_id": actor_id, "department_id": department,
                         "created_by_id": actor_id, "updated_by_id": actor_id,
                         "version": 1, "locked": False, "created_at": now,
                         "updated_at": now})
        return rows

    def history(self, ids: list[int], batch: list[tuple[int, Outcome]]
                ) -> list[dict[str, Any]]:
        """A `create` history row for each new record (`ids`, in the order of `batch`)."""
        form_version, actor_id, _department, now = self.written()
        comment = self.comment
        return [{"tenant_id": self.scope.tenant_id, "record_id": record_id, "action": "create",
                 "version": 1, "form_version": form_version, "actor_id": actor_id,
                 # what changes_between({}, data) gives: every value that is set
                 "changes": {key: [None, value] for key, value in outcome.data.items()
                             if value is not None},
                 "comment": comment, "at": now}
                for record_id, (_n, outcome) in zip(ids, batch, strict=True)]


class BackgroundCopy:
    """Sends prepared rows on the import's own connection (its transaction) from a
    thread, so that PostgreSQL inserts while Python checks the next rows. Batches queue
    up (a few at most: memory stays bounded); `finish` waits for all of them and raises
    what sending raised; `stop` only waits (an error is already on its way)."""

    def __init__(self, driver_connection: Any) -> None:
        self.connection = driver_connection
        self.batches: Queue[list[Prepared] | None] = Queue(maxsize=4)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._send, name="loom-import-copy",
                                       daemon=True)
        self.thread.start()

    def _send(self) -> None:
        while (batch := self.batches.get()) is not None:
            if self.error is not None:
                continue  # after a failure: take the rest off the queue, send nothing
            try:
                for rows in batch:
                    write(self.connection, "postgresql", rows)
            except BaseException as error:  # handed to the importer by finish()
                self.error = error

    def put(self, batch: list[Prepared]) -> None:
        if self.error is not None:
            self.finish()
        self.batches.put(batch)

    def stop(self, cancel: bool = False) -> None:
        """Wait until nothing is being sent; `cancel`: interrupt a send under way (the
        import is failing: its transaction will be rolled back)."""
        if self.thread.is_alive():
            if cancel:
                self.connection.cancel_safe()
            self.batches.put(None)
            self.thread.join()

    def finish(self) -> None:
        self.stop()
        if self.error is not None:
            error, self.error = self.error, None
            raise error
