"""Reading an uploaded sheet — CSV or XLSX — into a header and rows, or refusing the file.

What people upload is what Excel and WPS write: CSV in UTF-8, UTF-8 with a BOM, GBK /
GB18030 (Excel in China), or UTF-16 ("Unicode text", tab-separated); XLSX. The encoding is
detected, never asked: a BOM decides; otherwise strict UTF-8, then strict GB18030 (a
superset of GBK); text that decodes to control characters is no sheet at all. Refused,
before anything is written, with the row and column named:

- a file that is none of those encodings, or binary;
- ragged rows (more or fewer cells than the header has columns);
- a cell over `MAX_CELL` characters (a 10 MB cell is an attack or an accident);
- a CSV cell that a spreadsheet would run as a formula (`=HYPERLINK(...)`, `@SUM(...)`,
  `+cmd|...`) — CSV injection; a signed number (`-5`, `+86 138 0013 8000`) is not one.

A CSV cell guarded by Loom's own export (`'=HYPERLINK(...)`) is read back as the text it
guarded (`cell_text.restore`), so export → edit → import is exact. XLSX text cells are
string cells, which a spreadsheet never runs (formula cells are read as their value), so
they are taken as they are.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, time
from decimal import Decimal
from typing import Any

from crm_platform.errors import LoomError
from crm_platform.services.imports.cells import restore
from crm_platform.services.imports.xlsx_guard import XlsxRefused, check_xlsx

MAX_CELL = 100_000           # characters: the longest text a field holds
MAX_ROWS = 1_000_000
MAX_COLUMNS = 500
# Cells a spreadsheet would run: anything after `=`; `@SUM(`; and after + or -, `=`, a
# function call (`+HYPERLINK(`) or a DDE link (`-2+3+cmd|' /C calc'!A0`). A signed number,
# a phone number (`+86 138-0013-8000`) or a note starting "- call back" is text.
_FORMULA = re.compile(r"^(?:=|@\s*[A-Za-z_][\w.]*\s*\(|[+-]\s*(?:=|[A-Za-z_][\w.]*\s*\(|[^|]*\|))")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class ImportFileError(LoomError):
    """The file cannot be imported as it is; nothing was written."""

    status = 422
    code = "import_bad_file"


@dataclass
class Sheet:
    headers: list[str]
    rows: list[list[Any]]     # cells: str for CSV; str, Decimal, int, bool, datetime … for XLSX
    format: str               # csv | xlsx
    encoding: str | None      # of a CSV
    numbers: list[int] = field(default_factory=list)  # each row's line in the file


def read_sheet(content: bytes, filename: str = "") -> Sheet:
    if not content:
        raise ImportFileError("import_empty_file")
    if content[:4] == b"PK\x03\x04" or filename.lower().endswith((".xlsx", ".xlsm")):
        return _xlsx(content)
    return _csv(content)


_FORMULA_STARTS = frozenset("=@+-")
_SUSPECT = re.compile(r"(?:^|\x00)['=@+-]")  # a cell of a NUL-joined row may be a formula


def _check_cell(text: str, row: int, column: int) -> None:
    if len(text) > MAX_CELL:
        raise ImportFileError("import_cell_too_large", row=row, column=column, limit=MAX_CELL)
    if text[:1] in _FORMULA_STARTS and _FORMULA.match(text):
        raise ImportFileError("import_formula_cell", row=row, column=column,
                              value=text[:40])


def _finish(headers: list[Any], rows: Iterator[list[Any]], format_: str,
            encoding: str | None) -> Sheet:
    names = ["" if cell is None else str(cell).strip() for cell in headers]
    while names and not names[-1]:
        names.pop()
    if not names:
        raise ImportFileError("import_no_header")
    if len(names) > MAX_COLUMNS:
        raise ImportFileError("import_too_many_columns", limit=MAX_COLUMNS)
    for column, name in enumerate(names, start=1):
        _check_cell(name, 1, column)
    width = len(names)
    kept: list[list[Any]] = []
    numbers: list[int] = []
    for number, cells in enumerate(rows, start=2):
        while len(cells) > width and (cells[-1] is None or cells[-1] == ""):
            cells.pop()  # trailing empty cells (XLSX formatting, a trailing comma)
        if not any(cells) and all(cell is None or cell == "" for cell in cells):
            continue  # blank lines separate nothing
        if len(cells) != width:
            if format_ == "xlsx" and len(cells) < width:
                cells.extend([None] * (width - len(cells)))
            else:
                raise ImportFileError("import_ragged_row", row=number, cells=len(cells),
                                      columns=width)
        if format_ == "csv":  # all text: one look at the row joined by NUL finds suspects
            joined = "\x00".join(cells)  # (a NUL inside a cell only makes a needless check)
            if len(joined) > MAX_CELL or _SUSPECT.search(joined) is not None:
                for column, cell in enumerate(cells, start=1):
                    # the cheap tests inline (most cells pass); _check_cell says why
                    if len(cell) > MAX_CELL or cell[:1] in _FORMULA_STARTS:
                        _check_cell(cell, number, column)
                    elif cell[:1] == "'":
                        cells[column - 1] = restore(cell)
        else:
            for column, cell in enumerate(cells, start=1):
                if isinstance(cell, str) and len(cell) > MAX_CELL:
                    _check_cell(cell, number, column)
        kept.append(cells)
        numbers.append(number)
        if len(kept) > MAX_ROWS:
            raise ImportFileError("import_too_many_rows", limit=MAX_ROWS)
    return Sheet(names, kept, format_, encoding, numbers)


# -- CSV -------------------------------------------------------------------------------
def _decode(content: bytes) -> tuple[str, str]:
    for bom, encoding in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
                          (codecs.BOM_UTF16_BE, "utf-16")):
        if content.startswith(bom):
            try:
                return content.decode(encoding), encoding
            except UnicodeDecodeError:
                raise ImportFileError("import_bad_encoding") from None
    for encoding in ("utf-8", "gb18030"):
        try:
            text = content.decode(encoding)
        except UnicodeDecodeError:
            continue
        if _CONTROL.search(text):
            break  # decodes, but to control characters: binary, or another encoding
        return text, encoding
    raise ImportFileError("import_bad_encoding")


def _delimiter(text: str) -> str:
    """The separator of the header line: comma, semicolon, tab or bar, whichever is most
    used outside quotes (Excel writes `;` in some locales, tab in "Unicode text")."""
    line = text[: text.find("\n")] if "\n" in text else text
    outside = re.sub(r'"[^"]*"', "", line)
    counts = {sep: outside.count(sep) for sep in (",", ";", "\t", "|")}
    best = max(counts, key=lambda sep: counts[sep])
    return best if counts[best] else ","


def _csv(content: bytes) -> Sheet:
    text, encoding = _decode(content)
    # Let the reader hold any cell, so that an oversized one is reported by _check_cell
    # with its row and column (the csv module's own limit names neither). Process-wide.
    if csv.field_size_limit() < len(text) + 1:
        csv.field_size_limit(len(text) + 1)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text), strict=True)
    try:
        rows = list(reader)
    except csv.Error as exc:
        raise ImportFileError("import_bad_csv", row=reader.line_num,
                              detail=str(exc)[:100]) from None
    if not rows:
        raise ImportFileError("import_no_header")
    return _finish(rows[0], iter(rows[1:]), "csv", encoding)


# -- XLSX ------------------------------------------------------------------------------
def _xlsx(content: bytes) -> Sheet:
    from openpyxl import load_workbook

    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            check_xlsx(archive, MAX_ROWS, MAX_COLUMNS)
    except XlsxRefused as refused:
        raise ImportFileError(refused.code, **refused.params) from None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
        raise ImportFileError("import_bad_xlsx", detail=type(exc).__name__) from None
    try:
        return _read_xlsx(load_workbook, content)
    except ImportFileError:
        raise
    except Exception as exc:  # openpyxl's and defusedxml's errors while reading rows
        raise ImportFileError("import_bad_xlsx", detail=type(exc).__name__) from None


def _read_xlsx(load_workbook: Any, content: bytes) -> Sheet:
    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError) as exc:
        raise ImportFileError("import_bad_xlsx", detail=type(exc).__name__) from None
    try:
        sheet = book.worksheets[0] if book.worksheets else None
        if sheet is None:
            raise ImportFileError("import_no_header")
        rows = sheet.iter_rows(values_only=True)
        header = next(rows, None)
        if header is None:
            raise ImportFileError("import_no_header")
        return _finish(list(header), (
            [_xlsx_value(cell) for cell in row[:MAX_COLUMNS + 1]] for row in rows),
            "xlsx", None)
    finally:
        book.close()


def _xlsx_value(cell: Any) -> Any:
    """What a cell holds, as the lenient coercers take it: floats as exact decimals (Excel
    stores 0.1 as 0.1000000000000000055…; its shortest repr is what the user typed)."""
    if isinstance(cell, float):
        return int(cell) if cell.is_integer() and abs(cell) < 2**53 else Decimal(repr(cell))
    if isinstance(cell, datetime) and cell.time() == time(0):
        return cell.date()
    return cell
