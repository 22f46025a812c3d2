"""Writing many new rows at once, the fastest way each database offers, in the caller's
transaction: `COPY … FROM STDIN` on PostgreSQL, one DB-API `executemany` on SQLite. JSON
columns are encoded once, by Loom's own encoder (decimals exact), as the ORM would.

Used by imports, where thousands of records and their history rows are written together.
Rows carry every column they set; JSON columns hold Python values (decimals stay exact).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from operator import itemgetter
from typing import Any

from sqlalchemy import Table, insert, text
from sqlalchemy.orm import Session

from crm_platform.db import JSONType, dump_json


@dataclass
class Prepared:
    """Rows of one table made ready for the driver: what `write` sends."""

    table: str
    columns: list[str]
    values: list[list[Any]]
    payload: str | None = None   # PostgreSQL: the COPY text, if made already


def prepare(dialect: Any, table: Table, rows: Sequence[dict[str, Any]]) -> Prepared:
    """Each value made ready by its column type's own bind processor, as SQLAlchemy would,
    JSON by Loom's encoder — without SQLAlchemy's per-row parameter handling, which costs
    more than the insert."""
    columns = list(rows[0])
    ready = [_ready(dialect, table.c[name].type) for name in columns]
    return Prepared(table.name, columns, _prepared(rows, columns, ready))


def _ready(dialect: Any, column_type: Any) -> Callable[[Any], Any] | None:
    if isinstance(column_type, type(JSONType)):
        return dump_json
    # the dialect's own form of the type, as the ORM binds it: on SQLite a timestamp
    # becomes the text SQLAlchemy stores (microseconds always written)
    return column_type.dialect_impl(dialect).bind_processor(dialect)


def copy_text(rows: Prepared) -> str:
    """The rows in COPY's text format: one line a row, tab between values, `\\N` for
    NULL, backslash escapes for backslash, tab, newline and return. Values are what
    `prepare` makes of Loom's columns (text and JSON text, whole numbers, booleans, aware
    timestamps, decimals); anything else is refused rather than guessed at. A value the
    row before had in the same column (the same object: an import's tenant, writer and
    timestamp) is written out once."""
    width = len(rows.columns)
    last: list[Any] = [_UNSET] * width
    cells: list[str] = [""] * width
    lines = []
    for row in rows.values:
        for index, value in enumerate(row):
            if value is not last[index]:
                last[index] = value
                cells[index] = _copy_cell(value, rows.table)
        lines.append("\t".join(cells))
    lines.append("")
    return "\n".join(lines)


_UNSET = object()


def _copy_cell(value: Any, table: str) -> str:
    if isinstance(value, str):
        return value.translate(_COPY_ESCAPES) if _NEEDS_ESCAPE.search(value) else value
    if value is None:
        return "\\N"
    if value is True or value is False:
        return "t" if value else "f"
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.isoformat()
    if isinstance(value, int | Decimal):
        return str(value)
    raise TypeError(f"no COPY text for {type(value).__name__} in {table}")


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_NEEDS_ESCAPE = re.compile(r"[\\\t\n\r]")


def write(driver_connection: Any, dialect_name: str, rows: Prepared) -> None:
    """Send prepared rows on a DB-API connection (in its current transaction). PostgreSQL
    gets them as one block of COPY text — one call into the driver, not one a row, so a
    thread sending them hardly needs the interpreter (imports send from a thread); the
    driver encodes it in the connection's encoding."""
    names = ", ".join(rows.columns)
    if dialect_name == "postgresql":
        payload = rows.payload if rows.payload is not None else copy_text(rows)
        with driver_connection.cursor() as cursor, cursor.copy(
                f"COPY {rows.table} ({names}) FROM STDIN") as copy:
            copy.write(payload)
    else:
        driver_connection.executemany(
            f"INSERT INTO {rows.table} ({names}) "
            f"VALUES ({', '.join('?' * len(rows.columns))})", rows.values)


def insert_rows(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert `rows` (dicts with the same keys) into `table`; ids are the table's default
    unless the rows carry them."""
    if not rows:
        return
    dialect = session.get_bind().dialect
    raw = session.connection().connection.driver_connection  # the session's transaction
    write(raw, dialect.name, prepare(dialect, table, rows))


def draw_ids(session: Session, table: Table, count: int) -> list[int]:
    """PostgreSQL: `count` new ids from the table's sequence, in order."""
    return list(session.scalars(text(
        f"SELECT nextval(pg_get_serial_sequence('{table.name}', 'id')) "
        "FROM generate_series(1, :count)"), {"count": count}))


def _prepared(rows: Sequence[dict[str, Any]], columns: list[str],
              ready: list[Callable[[Any], Any] | None]) -> list[list[Any]]:
    """Each row's values in column order, made ready. A value the row before also had
    (the same object: an import's one timestamp) is made ready once."""
    read = itemgetter(*columns) if len(columns) > 1 else (lambda row: (row[columns[0]],))
    processed = [(index, process) for index, process in enumerate(ready) if process is not None]
    last: dict[int, tuple[Any, Any]] = {}
    values = []
    for row in rows:
        row_values = list(read(row))
        for index, process in processed:
            value = row_values[index]
            before = last.get(index)
            if before is not None and before[0] is value:
                row_values[index] = before[1]
            else:
                row_values[index] = ready_value = process(value)
                last[index] = (value, ready_value)
        values.append(row_values)
    return values


def insert_with_ids(session: Session, table: Table, rows: list[dict[str, Any]]) -> list[int]:
    """Insert new rows and return their ids, in order (each row gets its `id`).

    PostgreSQL draws the ids from the table's sequence first. SQLite hands the next rowid
    (one past the largest) to whoever writes, and one transaction writes at a time: the
    first row is inserted on its own, which takes the write lock and says where the ids
    start; the ids after it are then this transaction's alone."""
    if not rows:
        return []
    if session.get_bind().dialect.name == "postgresql":
        ids = draw_ids(session, table, len(rows))
        for row, new_id in zip(rows, ids, strict=True):
            row["id"] = new_id
        insert_rows(session, table, rows)
        return ids
    first = session.execute(insert(table).returning(table.c.id), [rows[0]]).scalar_one()
    rows[0]["id"] = first
    ids = list(range(first, first + len(rows)))
    for row, new_id in zip(rows[1:], ids[1:], strict=True):
        row["id"] = new_id
    insert_rows(session, table, rows[1:])
    return ids
