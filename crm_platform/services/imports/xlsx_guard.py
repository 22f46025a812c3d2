"""An uploaded XLSX is an untrusted ZIP of XML: checked before openpyxl reads a byte of it.

An XLSX of a few hundred kilobytes can declare two million rows, hold two million cells in
one row, or unpack to half a gigabyte of shared strings; its XML can declare entities that
expand a billion times or fetch external files. Each is refused here in well under a
second, in bounded memory, with what is wrong named:

- the archive: at most `MAX_ENTRIES` entries; no entry unpacking past `MAX_RATIO` times its
  packed size (once past 1 MB); at most `MAX_UNPACKED` bytes in all, and `MAX_SHARED` of
  shared strings (openpyxl holds them all in memory);
- the XML: no `<!DOCTYPE` in any part (entities need one), and openpyxl parses through
  `defusedxml` besides;
- the sheets, streamed through expat with a bounded buffer: the declared `<dimension>` and
  the rows and cells actually there, stopping at `MAX_ROWS` rows and `MAX_ROW_CELLS` cells
  in a row.
"""

from __future__ import annotations

import re
import zipfile
from typing import Any
from xml.parsers import expat

MAX_ENTRIES = 1_000
MAX_RATIO = 100
MAX_UNPACKED = 512 * 1024 * 1024
MAX_SHARED = 64 * 1024 * 1024
MAX_ROW_CELLS = 2_000          # a row's cells, empty formatted ones included
_HEAD = 4096
_CHUNK = 256 * 1024
_CELL_COLUMN = re.compile(r"^([A-Z]{1,3})[0-9]")
_DIMENSION = re.compile(r"^[A-Z]{1,3}[0-9]+(?::([A-Z]{1,3})([0-9]+))?$")


class XlsxRefused(Exception):
    """What is wrong with the file: an import error code and its parameters."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code, params)
        self.code, self.params = code, params


def _column_number(letters: str) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + ord(letter) - 64
    return number


def check_xlsx(archive: zipfile.ZipFile, max_rows: int, max_columns: int) -> None:
    """Raise `XlsxRefused` for an archive that must not be parsed."""
    entries = archive.infolist()
    if len(entries) > MAX_ENTRIES:
        raise XlsxRefused("import_xlsx_too_large", detail=f"{len(entries)} parts")
    total = 0
    for entry in entries:
        total += entry.file_size
        ratio = entry.file_size // max(entry.compress_size, 1)
        if entry.file_size > 1024 * 1024 and ratio > MAX_RATIO:
            raise XlsxRefused("import_xlsx_too_large",
                              detail=f"{entry.filename} unpacks {ratio}× its size")
        if entry.filename.endswith("sharedStrings.xml") and entry.file_size > MAX_SHARED:
            raise XlsxRefused("import_xlsx_too_large", detail="shared strings over 64 MB")
    if total > MAX_UNPACKED:
        raise XlsxRefused("import_xlsx_too_large", detail="over 512 MB unpacked")
    for entry in entries:
        if entry.filename.endswith((".xml", ".rels")):
            with archive.open(entry) as part:
                if b"<!DOCTYPE" in part.read(_HEAD).upper():
                    raise XlsxRefused("import_xlsx_unsafe", part=entry.filename)
    for entry in entries:
        if entry.filename.startswith("xl/worksheets/") and entry.filename.endswith(".xml"):
            _scan_sheet(archive, entry, max_rows, max_columns)


def _scan_sheet(archive: zipfile.ZipFile, entry: zipfile.ZipInfo, max_rows: int,
                max_columns: int) -> None:
    """Count rows and each row's cells as the XML streams by; stop at the first excess."""
    rows = cells = 0

    def start(name: str, attributes: dict[str, str]) -> None:
        nonlocal rows, cells
        if name == "row":
            rows += 1
            cells = 0
            if rows > max_rows + 1:      # the header row besides
                raise XlsxRefused("import_too_many_rows", limit=max_rows)
        elif name == "c":
            cells += 1
            # a cell's position counts too: openpyxl fills a row out to its last column
            position = _CELL_COLUMN.match(attributes.get("r", ""))
            if cells > MAX_ROW_CELLS or (position is not None and _column_number(
                    position.group(1)) > MAX_ROW_CELLS):
                raise XlsxRefused("import_too_many_columns", limit=max_columns)
        elif name == "dimension":
            match = _DIMENSION.match(attributes.get("ref", ""))
            if match and match.group(2):
                if int(match.group(2)) > max_rows + 1:
                    raise XlsxRefused("import_too_many_rows", limit=max_rows)
                if _column_number(match.group(1)) > MAX_ROW_CELLS:
                    raise XlsxRefused("import_too_many_columns", limit=max_columns)

    def no_doctype(*_args: Any) -> None:
        raise XlsxRefused("import_xlsx_unsafe", part=entry.filename)

    parser = expat.ParserCreate(namespace_separator=None)
    parser.StartElementHandler = lambda name, attributes: start(
        name.rpartition(":")[2], attributes)
    parser.StartDoctypeDeclHandler = no_doctype
    parser.EntityDeclHandler = no_doctype
    parser.buffer_text = False
    try:
        with archive.open(entry) as part:
            while block := part.read(_CHUNK):
                parser.Parse(block, False)
            parser.Parse(b"", True)
    except expat.ExpatError as exc:
        raise XlsxRefused("import_bad_xlsx", detail=f"{entry.filename}: {exc}") from None
