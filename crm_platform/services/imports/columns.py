"""Which field each column of an import fills, and which fields say two rows are the
same record. Headers match a field's key or label, English or Chinese (`客户名称` finds the
field labelled so), ignoring case, width and spacing; `columns` overrides them. A column
that matches nothing is an error, never silently dropped.

What an export writes comes back: its `id` column names the record each row is (and is
what an `upsert` matches on), and the columns of computed fields (formulas, rollups,
auto-numbers) are recognised and left to be computed again."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence

from crm_platform.services.imports.files import ImportFileError
from crm_platform.services.records.access import Access
from form_engine.compiled import CompiledField, CompiledForm


def _normal(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


RECORD_ID = "id"   # the column of an export that names each row's record


def importable(item: CompiledField) -> bool:
    return item.kind == "value"


def _names(compiled: CompiledForm) -> dict[str, str]:
    """Every name a header may give a field by: its key and its labels, normalised."""
    names: dict[str, str] = {}
    for item in compiled.fields:
        labels = item.label.values() if isinstance(item.label, Mapping) else [item.label]
        for name in (item.key, *labels):
            names.setdefault(_normal(str(name)), item.key)
    return names


def writable_fields(compiled: CompiledForm, access: Access) -> list[CompiledField]:
    """The fields a sheet's column may fill for this caller."""
    return [item for item in compiled.fields if importable(item) and not item.read_only
            and item.key not in access.hidden and item.key not in access.readonly]


def propose_columns(compiled: CompiledForm, headers: Sequence[str], access: Access
                    ) -> list[str | None]:
    """A field for each header as `map_columns` would match it — None where nothing
    matches (or the match cannot be written) — for a person to confirm or change."""
    names, writable = _names(compiled), {item.key for item in writable_fields(compiled,
                                                                              access)}
    proposal: list[str | None] = []
    for index, header in enumerate(headers):
        key = RECORD_ID if index == 0 and _normal(header) == RECORD_ID else names.get(
            _normal(header))
        proposal.append(key if key == RECORD_ID or (key in writable and key not in proposal)
                        else None)
    return proposal


def map_columns(compiled: CompiledForm, headers: Sequence[str],
                explicit: Mapping[str, str | None] | None, access: Access) -> dict[int, str]:
    """Column index -> field key. Headers match a field's key or label (en / zh / plain)."""
    names = _names(compiled)
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
            if index == 0 and _normal(header) == RECORD_ID:
                key = RECORD_ID   # an export's first column, even if a field is labelled so
            elif key is None:
                unknown.append(header or f"#{index + 1}")
                continue
            elif compiled.by_key[key].kind in ("computed", "subtable"):
                # an export's formula, rollup or auto-number (computed again) or its
                # count of a subtable's lines (which a sheet cannot carry)
                continue
        if key == RECORD_ID:
            if key in columns.values():
                raise ImportFileError("import_duplicate_column", column=header, field=key)
            columns[index] = key
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
    if not [key for key in columns.values() if key != RECORD_ID]:
        raise ImportFileError("import_no_columns")
    return columns


def match_fields(compiled: CompiledForm, given: Sequence[str] | None, mode: str,
                 has_ids: bool = False) -> list[str]:
    """The fields that say two rows are the same record: given, else the record id when
    the sheet has an `id` column (an export), else the form's first dedup key, else its
    first unique field."""
    if given == [RECORD_ID] or (not given and has_ids):
        if not has_ids:
            raise ImportFileError("import_bad_match_field", field=RECORD_ID)
        return [RECORD_ID]
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
