"""Importing a sheet into a form: map the columns, check every row, write — or not.

1. **Read** the file (`import_files`): a bad file is refused whole, before anything else.
2. **Map** each column to a field by key or label, English or Chinese (`客户名称` finds the
   field labelled so); `options.columns` overrides ({"Header": "field" | null to ignore}).
   A column that matches nothing is an error, never silently dropped.
3. **Check** every row the way a person's typing is checked (lenient input mode) and
   against existing records and earlier rows by the match keys: `insert` reports a
   duplicate, `skip_duplicates` skips it, `upsert` updates the record it matches (blank
   cells leave its values alone).
4. **Write** — unless it is a dry run, or `all_or_nothing` and any row failed: new records
   in bulk (with their history), updates one by one through the record service. On
   PostgreSQL, new records are sent chunk by chunk from a thread (inside a savepoint,
   undone if the import ends up writing nothing) while the next chunks are checked,
   existing and referenced records being looked up on a second connection: the database
   inserts while Python checks (not with auto-numbers, nor in `upsert`).

Small files run inside the request; larger ones (over `SYNC_ROWS` rows) run as a job and
report progress. Permissions are the record service's: create (and update, for upsert,
within the caller's update scope); hidden and read-only fields cannot be columns.
"""

from __future__ import annotations

import csv
import io
import threading
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from queue import Queue
from typing import Any

from flask import Flask
from sqlalchemy import update
from sqlalchemy.orm import Session

from crm_platform.auth.login import principal_for
from crm_platform.auth.principal import Principal
from crm_platform.db import Database, database, utcnow
from crm_platform.errors import Conflict, Forbidden, LoomError, NotFound
from crm_platform.gc_tuning import fewer_collections
from crm_platform.i18n import render_error
from crm_platform.models import Form, Import, Record, RecordHistory, User
from crm_platform.scoping import TenantScope
from crm_platform.services import records as record_service
from crm_platform.services.bulk_insert import (
    Prepared,
    copy_text,
    draw_ids,
    insert_rows,
    insert_with_ids,
    prepare,
    write,
)
from crm_platform.services.duplicates import match_keys
from crm_platform.services.import_files import ImportFileError, Sheet, read_sheet
from crm_platform.services.record_access import Access, access_for, in_scope
from form_engine.compiler import CompiledField, CompiledForm
from form_engine.context import ValidationContext
from form_engine.errors import CoercionError
from form_engine.validation import input_values, validate

MODES = ("insert", "upsert", "skip_duplicates")
ON_ERROR = ("all_or_nothing", "valid_only")
SYNC_ROWS = 2_000          # more rows than this run as a job
MAX_ROW_ERRORS = 10_000    # kept for the report and the error CSV; all are counted
CHUNK = 500                # rows checked against the database at once
_PROGRESS_EVERY = 2_000


@dataclass
class Outcome:
    """What a row will do: create, update (record id + patch), skip, or fail."""

    action: str
    data: dict[str, Any] = field(default_factory=dict)
    record_id: int | None = None


# -- starting --------------------------------------------------------------------------
def start_import(scope: TenantScope, actor: Principal, form: Form, content: bytes,
                 filename: str, options: Mapping[str, Any]) -> Import:
    """Check the file and its columns now (a bad one is refused, nothing stored); run a
    small file at once, queue a large one. Returns the import (status done or queued)."""
    mode = options.get("mode", "insert")
    access = access_for(scope, actor, form)
    if not access.can_create:
        raise Forbidden("record_create_forbidden")
    if mode == "upsert" and access.update == "none":
        raise Forbidden("record_update_forbidden")
    _, compiled = record_service.current_version(scope, form)
    sheet = read_sheet(content, filename)
    columns = map_columns(compiled, sheet.headers, options.get("columns"), access)
    match_on = _match_on(compiled, options.get("match_on"), mode)
    job = Import(form_id=form.id, created_by_id=actor.acting_user_id, status="queued",
                 dry_run=bool(options.get("dry_run")), mode=mode,
                 on_error=options.get("on_error", "all_or_nothing"), locale=actor.locale,
                 filename=filename[:255] or "upload", format=sheet.format,
                 encoding=sheet.encoding, options={"columns": dict(zip(
                     sheet.headers, [columns.get(i) for i in range(len(sheet.headers))],
                     strict=True)), "match_on": match_on},
                 total_rows=len(sheet.rows), row_errors=[])
    if len(sheet.rows) <= SYNC_ROWS:
        scope.add(job)
        scope.session.flush()
        _Importer(scope, actor, form, compiled, job, sheet, access).run()
        return job
    job.content = content
    return job


def queue(app: Flask, scope: TenantScope, job: Import) -> Import:
    """Store a queued import in its own committed transaction, then hand it to a worker."""
    db = database(app)
    with db.transaction() as session:
        job.tenant_id = scope.tenant_id
        session.add(job)
        session.flush()
        job_id = job.id
    from crm_platform.jobs import enqueue

    enqueue(app, "import", job_id)
    return job


def run_import_job(app: Flask, import_id: int) -> None:
    """The job: run a queued import (again, if a worker died with it: nothing was written,
    the writes are one transaction)."""
    db = database(app)
    with db.transaction() as session:
        job = session.get(Import, import_id)
        if job is None or job.status not in ("queued", "running"):
            return
        tenant_id, job.status, job.started_at = job.tenant_id, "running", utcnow()
        locale = job.locale
    try:
        with db.transaction() as session:
            scope = TenantScope(session, tenant_id)
            job = scope.get(Import, import_id, "import")
            form = scope.get(Form, job.form_id, "form")
            actor = _actor(scope, job)
            _, compiled = record_service.current_version(scope, form)
            sheet = read_sheet(job.content or b"", job.filename)
            columns = {index: key for index, key in enumerate(
                job.options["columns"].get(header) for header in sheet.headers)
                if key is not None}
            importer = _Importer(scope, actor, form, compiled, job, sheet,
                                 access_for(scope, actor, form), columns=columns,
                                 progress=lambda done: _progress(db, import_id, done))
            importer.run()
            job.content = None
    except LoomError as error:
        _fail(db, import_id, render_error(error, locale))
    except Exception as error:  # recorded on the import, then raised for rq's retry
        failure = render_error(LoomError("import_failed"), locale)
        _fail(db, import_id, {**failure, "detail": type(error).__name__})
        raise


def _actor(scope: TenantScope, job: Import) -> Principal:
    """The importer, as they are now (a deactivated user's queued import does not run)."""
    user = scope.find(User, job.created_by_id) if job.created_by_id else None
    if user is None or not user.is_active:
        raise Forbidden("user_inactive")
    return principal_for(scope.session, user, "job")


def _progress(db: Database, import_id: int, done: int) -> None:
    with db.transaction() as session:
        session.execute(update(Import).where(Import.id == import_id)
                        .values(processed_rows=done))


def _fail(db: Database, import_id: int, error: dict[str, Any]) -> None:
    with db.transaction() as session:
        session.execute(update(Import).where(Import.id == import_id).values(
            status="failed", error=error, finished_at=utcnow(), content=None))


# -- columns ---------------------------------------------------------------------------
def _normal(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def importable(item: CompiledField) -> bool:
    return item.kind == "value"


def map_columns(compiled: CompiledForm, headers: Sequence[str],
                explicit: Mapping[str, str | None] | None, access: Access) -> dict[int, str]:
    """Column index -> field key. Headers match a field's key or label (en / zh / plain)."""
    names: dict[str, str] = {}
    for item in compiled.fields:
        labels = item.label.values() if isinstance(item.label, Mapping) else [item.label]
        for name in (item.key, *labels):
            names.setdefault(_normal(str(name)), item.key)
    explicit = dict(explicit or {})
    columns: dict[int, str] = {}
    unknown: list[str] = []
    for index, header in enumerate(headers):
        if header in explicit:
            key = explicit.pop(header)
            if key is None:
                continue  # ignored on purpose
        else:
            key = names.get(_normal(header))
            if key is None:
                unknown.append(header or f"#{index + 1}")
                continue
        item = compiled.by_key.get(key)
        if item is None or not importable(item):
            raise ImportFileError("import_column_not_importable", column=header, field=key)
        if key in access.hidden or key in access.readonly or item.read_only:
            raise ImportFileError("import_field_not_writable", column=header, field=key)
        if key in columns.values():
            raise ImportFileError("import_duplicate_column", column=header, field=key)
        columns[index] = key
    if explicit:
        raise ImportFileError("import_no_such_column", column=", ".join(sorted(explicit)))
    if unknown:
        raise ImportFileError("import_unknown_columns", columns=", ".join(unknown[:10]))
    if not columns:
        raise ImportFileError("import_no_columns")
    return columns


def _match_on(compiled: CompiledForm, given: Sequence[str] | None, mode: str) -> list[str]:
    """The fields that say two rows are the same record: given, else the form's first dedup
    key, else its first unique field."""
    if given:
        for key in given:
            item = compiled.by_key.get(key)
            if item is None or not importable(item):
                raise ImportFileError("import_bad_match_field", field=key)
        return list(given)
    dedup = compiled.definition.get("dedup") or []
    if dedup:
        return list(dedup[0])
    unique = [item.key for item in compiled.fields if item.spec.get("unique")]
    if unique:
        return unique[:1]
    if mode != "insert":
        raise ImportFileError("import_no_match_keys", mode=mode)
    return []


# -- running ---------------------------------------------------------------------------
class _Importer:
    def __init__(self, scope: TenantScope, actor: Principal, form: Form,
                 compiled: CompiledForm, job: Import, sheet: Sheet, access: Access,
                 columns: dict[int, str] | None = None, progress: Any = None) -> None:
        self.scope, self.actor, self.form, self.compiled = scope, actor, form, compiled
        self.job, self.sheet, self.access = job, sheet, access
        self.columns = columns if columns is not None else {
            index: key for index, key in enumerate(
                job.options["columns"].get(header) for header in sheet.headers)
            if key is not None}
        self.headers = {key: sheet.headers[index] for index, key in self.columns.items()}
        self.match_on: list[str] = job.options.get("match_on") or []
        self.progress = progress
        self.errors: list[dict[str, Any]] = []
        self.error_count = 0     # problems, all counted (the list keeps the first 10 000)
        self.failed: set[int] = set()   # rows with a problem
        self.seen: dict[tuple[Any, ...], int] = {}   # match key -> first row number
        self.create_context: ValidationContext | None = None
        self.seen_by_keys: dict[tuple[str, ...], dict[tuple[Any, ...], int]] = {}
        self.created_ids: list[int] = []
        self.lookups = scope  # where existing records are looked up (see _run)
        self._written: tuple[int, int | None, int | None, Any] | None = None

    def run(self) -> None:
        with fewer_collections():  # millions of short-lived rows and values, few cycles
            self._run()

    def _run(self) -> None:
        job = self.job
        rows = self.sheet.rows
        numbers = self.sheet.numbers or list(range(2, len(rows) + 2))
        streams = self._streams()
        savepoint = None
        if streams:  # what the copier sends stays only if the import writes
            savepoint = self.scope.session.begin_nested()
            self.scope.session.connection()  # SAVEPOINT now, before the first row is sent
        if not streams:
            outcomes = self._check_all(rows, numbers, None)
        else:
            # Existing records are looked up on a connection of their own while this one
            # writes: they are the committed ones — all there are, as nothing of this
            # import's is committed (its own rows are matched in memory).
            engine = self.scope.session.get_bind().engine
            with Session(bind=engine) as lookups:
                self.lookups = TenantScope(lookups, self.scope.tenant_id)
                # checking rows resolves through the lookups connection, never this one
                self.create_context = record_service.validation_context(
                    self.lookups, self.actor, self.form, mode="input")
                self.written()  # before the copier owns this connection
                copier = _BackgroundCopy(self.scope.session.connection().connection
                                         .driver_connection)
                try:
                    outcomes = self._check_all(rows, numbers, copier)
                except BaseException:
                    copier.stop(cancel=True)  # the connection is free for the rollback
                    raise
                finally:
                    self.lookups = self.scope
        writes = not job.dry_run and not (job.on_error == "all_or_nothing"
                                          and self.error_count)
        if savepoint is not None:  # settled first: a rollback expires what changed since
            if writes:
                savepoint.commit()
            else:
                savepoint.rollback()
                self.created_ids = []
        job.processed_rows = len(rows)
        counts = {"create": 0, "update": 0, "skip": 0}
        creates = [(number, o) for number, o in outcomes if o.action == "create"]
        for number, outcome in outcomes:
            if outcome.action == "update" and writes and not self.apply_update(number,
                                                                               outcome):
                continue
            counts[outcome.action] = counts.get(outcome.action, 0) + 1
        if writes and creates:
            if not streams:
                self.insert(creates)
            self.run_automations()
        job.created_count = counts["create"] if writes or job.dry_run else 0
        job.updated_count = counts["update"] if writes or job.dry_run else 0
        job.skipped_count = counts["skip"]
        job.error_count = len(self.failed)
        job.row_errors = self.errors
        job.status = "done"
        job.finished_at = utcnow()

    def _check_all(self, rows: list[list[Any]], numbers: list[int],
                   copier: _BackgroundCopy | None) -> list[tuple[int, Outcome]]:
        """Every row checked, chunk by chunk; with a copier, each chunk's new records are
        handed to it and written while the next chunks are checked (all_or_nothing
        stops handing them over at the first problem; the savepoint is rolled back)."""
        job = self.job
        outcomes: list[tuple[int, Outcome]] = []
        for start in range(0, len(rows), CHUNK):
            chunk = list(zip(numbers[start:start + CHUNK], rows[start:start + CHUNK],
                             strict=True))
            prepared, keys, existing = self.matched(chunk)
            found, typed = self.checked(prepared, keys, existing)
            decided = list(self.constraints(found, typed))
            outcomes.extend(decided)
            if copier is not None and not (job.on_error == "all_or_nothing"
                                           and self.error_count):
                creates = [(number, outcome) for number, outcome in decided
                           if outcome.action == "create"]
                if creates:
                    copier.put(self.streamed(creates))
            done = min(start + CHUNK, len(rows))
            if self.progress is not None and (done % _PROGRESS_EVERY < CHUNK
                                              or done == len(rows)):
                self.progress(done)
        if copier is not None:
            copier.finish()
        return outcomes

    def _streams(self) -> bool:
        """Whether new records are written while later rows are checked: on PostgreSQL,
        for a file of more than one chunk, when checking a row can do without the
        import's own connection — references and related rollups are resolved on the
        lookups connection, but auto-numbers are drawn in the import's transaction and an
        update in `upsert` reads its record there."""
        return not (self.job.dry_run or self.job.mode == "upsert" or self.compiled.autonumbers
                    or len(self.sheet.rows) <= CHUNK
                    or self.scope.session.get_bind().dialect.name != "postgresql")

    # -- checking ------------------------------------------------------------------------
    def context(self, **options: Any) -> ValidationContext:
        """One context for every create (its evaluator is reused); one per update."""
        if not options:
            if self.create_context is None:
                self.create_context = record_service.validation_context(
                    self.scope, self.actor, self.form, mode="input")
            return self.create_context
        return record_service.validation_context(self.scope, self.actor, self.form,
                                                 mode="input", **options)

    def row_data(self, cells: list[Any]) -> dict[str, Any]:
        data = {}
        for index, key in self.columns.items():
            cell = cells[index]
            if cell is None or (isinstance(cell, str) and not cell.strip()):
                continue  # blank: the default on create, unchanged on update
            data[key] = cell
        return data

    def match_value(self, data: Mapping[str, Any]) -> tuple[Any, ...] | None:
        values = []
        for key in self.match_on:
            if key not in data:
                return None
            try:
                value = self.compiled.by_key[key].lenient(data[key])
            except CoercionError:
                return None  # validation reports it
            values.append(record_service.json_ready(value))
        return tuple(values) if values else None

    def matched(self, chunk: list[tuple[int, list[Any]]]
                ) -> tuple[list[tuple[int, dict[str, Any]]], dict[int, Any], dict[Any, int]]:
        """The chunk's rows as data, their match keys, and the records those match."""
        prepared = [(number, self.row_data(cells)) for number, cells in chunk]
        keys = {number: self.match_value(data) for number, data in prepared}
        existing = match_keys(self.lookups, self.form, self.match_on,
                              {key for key in keys.values() if key is not None})
        return prepared, keys, existing

    def checked(self, prepared: list[tuple[int, dict[str, Any]]], keys: dict[int, Any],
                existing: dict[Any, int]
                ) -> tuple[list[tuple[int, Outcome]], dict[int, dict[str, Any]]]:
        """Each row checked against the form and its match: what to do with it."""
        outcomes: list[tuple[int, Outcome]] = []
        typed: dict[int, dict[str, Any]] = {}
        for number, data in prepared:
            typed[number] = data
            key = keys[number]
            found = existing.get(key) if key is not None else None
            earlier = self.seen.get(key) if key is not None else None
            mode = self.job.mode
            if mode == "skip_duplicates" and (found is not None or earlier is not None):
                outcomes.append((number, Outcome("skip", record_id=found)))
                continue
            if mode == "insert" and found is not None:
                self.row_error(number, self.match_on[0], "import_existing_record",
                               {"record": found, "keys": ", ".join(self.match_on)}, data)
                continue
            if mode != "skip_duplicates" and earlier is not None:
                self.row_error(number, self.match_on[0], "import_duplicate_row",
                               {"row": earlier}, data)
                continue
            if mode == "upsert" and found is not None:
                outcome = self.check_update(number, data, found)
            else:
                outcome = self.check_create(number, data)
            if outcome is not None:
                if key is not None:
                    self.seen.setdefault(key, number)
                outcomes.append((number, outcome))
        return outcomes, typed

    def constraints(self, outcomes: list[tuple[int, Outcome]],
                    typed: dict[int, dict[str, Any]]) -> Iterator[tuple[int, Outcome]]:
        """`unique` fields and the form's other dedup keys, against existing records and
        earlier rows of the file — what a save through the API checks, for every row
        (the match keys were checked above)."""
        checks = [([item.key], "not_unique") for item in self.compiled.fields
                  if item.spec.get("unique") and [item.key] != self.match_on]
        checks += [(list(keys), "import_existing_record")
                   for keys in self.compiled.definition.get("dedup", [])
                   if list(keys) != self.match_on]
        refused: dict[int, str] = {}   # row -> "error" or "skip"
        for keys, code in checks:
            wanted: dict[int, tuple[Any, ...]] = {}
            for number, outcome in outcomes:
                if outcome.action == "skip" or number in refused:
                    continue
                values = tuple(outcome.data.get(key) for key in keys)
                if all(value is not None and not isinstance(value, list | dict)
                       for value in values):
                    wanted[number] = values
            existing = match_keys(self.lookups, self.form, keys, set(wanted.values()))
            seen = self.seen_by_keys.setdefault(tuple(keys), {})
            skip = code == "import_existing_record" and self.job.mode == "skip_duplicates"
            actions = dict(outcomes)
            for number, values in wanted.items():
                found = existing.get(values)
                if found is not None and found != actions[number].record_id:
                    if skip:
                        refused[number] = "skip"
                        continue
                    params = ({"record": found, "field": keys[0]} if code == "not_unique"
                              else {"record": found, "keys": ", ".join(keys)})
                    self.row_error(number, keys[0], code, params, typed[number])
                    refused[number] = "error"
                elif values in seen and seen[values] != number:
                    if skip:
                        refused[number] = "skip"
                        continue
                    self.row_error(number, keys[0], "import_duplicate_row",
                                   {"row": seen[values]}, typed[number])
                    refused[number] = "error"
                else:
                    seen.setdefault(values, number)
        for number, outcome in outcomes:
            verdict = refused.get(number)
            if verdict is None:
                yield number, outcome
            elif verdict == "skip":
                yield number, Outcome("skip")

    def check_create(self, number: int, data: dict[str, Any]) -> Outcome | None:
        result = validate(self.compiled, data, self.context())
        if not result.ok:
            for problem in result.errors:
                self.row_error(number, problem.path, problem.code,
                               {"text": problem.message(self.actor.locale)}, data)
            return None
        return Outcome("create", record_service.json_ready(result.data))

    def check_update(self, number: int, data: dict[str, Any], record_id: int
                     ) -> Outcome | None:
        record = self.scope.find(Record, record_id)
        if record is None or not in_scope(self.scope, self.actor, self.access.update, record):
            self.row_error(number, self.match_on[0], "import_update_forbidden",
                           {"record": record_id}, data)
            return None
        compiled = self.compiled
        stored = record_service.current_data(self.scope, self.form, record)
        candidate = {**input_values(compiled, stored), **data}
        result = validate(compiled, candidate, self.context(existing=stored,
                                                            record_id=record_id))
        if not result.ok:
            for problem in result.errors:
                self.row_error(number, problem.path, problem.code,
                               {"text": problem.message(self.actor.locale)}, data)
            return None
        normalized = record_service.json_ready(result.data)
        return Outcome("update", {key: normalized[key] for key in data}, record_id)

    def row_error(self, number: int, path: str, code: str, params: dict[str, Any],
                  data: Mapping[str, Any] | None = None) -> None:
        self.error_count += 1
        self.failed.add(number)
        if len(self.errors) >= MAX_ROW_ERRORS:
            return
        key = path.split("[")[0].split(".")[0]
        message = params.get("text") or render_error(
            LoomError(code, **params), self.actor.locale)["message"]
        value = (data or {}).get(key)
        self.errors.append({"row": number, "column": self.headers.get(key, ""),
                            "field": key or None, "value": None if value is None
                            else str(value)[:200], "code": code, "message": message})

    # -- writing -------------------------------------------------------------------------
    def insert(self, creates: list[tuple[int, Outcome]]) -> None:
        for start in range(0, len(creates), 1000):
            batch = creates[start:start + 1000]
            rows = self.record_rows(batch)
            ids = insert_with_ids(self.scope.session, Record.__table__, rows)
            self.created_ids.extend(ids)
            insert_rows(self.scope.session, RecordHistory.__table__,
                        self.history_rows(ids, batch))

    def streamed(self, creates: list[tuple[int, Outcome]]) -> list[Prepared]:
        """One chunk's new records and their history as COPY text, ready for the copier
        (made here, so the sender only sends); their ids are drawn on the lookups
        connection (a sequence is not transactional)."""
        dialect = self.scope.session.get_bind().dialect
        rows = self.record_rows(creates)
        ids = draw_ids(self.lookups.session, Record.__table__, len(rows))
        for row, new_id in zip(rows, ids, strict=True):
            row["id"] = new_id
        self.created_ids.extend(ids)
        ready = [prepare(dialect, Record.__table__, rows),
                 prepare(dialect, RecordHistory.__table__, self.history_rows(ids, creates))]
        for rows_of_table in ready:
            rows_of_table.payload = copy_text(rows_of_table)
            rows_of_table.values = []
        return ready

    def written(self) -> tuple[int, int | None, int | None, Any]:
        """The form version, writer, department and time new records are written with."""
        if self._written is None:
            version, _ = record_service.current_version(self.scope, self.form)
            self._written = (version.version, self.actor.acting_user_id,
                             record_service.department_of(self.scope, self.actor), utcnow())
        return self._written

    def record_rows(self, batch: list[tuple[int, Outcome]]) -> list[dict[str, Any]]:
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
                data = record_service.json_ready(numbered.data)
                outcome.data = data
            rows.append({"tenant_id": self.scope.tenant_id, "form_id": self.form.id,
                         "form_version": form_version, "data": data,
                         "owner_id": actor_id, "department_id": department,
                         "created_by_id": actor_id, "updated_by_id": actor_id,
                         "version": 1, "locked": False, "created_at": now,
                         "updated_at": now})
        return rows

    def history_rows(self, ids: list[int], batch: list[tuple[int, Outcome]]
                     ) -> list[dict[str, Any]]:
        form_version, actor_id, _department, now = self.written()
        comment = f"import {self.job.id}"
        return [{"tenant_id": self.scope.tenant_id, "record_id": record_id, "action": "create",
                 "version": 1, "form_version": form_version, "actor_id": actor_id,
                 # what changes_between({}, data) gives: every value that is set
                 "changes": {key: [None, value] for key, value in outcome.data.items()
                             if value is not None},
                 "comment": comment, "at": now}
                for record_id, (_n, outcome) in zip(ids, batch, strict=True)]

    def run_automations(self) -> None:
        """The form's `created` rules, for each imported record — as for one created
        through the API (skipped at once when the form has no rules)."""
        from crm_platform.services.automations import has_rules, on_change

        if not self.created_ids or not has_rules(self.scope, self.form):
            return
        self.scope.session.flush()
        for record_id in self.created_ids:
            record = self.scope.find(Record, record_id)
            if record is not None:
                on_change(self.scope, self.actor, self.form, record, "created", None)

    def apply_update(self, number: int, outcome: Outcome) -> bool:
        """Update one matched record; a failure (changed or locked meanwhile) is that row's
        error, or — all or nothing — the end of the whole import."""
        if self.job.on_error == "all_or_nothing":
            try:
                record_service.update_record(self.scope, self.actor, self.form,
                                             outcome.record_id or 0, outcome.data)
            except LoomError as error:
                raise Conflict("import_write_failed", row=number,
                               detail=render_error(error, self.actor.locale)["message"]
                               ) from error
            return True
        try:
            with self.scope.session.begin_nested():
                record_service.update_record(self.scope, self.actor, self.form,
                                             outcome.record_id or 0, outcome.data)
            return True
        except LoomError as error:
            body = render_error(error, self.actor.locale)
            self.row_error(number, "", error.code, {"text": body["message"]})
            return False


class _BackgroundCopy:
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


# -- reading back ----------------------------------------------------------------------
def get_import(scope: TenantScope, actor: Principal, import_id: int) -> Import:
    """An import its creator (or a tenant admin) may see; anything else is a 404."""
    job = scope.find(Import, import_id)
    if job is None or not (actor.is_tenant_admin or job.created_by_id == actor.user_id):
        raise NotFound("resource_not_found", resource="import", id=import_id)
    return job


def errors_csv(job: Import) -> bytes:
    """The row errors as a CSV Excel opens (UTF-8 with BOM; formula-like text neutralised)."""
    from crm_platform.services.record_export import neutralise as safe_cell

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    chinese = job.locale == "zh"
    writer.writerow(["行", "列", "字段", "值", "错误代码", "说明"] if chinese
                    else ["row", "column", "field", "value", "code", "message"])
    for error in job.row_errors:
        writer.writerow([error["row"], safe_cell(error["column"]), error["field"] or "",
                         safe_cell(error["value"] or ""), error["code"],
                         safe_cell(error["message"])])
    return b"\xef\xbb\xbf" + buffer.getvalue().encode("utf-8")


def describe(job: Import) -> dict[str, Any]:
    return {
        "id": job.id, "status": job.status, "dry_run": job.dry_run, "mode": job.mode,
        "on_error": job.on_error, "filename": job.filename, "format": job.format,
        "encoding": job.encoding, "columns": job.options.get("columns", {}),
        "match_on": job.options.get("match_on", []),
        "total_rows": job.total_rows, "processed_rows": job.processed_rows,
        "created": job.created_count, "updated": job.updated_count,
        "skipped": job.skipped_count, "failed_rows": job.error_count,
        "row_errors": job.row_errors[:1000], "error": job.error,
        "written": job.status == "done" and not job.dry_run and not (
            job.on_error == "all_or_nothing" and job.error_count),
        "created_at": job.created_at, "finished_at": job.finished_at,
    }
