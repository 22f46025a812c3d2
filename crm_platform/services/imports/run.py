"""Running an import: every row checked the way a person's typing is checked (lenient
input mode) and against existing records and earlier rows by the match keys — `insert`
reports a duplicate, `skip_duplicates` skips it, `upsert` updates the record it matches
(blank cells leave its values alone) — then written, unless it is a dry run or
`all_or_nothing` and any row failed. New records are written in bulk
(`import_writes`), updates one by one through the record service. On PostgreSQL new
records are sent chunk by chunk from a thread, inside a savepoint undone if the import
ends up writing nothing, while the next chunks are checked, existing and referenced
records being looked up on a second connection: the database inserts while Python
checks (not with auto-numbers, nor in `upsert`)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from crm_platform.auth.principal import Principal
from crm_platform.db import utcnow
from crm_platform.errors import Conflict, LoomError
from crm_platform.gc_tuning import fewer_collections
from crm_platform.i18n import render_error
from crm_platform.models import Form, Import, Record
from crm_platform.scoping import TenantScope, is_valid_id
from crm_platform.services.imports.columns import RECORD_ID
from crm_platform.services.imports.files import Sheet
from crm_platform.services.records import changes
from crm_platform.services.records import operations as record_service
from crm_platform.services.records.access import Access, in_scope, may_read
from crm_platform.services.records.derived import refresh_related
from crm_platform.services.records.duplicates import (
    lock_unique_fields,
    match_keys,
    readable_ids,
    who_to_ask,
)
from crm_platform.services.records.new_records import BackgroundCopy, NewRecords, Outcome
from crm_platform.services.storage.json_values import json_ready
from form_engine.compiled import CompiledForm
from form_engine.context import ValidationContext
from form_engine.errors import CoercionError
from form_engine.validation import input_values, validate

MAX_ROW_ERRORS = 10_000    # kept for the report and the error CSV; all are counted
CHUNK = 500                # rows checked against the database at once
_PROGRESS_EVERY = 2_000
# an import writing this many records has the planner's statistics refreshed after it
# (`data_fields.refresh_statistics`)
REFRESH_STATISTICS_ROWS = 10_000


def record_id_of(cell: Any) -> int | None:
    """A record id as a sheet holds it (`12`, `"12"`, `12.0` from Excel); else None."""
    if isinstance(cell, bool):
        return None
    if isinstance(cell, str):
        cell = cell.strip()
        if not cell.isdigit() or len(cell) > 19:
            return None
        cell = int(cell)
    elif isinstance(cell, Decimal) and cell == cell.to_integral_value():
        cell = int(cell)
    return cell if is_valid_id(cell) else None


class Importer:
    """One import run: its rows checked chunk by chunk, then written (or not), and the
    counts and row errors set on the import."""

    def __init__(self, scope: TenantScope, actor: Principal, form: Form,
                 compiled: CompiledForm, job: Import, sheet: Sheet, access: Access,
                 progress: Any = None) -> None:
        self.scope, self.actor, self.form, self.compiled = scope, actor, form, compiled
        self.job, self.sheet, self.access = job, sheet, access
        # column index -> field key, as mapped when the import started
        self.columns = {index: key for index, key in enumerate(
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
        self.new = NewRecords(scope, actor, form, compiled, f"import {job.id}")
        self.lookups = scope  # where existing records are looked up (see _run)

    def run(self) -> None:
        with fewer_collections():  # millions of short-lived rows and values, few cycles
            self._run()

    def _run(self) -> None:
        job = self.job
        rows = self.sheet.rows
        numbers = self.sheet.numbers or list(range(2, len(rows) + 2))
        streams = self._streams()
        # unique values are checked against what is committed: no other writer of this
        # form's unique fields may commit until this import has (PostgreSQL)
        lock_unique_fields(self.scope, self.form, self.compiled)
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
                self.new.written()  # before the copier owns this connection
                copier = BackgroundCopy(self.scope.session.connection().connection
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
                self.new.created_ids = []
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
                self.new.insert(creates)
            self.scope.session.flush()
            refresh_related(self.scope, self.form, [(None, outcome.data)
                                                    for _number, outcome in creates])
            self.run_automations()
        if writes and counts["create"] + counts["update"] >= REFRESH_STATISTICS_ROWS:
            from crm_platform.jobs import enqueue_after_commit

            enqueue_after_commit(self.scope.session, "refresh_statistics")
        job.created_count = counts["create"] if writes or job.dry_run else 0
        job.updated_count = counts["update"] if writes or job.dry_run else 0
        job.skipped_count = counts["skip"]
        job.error_count = len(self.failed)
        job.row_errors = self.errors
        job.status = "done"
        job.finished_at = utcnow()

    def _check_all(self, rows: list[list[Any]], numbers: list[int],
                   copier: BackgroundCopy | None) -> list[tuple[int, Outcome]]:
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
                    copier.put(self.new.streamed(creates, self.lookups))
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
        """A row's cells by field key (and its record id under `RECORD_ID`, if any)."""
        data = {}
        for index, key in self.columns.items():
            cell = cells[index]
            if cell is None or (isinstance(cell, str) and not cell.strip()):
                continue  # blank: the default on create, unchanged on update
            data[key] = cell
        return data

    def match_value(self, data: Mapping[str, Any]) -> tuple[Any, ...] | None:
        if self.match_on == [RECORD_ID]:
            ident = record_id_of(data.get(RECORD_ID))
            return (ident,) if ident is not None else None
        values = []
        for key in self.match_on:
            if key not in data:
                return None
            try:
                value = self.compiled.by_key[key].lenient(data[key])
            except CoercionError:
                return None  # validation reports it
            values.append(json_ready(value))
        return tuple(values) if values else None

    def matched(self, chunk: list[tuple[int, list[Any]]]
                ) -> tuple[list[tuple[int, dict[str, Any]]], dict[int, Any], dict[Any, int]]:
        """The chunk's rows as data, their match keys, and the records those match."""
        prepared = [(number, self.row_data(cells)) for number, cells in chunk]
        keys = {number: self.match_value(data) for number, data in prepared}
        wanted = {key for key in keys.values() if key is not None}
        if self.match_on == [RECORD_ID]:
            return prepared, keys, self.records_named(wanted)
        existing = match_keys(self.lookups, self.form, self.match_on, wanted)
        return prepared, keys, existing

    def records_named(self, wanted: set[tuple[Any, ...]]) -> dict[tuple[Any, ...], int]:
        """Of the record ids a sheet's `id` column names, the live records of this form
        the caller may read (any other id is "no such record", whatever it is)."""
        ids = [ident for (ident,) in wanted]
        live: set[int] = set()
        for start in range(0, len(ids), CHUNK):
            live.update(self.lookups.session.scalars(self.lookups.select(
                Record, Record.form_id == self.form.id, Record.deleted_at.is_(None),
                Record.id.in_(ids[start:start + CHUNK])).with_only_columns(Record.id)))
        return {(ident,): ident
                for ident in readable_ids(self.lookups, self.actor, self.form, live)}

    def checked(self, prepared: list[tuple[int, dict[str, Any]]], keys: dict[int, Any],
                existing: dict[Any, int]
                ) -> tuple[list[tuple[int, Outcome]], dict[int, dict[str, Any]]]:
        """Each row checked against the form and its match: what to do with it."""
        outcomes: list[tuple[int, Outcome]] = []
        typed: dict[int, dict[str, Any]] = {}
        visible = readable_ids(self.lookups, self.actor, self.form, set(existing.values()))
        for number, data in prepared:
            ident = data.pop(RECORD_ID, None)
            typed[number] = data
            key = keys[number]
            if ident is not None and self.match_on == [RECORD_ID] and (
                    key is None or key not in existing):
                # an id that names no record of this form the caller may read: never
                # a new record in its place, and never a word on what it is
                self.row_error(number, RECORD_ID, "import_no_such_record",
                               {"record": ident}, {RECORD_ID: ident})
                continue
            found = existing.get(key) if key is not None else None
            earlier = self.seen.get(key) if key is not None else None
            mode = self.job.mode
            if mode == "skip_duplicates" and (found is not None or earlier is not None):
                outcomes.append((number, Outcome("skip", record_id=found)))
                continue
            if mode == "insert" and found is not None:
                self.duplicate_error(number, self.match_on, "import_existing_record", found,
                                     found in visible, data)
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
            visible = readable_ids(self.lookups, self.actor, self.form,
                                   set(existing.values()))
            seen = self.seen_by_keys.setdefault(tuple(keys), {})
            skip = code == "import_existing_record" and self.job.mode == "skip_duplicates"
            actions = dict(outcomes)
            for number, values in wanted.items():
                found = existing.get(values)
                if found is not None and found != actions[number].record_id:
                    if skip:
                        refused[number] = "skip"
                        continue
                    self.duplicate_error(number, keys, code, found, found in visible,
                                         typed[number])
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
        return Outcome("create", json_ready(result.data))

    def check_update(self, number: int, data: dict[str, Any], record_id: int
                     ) -> Outcome | None:
        record = self.scope.find(Record, record_id)
        if record is None or not may_read(self.scope, self.actor, self.access, record):
            self.duplicate_error(number, self.match_on, "import_existing_record", record_id,
                                 False, data)
            return None
        if not in_scope(self.scope, self.actor, self.access.update, record):
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
        normalized = json_ready(result.data)
        return Outcome("update", {key: normalized[key] for key in data}, record_id)

    def duplicate_error(self, number: int, keys: list[str], code: str, found: int,
                        readable: bool, data: Mapping[str, Any]) -> None:
        """A row matching an existing record it may not be written over: the record named
        if the importer may read it; otherwise only that it exists, and whom to ask."""
        if readable:
            params = ({"record": found, "field": keys[0]} if code == "not_unique"
                      else {"record": found, "keys": ", ".join(keys)})
            self.row_error(number, keys[0], code, params, data)
            return
        record = self.lookups.find(Record, found)
        self.row_error(number, keys[0], f"{code}_unseen", {
            "field": keys[0], "keys": ", ".join(keys),
            "owner": who_to_ask(self.lookups, record.owner_id if record else None)}, data)

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

    def run_automations(self) -> None:
        """What follows a create (the form's `created` rules), for each imported record —
        as for one created through the API."""
        changes.announce_created(self.scope, self.actor, self.form, self.new.created_ids)

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
