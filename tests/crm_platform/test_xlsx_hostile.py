"""Hostile XLSX files are refused quickly, in bounded memory, with a clear error and nothing
written: entity expansion, external entities, millions of declared or real rows, millions
of cells in one row, and half a gigabyte of shared strings in a file of a few hundred KB."""

from __future__ import annotations

import io
import time
import tracemalloc
import zipfile

import pytest

from crm_platform.services.imports.files import ImportFileError, read_sheet

CONTENT_TYPES = (b'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.'
                 b'openxmlformats.org/package/2006/content-types"><Default Extension="rels" '
                 b'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                 b'<Default Extension="xml" ContentType="application/xml"/><Override '
                 b'PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
                 b'officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/'
                 b'worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-'
                 b'officedocument.spreadsheetml.worksheet+xml"/></Types>')
RELS = (b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
        b'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http'
        b'://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
        b'Target="xl/workbook.xml"/></Relationships>')
WORKBOOK = (b'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.'
            b'openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.'
            b'openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="S" '
            b'sheetId="1" r:id="rId1"/></sheets></workbook>')
WORKBOOK_RELS = (b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://'
                 b'schemas.openxmlformats.org/package/2006/relationships"><Relationship '
                 b'Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                 b'relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>')
SHEET_HEAD = (b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.'
              b'openxmlformats.org/spreadsheetml/2006/main">')


def workbook(sheet: bytes, **extra: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("_rels/.rels", RELS)
        archive.writestr("xl/workbook.xml", WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        archive.writestr("xl/worksheets/sheet1.xml", sheet)
        for name, data in extra.items():
            archive.writestr(name.replace("__", "/"), data)
    return buffer.getvalue()


def inline(row: int, values: list[str]) -> bytes:
    cells = b"".join(b'<c t="inlineStr"><is><t>%s</t></is></c>' % v.encode() for v in values)
    return b'<row r="%d">%s</row>' % (row, cells)


def sheet(*rows: bytes, dimension: bytes = b"") -> bytes:
    return SHEET_HEAD + dimension + b"<sheetData>" + b"".join(rows) + b"</sheetData></worksheet>"


def refused_quickly(content: bytes, code: str) -> ImportFileError:
    """Refused with `code` in a few seconds at most (1.3 s for the largest on the slowest
    machine CI has had; a file that could hang a worker takes minutes), and (measured again,
    as tracing slows Python down) in under 64 MB of memory."""
    started = time.perf_counter()
    with pytest.raises(ImportFileError) as caught:
        read_sheet(content, "hostile.xlsx")
    elapsed = time.perf_counter() - started
    assert caught.value.code == code, caught.value.params
    assert elapsed < 4.0, elapsed
    tracemalloc.start()
    try:
        with pytest.raises(ImportFileError):
            read_sheet(content, "hostile.xlsx")
        _now, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 64 * 1024 * 1024, peak
    return caught.value


def test_a_well_formed_hand_made_workbook_is_read() -> None:
    read = read_sheet(workbook(sheet(inline(1, ["name"]), inline(2, ["Acme"]))), "ok.xlsx")
    assert read.headers == ["name"] and read.rows == [["Acme"]]


def test_entity_expansion_is_refused() -> None:
    laughs = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
              + b"".join(b'<!ENTITY lol%d "%s">' % (i, b"&lol%d;" % (i - 1) * 10 if i > 1
                                                     else b"&lol;" * 10) for i in range(1, 10))
              + b']><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/'
              b'main"><sheetData><row r="1"><c t="inlineStr"><is><t>&lol9;</t></is></c></row>'
              b'</sheetData></worksheet>')
    refused_quickly(workbook(laughs), "import_xlsx_unsafe")


def test_an_external_entity_is_refused() -> None:
    external = (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY secret SYSTEM "file:///etc/'
                b'passwd">]>' + sheet(inline(1, ["&secret;"]))[len(b'<?xml version="1.0" '
                                                              b'encoding="UTF-8"?>'):])
    error = refused_quickly(workbook(external), "import_xlsx_unsafe")
    assert "root:" not in str(error.params)


def test_millions_of_declared_rows_are_refused() -> None:
    content = workbook(sheet(inline(1, ["name"]), dimension=b'<dimension ref="A1:A2000000"/>'))
    refused_quickly(content, "import_too_many_rows")


def test_millions_of_real_rows_are_refused() -> None:
    rows = b"".join(b'<row r="%d"/>' % n for n in range(1, 1_100_003))
    refused_quickly(workbook(sheet(rows)), "import_too_many_rows")


def test_millions_of_cells_in_a_row_are_refused() -> None:
    refused_quickly(workbook(sheet(b'<row r="1">' + b"<c/>" * 2_000_000 + b"</row>")),
                    "import_xlsx_too_large")


def test_a_row_wider_than_any_sheet_is_refused_even_when_it_packs_loosely() -> None:
    cells = b"".join(b'<c r="A1" t="inlineStr"><is><t>%d</t></is></c>' % n
                     for n in range(3_000))
    refused_quickly(workbook(sheet(b'<row r="1">' + cells + b"</row>")),
                    "import_too_many_columns")


def test_half_a_gigabyte_of_shared_strings_is_refused() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive, \
            archive.open("xl/sharedStrings.xml", "w", force_zip64=True) as part:
        part.write(b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/'
                   b'main"><si><t>')
        block = b"x" * (1024 * 1024)
        for _ in range(512):
            part.write(block)
        part.write(b"</t></si></sst>")
    content = buffer.getvalue()
    assert len(content) < 1024 * 1024
    refused_quickly(content, "import_xlsx_too_large")


def test_a_cell_far_to_the_right_is_refused_without_filling_the_row() -> None:
    rows = b"".join(b'<row r="%d"><c r="XFD%d" t="inlineStr"><is><t>x</t></is></c></row>'
                    % (n, n) for n in range(1, 2000))
    refused_quickly(workbook(sheet(rows)), "import_too_many_columns")
