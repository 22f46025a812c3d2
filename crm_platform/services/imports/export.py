"""Exporting records to CSV and XLSX: the caller's filters and permissions apply, rows
stream out in batches (a million rows never sit in memory), and cells that a spreadsheet
would run as a formula are neutralised."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from sqlalchemy import Select
from sqlalchemy.orm import Session

from crm_platform.models import Record
from crm_platform.services.imports.cells import neutralise
from crm_platform.services.records.access import Access
from form_engine.compiled import CompiledField, CompiledForm
from form_engine.messages import label_text

BATCH = 1000


def _columns(form: CompiledForm, access: Access) -> list[CompiledField]:
    return [item for item in form.fields
            if item.kind != "layout" and item.key not in access.hidden]


def _cell(item: CompiledField, value: Any, locale: str) -> Any:
    if value is None:
        return ""
    if item.rows is not None:
        return item.field_type.display(item.spec, value, locale)
    if item.type in ("select", "multiselect", "boolean", "address", "rating"):
        return item.field_type.display(item.spec, value, locale)
    if isinstance(value, Decimal | int) and not isinstance(value, bool):
        return value
    return str(value)


def _records(session: Session, statement: Select[Any]) -> Iterator[Record]:
    """Every matching record, fetched in id order a batch at a time."""
    after = 0
    while True:
        batch = list(session.scalars(statement.where(Record.id > after)
                                     .order_by(Record.id).limit(BATCH)))
        if not batch:
            return
        yield from batch
        after = batch[-1].id
        session.expunge_all()


def header(form: CompiledForm, access: Access, locale: str) -> list[str]:
    return ["id", *(label_text(item.label, locale) for item in _columns(form, access))]


def rows(session: Session, statement: Select[Any], form: CompiledForm, access: Access,
         locale: str) -> Iterator[list[Any]]:
    columns = _columns(form, access)
    for record in _records(session, statement):
        yield [record.id, *(_cell(item, record.data.get(item.key), locale) for item in columns)]


def csv_chunks(session: Session, statement: Select[Any], form: CompiledForm, access: Access,
               locale: str) -> Iterator[bytes]:
    """UTF-8 with a BOM, so Excel opens Chinese text correctly."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([neutralise(text) for text in header(form, access, locale)])
    yield ("\ufeff" + buffer.getvalue()).encode("utf-8")
    for count, row in enumerate(rows(session, statement, form, access, locale), 1):
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([neutralise(cell) if isinstance(cell, str) else cell for cell in row])
        yield buffer.getvalue().encode("utf-8")
        if count % BATCH == 0:
            buffer = io.StringIO()
            writer = csv.writer(buffer)


def write_xlsx(target: Any, session: Session, statement: Select[Any], form: CompiledForm,
               access: Access, locale: str) -> None:
    """An XLSX file written row by row (openpyxl's write-only mode keeps memory flat).

    Every text — values, labels, the sheet's name — is a string cell (`t="inlineStr"`),
    which Excel never evaluates, kept exactly: no apostrophe (that is CSV's guard), and a
    label `=HYPERLINK(…)` is not a formula."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=(form.key or "records")[:31])

    def cells(row: list[Any]) -> list[Any]:
        out = []
        for value in row:
            if isinstance(value, str):
                cell = WriteOnlyCell(sheet, value=value)
                cell.data_type = "s"   # openpyxl takes "=…" for a formula otherwise
                value = cell
            out.append(value)
        return out

    sheet.append(cells(header(form, access, locale)))
    for row in rows(session, statement, form, access, locale):
        sheet.append(cells(row))
    workbook.save(target)
