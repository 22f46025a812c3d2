"""Batches of up to `MAX_BATCH` records in one request: new ones through the import's bulk
path, changes one by one.

New records (`{"data"}`) are checked together, as an import checks its rows: each with
the form's compiled validator (as the API checks one record: exact JSON, no lenient
reading), permissions and hidden / read-only fields as for a single create, duplicates of
`unique` fields and dedup keys looked up in bulk — against existing records and earlier
items of the batch — then written in bulk with their history (`import_writes`), after
which the records they point at are refreshed and the form's `created` rules run for each.
Changes (`{"id", "data", "version"?}`) go through the record service one by one.

`on_error`: `valid_only` (the default) writes what is valid and reports the rest;
`all_or_nothing` writes nothing unless every item is valid — the valid ones then answer
424 `batch_not_written`. Either way the answer has one result per item, in order.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from crm_platform.auth.principal import Principal
from crm_platform.db import write_first
from crm_platform.errors import Conflict, FieldError, Forbidden, LoomError
from crm_platform.gc_tuning import fewer_collections
from crm_platform.i18n import render_error
from crm_platform.models import Form, Record
from crm_platform.scoping import TenantScope
from crm_platform.services.records import changes
from crm_platform.services.records import operations as record_service
from crm_platform.services.records.access import access_for
from crm_platform.services.records.derived import refresh_related
from crm_platform.services.records.duplicates import (
    duplicate_conflict,
    lock_unique_fields,
    match_keys,
    readable_ids,
)
from crm_platform.services.storage.json_values import json_ready
from form_engine.compiled import CompiledForm
from form_engine.validation import validate

MAX_BATCH = 1000
ON_ERROR = ("valid_only", "all_or_nothing")


def batch_write(scope: TenantScope, actor: Principal, form: Form,
                items: list[Mapping[str, Any]], locale: str,
                on_error: str = "valid_only") -> list[dict[str, Any]]:
    """One result per item, in order: `status` 201 / 200 with `id` and `version`, or the
    item's error body (see the module)."""
    with fewer_collections():  # thousands of short-lived values, as in an import
        return _batch_write(scope, actor, form, items, locale, on_error)


def _batch_write(scope: TenantScope, actor: Principal, form: Form,
                 items: list[Mapping[str, Any]], locale: str, on_error: str
                 ) -> list[dict[str, Any]]:
    results: dict[int, dict[str, Any]] = {}
    creates = [(index, item) for index, item in enumerate(items) if "id" not in item]
    written: list[tuple[int, dict[str, Any]]] = []
    savepoint = scope.session.begin_nested()
    write_first(scope.session)  # SQLite: the batch reads, then writes
    try:
        # changes first: new items are then checked against the values they leave
        for index, item in enumerate(items):
            if "id" in item:
                results[index] = _update(scope, actor, form, index, item, locale)
        if creates:
            written = _checked_creates(scope, actor, form, creates, results, locale)
        failed = [index for index, result in results.items() if "error" in result]
        if failed and on_error == "all_or_nothing":
            savepoint.rollback()
            not_written = render_error(LoomError("batch_not_written", count=len(failed)),
                                       locale)
            return [results[index] if index in failed else
                    {"index": index, "status": 424, "error": not_written}
                    for index in range(len(items))]
        for index, record in _write_creates(scope, actor, form, written):
            results[index] = {"index": index, "status": 201, "id": record,
                              "version": 1}
        savepoint.commit()
    except BaseException:
        if savepoint.is_active:
            savepoint.rollback()
        raise
    return [results[index] for index in range(len(items))]


def _error(index: int, error: LoomError, locale: str) -> dict[str, Any]:
    return {"index": index, "status": error.status, "error": render_error(error, locale)}


def _update(scope: TenantScope, actor: Principal, form: Form, index: int,
            item: Mapping[str, Any], locale: str) -> dict[str, Any]:
    try:
        with scope.session.begin_nested():
            record = record_service.update_record(scope, actor, form, item["id"],
                                                  item["data"], item.get("version"))
    except LoomError as error:
        return _error(index, error, locale)
    return {"index": index, "status": 200, "id": record.id, "version": record.version}


def _checked_creates(scope: TenantScope, actor: Principal, form: Form,
                     creates: list[tuple[int, Mapping[str, Any]]],
                     results: dict[int, dict[str, Any]], locale: str
                     ) -> list[tuple[int, dict[str, Any]]]:
    """The new items that pass every check, as they will be stored; the others' errors go
    into `results`."""
    access = access_for(scope, actor, form)
    if not access.can_create:
        for index, _item in creates:
            results[index] = _error(index, Forbidden("record_create_forbidden"), locale)
        return []
    _version, compiled = record_service.current_version(scope, form)
    lock_unique_fields(scope, form, compiled)  # no other writer adds a value meanwhile
    context = record_service.validation_context(scope, actor, form)
    checked: list[tuple[int, dict[str, Any]]] = []
    for index, item in creates:
        try:
            record_service.guard_fields(access, item["data"], None, locale)
        except LoomError as error:
            results[index] = _error(index, error, locale)
            continue
        result = validate(compiled, item["data"], context)
        if not result.ok:
            results[index] = _error(index, record_service.validation_failed(result, locale),
                                    locale)
            continue
        checked.append((index, json_ready(result.data)))
    return _without_duplicates(scope, actor, form, compiled, checked, results, locale)


def _without_duplicates(scope: TenantScope, actor: Principal, form: Form,
                        compiled: CompiledForm, checked: list[tuple[int, dict[str, Any]]],
                        results: dict[int, dict[str, Any]], locale: str
                        ) -> list[tuple[int, dict[str, Any]]]:
    """`unique` fields, then dedup keys, against existing records and earlier items (in
    bulk: one look-up per 500 values), answered as a single create would be."""
    checks = [([item.key], True) for item in compiled.fields if item.spec.get("unique")]
    checks += [(list(keys), False) for keys in compiled.definition.get("dedup", [])]
    for keys, unique in checks:
        wanted = {index: tuple(data.get(key) for key in keys) for index, data in checked}
        wanted = {index: values for index, values in wanted.items()
                  if all(v is not None and not isinstance(v, list | dict) for v in values)}
        existing = match_keys(scope, form, keys, set(wanted.values()))
        visible = readable_ids(scope, actor, form, set(existing.values()))
        earlier: dict[tuple[Any, ...], int] = {}
        refused: set[int] = set()
        for index, values in wanted.items():
            found = existing.get(values)
            if found is not None:
                refused.add(index)
                record = scope.find(Record, found)
                assert record is not None   # found a moment ago, in this transaction
                results[index] = _error(index, duplicate_conflict(
                    scope, keys, unique, record, found in visible), locale)
            elif values in earlier:
                refused.add(index)
                results[index] = _error(index, Conflict(
                    "batch_duplicate_item", item=earlier[values], keys=", ".join(keys),
                    fields=[FieldError(f"data.{key}", "batch_duplicate_item",
                                       {"item": earlier[values], "keys": key})
                            for key in keys]), locale)
            else:
                earlier[values] = index
        checked = [(index, data) for index, data in checked if index not in refused]
    return checked


def _write_creates(scope: TenantScope, actor: Principal, form: Form,
                   written: list[tuple[int, dict[str, Any]]]) -> list[tuple[int, int]]:
    """Write the checked new records and their history in bulk; then what follows a create
    (related rollups, the form's rules). (item index, new id) of each."""
    if not written:
        return []
    from crm_platform.services.records.new_records import NewRecords, Outcome

    _version, compiled = record_service.current_version(scope, form)
    new = NewRecords(scope, actor, form, compiled, None)
    outcomes = [(index, Outcome("create", data)) for index, data in written]
    new.insert(outcomes)
    scope.session.flush()
    refresh_related(scope, form, [(None, outcome.data) for _index, outcome in outcomes])
    changes.announce_created(scope, actor, form, new.created_ids)
    return [(index, record_id) for (index, _o), record_id in zip(outcomes, new.created_ids,
                                                                  strict=True)]
