"""What a person typed into an entry page, as record data for the form engine's typed-input
mode: `data.<key>` per field, several values for a multiselect, `data.<key>.<part>` for an
address, `data.<key>[<row>].<column>` for subtable lines. Fields the person may not write
(computed, hidden or read-only for them) are left out, so nothing they could not change is
ever sent on their behalf."""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import Any

from werkzeug.datastructures import MultiDict

from form_engine.compiled import CompiledField, CompiledForm

PREFIX = "data"
MAX_ROWS = 500
_ROW = re.compile(r"^\[(\d{1,4})\]\.([a-z][a-z0-9_]*)$")
ADDRESS_PARTS = ("province", "city", "district", "detail")


def _value(item: CompiledField, form: MultiDict[str, str], name: str) -> Any:
    if item.type == "multiselect":
        return [value for value in form.getlist(name) if value]
    if item.type == "address":
        parts = {part: form.get(f"{name}.{part}", "").strip() for part in ADDRESS_PARTS}
        return parts if any(parts.values()) else None
    return form.get(name, "")


def _rows(item: CompiledField, form: MultiDict[str, str], name: str) -> list[dict[str, Any]]:
    assert item.rows is not None
    rows: dict[int, dict[str, Any]] = {}
    for key in form:
        if not key.startswith(name + "["):
            continue
        match = _ROW.match(key[len(name):])
        if match is None or int(match.group(1)) >= MAX_ROWS:
            continue
        column = item.rows.by_key.get(match.group(2))
        if column is None or column.kind != "value":
            continue
        rows.setdefault(int(match.group(1)), {})[column.key] = _value(column, form, key)
    return [rows[index] for index in sorted(rows)
            if any(value not in ("", None, []) for value in rows[index].values())]


def typed_data(compiled: CompiledForm, form: MultiDict[str, str],
               not_writable: Collection[str] = ()) -> dict[str, Any]:
    """The record data a posted entry form holds."""
    data: dict[str, Any] = {}
    for item in compiled.inputs:
        if item.key in not_writable:
            continue
        name = f"{PREFIX}.{item.key}"
        if item.rows is not None:
            if f"{name}.present" in form or any(key.startswith(name + "[") for key in form):
                data[item.key] = _rows(item, form, name)
        elif item.type in ("multiselect", "address") or name in form:
            data[item.key] = _value(item, form, name)
    return data
