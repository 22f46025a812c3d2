"""One SQL expression per record data field, written the same way in queries and in the
indexes built for `indexed` / `unique` fields — so the database can use those indexes.

`data_field("phone", "text")` compiles to `(data ->> 'phone')` on PostgreSQL and
`json_extract(data, '$.phone')` on SQLite (which keeps JSON numbers numeric). Keys are
form field keys, checked against `^[a-z][a-z0-9_]{0,62}$` before they reach SQL.
"""

from __future__ import annotations

import logging
import re
import time
from typing import Any, ClassVar

from sqlalchemy import BigInteger, Boolean, Engine, Numeric, String, func, literal_column, text
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal

log = logging.getLogger(__name__)
_KEY = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
_TYPES = {"text": String(), "integer": BigInteger(), "number": Numeric(30, 10),
          "boolean": Boolean()}
_PG_CASTS = {"integer": "BIGINT", "number": "NUMERIC", "boolean": "BOOLEAN"}


class DataField(ColumnElement[Any]):
    inherit_cache = True
    _traverse_internals: ClassVar[list[tuple[str, Any]]] = [
        ("key", InternalTraversal.dp_string), ("kind", InternalTraversal.dp_string)]

    def __init__(self, key: str, kind: str) -> None:
        if not _KEY.fullmatch(key) or kind not in _TYPES:
            raise ValueError(f"not a data field: {key!r} ({kind})")
        self.key = key
        self.kind = kind
        self.type = _TYPES[kind]


@compiles(DataField, "postgresql")
def _postgresql(element: DataField, compiler: Any, **kw: Any) -> str:
    value = f"(data ->> '{element.key}')"
    cast = _PG_CASTS.get(element.kind)
    return f"CAST({value} AS {cast})" if cast else value


@compiles(DataField)
def _sqlite(element: DataField, compiler: Any, **kw: Any) -> str:
    return f"json_extract(data, '$.{element.key}')"


def data_field(key: str, kind: str) -> DataField:
    return DataField(key, kind)


# Blanks sort last either way: ascending they read as the highest value, descending as the
# lowest. Written as SQL literals (not parameters) so that the sort indexes match.
_BLANK_SQL = {"text": ("'\U0010ffff'", "''"), "integer": (str(2**62), str(-(2**62))),
              "number": ("1e25", "-1e25")}


def sort_field(key: str, kind: str, descending: bool) -> ColumnElement[Any]:
    """The field as ORDER BY reads it (blanks last), or the plain field for other kinds."""
    blanks = _BLANK_SQL.get(kind)
    if blanks is None:
        return data_field(key, kind)
    return func.coalesce(data_field(key, kind), literal_column(blanks[1 if descending else 0]))


_UPPER, _LOWER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz"


def fold_case(text: str) -> str:
    """What search compares: ASCII letters lower-cased, nothing else changed — the same
    folding SQLite's lower() does, so both databases find the same records."""
    return text.translate(str.maketrans(_UPPER, _LOWER))


class SearchText(ColumnElement[Any]):
    """The form's searched fields as one text, ASCII letters lower-cased (`fold_case`):
    `field1 || ' ' || field2 …`. Written the same way in the search query and, on
    PostgreSQL, in the form's trigram index (pg_trgm), which serves `LIKE '%term%'`."""

    inherit_cache = True
    type = String()
    _traverse_internals: ClassVar[list[tuple[str, Any]]] = [
        ("keys", InternalTraversal.dp_string_list)]

    def __init__(self, keys: tuple[str, ...]) -> None:
        if not keys or not all(_KEY.fullmatch(key) for key in keys):
            raise ValueError(f"not data fields: {keys!r}")
        self.keys = list(keys)


@compiles(SearchText, "postgresql")
def _search_text_postgresql(element: SearchText, compiler: Any, **kw: Any) -> str:
    # `||` and coalesce keep the expression IMMUTABLE (concat_ws is not), so it can be
    # indexed; translate() folds ASCII only, as SQLite's lower() does
    joined = " || ' ' || ".join(f"coalesce(data ->> '{key}', '')" for key in element.keys)
    return f"translate({joined}, '{_UPPER}', '{_LOWER}')"


@compiles(SearchText)
def _search_text_sqlite(element: SearchText, compiler: Any, **kw: Any) -> str:
    joined = " || ' ' || ".join(f"coalesce(json_extract(data, '$.{key}'), '')"
                                for key in element.keys)
    return f"lower({joined})"


# Indexes built at run time for indexed fields; not part of the migrated schema.
RUNTIME_INDEX_PREFIX = "ix_records_f"


def index_name(form_id: int, key: str, definition: str) -> str:
    """The form's index on `key`, named after what it indexes too: an index whose
    definition changes (a field's type, the fields searched) gets a new name, so it is
    built anew and the old one dropped, never kept under the name it had."""
    import hashlib

    digest = hashlib.sha1(definition.encode()).hexdigest()[:8]
    stem = f"{RUNTIME_INDEX_PREFIX}{form_id}_{key}"
    return f"{stem[:54]}_{digest}"  # at most 63 characters: PostgreSQL's limit


def is_runtime_index(name: str | None) -> bool:
    return bool(name) and name.startswith(RUNTIME_INDEX_PREFIX)  # type: ignore[union-attr]


def runtime_indexes(connection: Any, form_id: int | None = None) -> list[str]:
    """Names of the per-form indexes built at run time (of one form, if given)."""
    if connection.dialect.name == "postgresql":
        query = "SELECT indexname FROM pg_indexes WHERE tablename = 'records'"
    else:
        query = "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'records'"
    prefix = RUNTIME_INDEX_PREFIX if form_id is None else f"{RUNTIME_INDEX_PREFIX}{form_id}_"
    return [name for name in connection.execute(text(query)).scalars()
            if name.startswith(prefix)]


def wanted_indexes(dialect: Any, form_id: int, fields: list[tuple[str, str]],
                   searchable: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    """(name, what follows `ON records`) of each index the form's fields need: the field
    itself, for filters; for text and numbers, the two orders a list sorts by it in, each
    followed by the record id (the tie-break), so a page is read from the index already in
    order (not for a `link`: a lookup found by its value only); on PostgreSQL, trigrams
    of the `searchable` text fields, for search."""
    wanted = []
    for key, kind in fields:
        field = str(data_field(key, "integer" if kind == "link" else kind).compile(
            dialect=dialect))
        wanted.append((key, f"(({field}))"))
        if kind in _BLANK_SQL:
            for suffix, descending in (("__asc_id", False), ("__desc_id", True)):
                order = str(sort_field(key, kind, descending).compile(dialect=dialect))
                wanted.append((key + suffix, f"(({order}), id)"))
    if dialect.name == "postgresql" and searchable:
        document = str(SearchText(searchable).compile(dialect=dialect))
        wanted.append(("_search", f"USING gin (({document}) gin_trgm_ops)"))
    return [(index_name(form_id, key, definition), definition) for key, definition in wanted]


# One index build at a time per database (PostgreSQL): two CREATE INDEX CONCURRENTLY on
# one table wait for each other's snapshots and one dies with a deadlock.
_BUILD_LOCK = 0x4C4F4F4D_49445831  # "LOOMIDX1"
BUILD_ATTEMPTS = 4


def _index_states(connection: Any, names: list[str]) -> dict[str, bool]:
    """name -> usable, for those of `names` that exist (PostgreSQL: an index a failed
    CONCURRENTLY build left behind exists but is not valid)."""
    if not names:
        return {}
    if connection.dialect.name == "postgresql":
        rows = connection.execute(text(
            "SELECT c.relname, i.indisvalid AND i.indisready FROM pg_index i "
            "JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = ANY(:names)"),
            {"names": names})
        return {name: bool(valid) for name, valid in rows}
    existing = set(runtime_indexes(connection))
    return {name: True for name in names if name in existing}


def index_status(engine: Engine, form_id: int, fields: list[tuple[str, str]],
                 searchable: tuple[str, ...] = ()) -> list[str]:
    """The form's indexes that are not (yet) usable: being built, or failed."""
    wanted = [name for name, _definition in wanted_indexes(engine.dialect, form_id, fields,
                                                           searchable)]
    with engine.connect() as connection:
        states = _index_states(connection, wanted)
    return [name for name in wanted if not states.get(name)]


def build_indexes(engine: Engine, form_id: int, fields: list[tuple[str, str]],
                  searchable: tuple[str, ...] = (), pause: float = 0.5) -> list[str]:
    """Build the indexes the form's fields need (partial: this form's records only) and
    drop the form's runtime indexes no field needs any more — a field no longer marked
    `indexed` stops costing every write. On PostgreSQL both are done CONCURRENTLY, so
    writes never wait, one build at a time; an index a failed build left invalid is
    dropped and built again, and a failing build is tried `BUILD_ATTEMPTS` times. Returns
    the names of the indexes the form has; raises `IndexBuildFailed` naming those it
    could not build (the job is then retried, see `jobs`)."""
    postgres = engine.dialect.name == "postgresql"
    concurrently = "CONCURRENTLY " if postgres else ""
    wanted = wanted_indexes(engine.dialect, form_id, fields, searchable)
    built, failed = [], []
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        if postgres:
            _take_build_lock(connection)
        try:
            for name, definition in wanted:
                if _build_one(connection, name, definition, form_id, concurrently, pause):
                    built.append(name)
                else:
                    failed.append(name)
            names = {name for name, _definition in wanted}
            for name in runtime_indexes(connection, form_id):
                if name not in names:
                    try:
                        connection.execute(text(f"DROP INDEX {concurrently}IF EXISTS {name}"))
                    except Exception:
                        log.exception("could not drop index %s", name)
        finally:
            if postgres:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"),
                                   {"key": _BUILD_LOCK})
    if failed:
        raise IndexBuildFailed(failed)
    return built


def _take_build_lock(connection: Any) -> None:
    """Wait for the build lock by polling, never in a blocking statement: a CONCURRENTLY
    build waits for every running transaction, and a blocked lock call is one — the two
    would wait for each other."""
    while not connection.execute(text("SELECT pg_try_advisory_lock(:key)"),
                                 {"key": _BUILD_LOCK}).scalar():
        time.sleep(0.05)


class IndexBuildFailed(RuntimeError):
    def __init__(self, names: list[str]) -> None:
        super().__init__(f"could not build {', '.join(names)}")
        self.names = names


def _build_one(connection: Any, name: str, definition: str, form_id: int,
               concurrently: str, pause: float) -> bool:
    for attempt in range(BUILD_ATTEMPTS):
        try:
            if _index_states(connection, [name]).get(name) is False:  # a failed build's
                connection.execute(text(f"DROP INDEX {concurrently}IF EXISTS {name}"))
            connection.execute(text(
                f"CREATE INDEX {concurrently}IF NOT EXISTS {name} ON records "
                f"{definition} WHERE form_id = {int(form_id)}"))
            if _index_states(connection, [name]).get(name):
                return True
        except Exception:  # a deadlock, a cancelled build: drop what it left, try again
            log.warning("building index %s failed (attempt %d)", name, attempt + 1,
                        exc_info=True)
        time.sleep(pause * 2 ** attempt)
    log.error("could not build index %s", name)
    return False


def refresh_statistics(engine: Engine) -> None:
    """PostgreSQL: ANALYZE the records table, so the planner knows what a large import
    added. Until it does, a form that grew by a hundred thousand records can still look
    nearly empty to it, and a look-up by an indexed field scans the whole form instead
    of reading its index (measured: 58 ms instead of 0.1 ms at 100 000 records).
    Autovacuum would analyze too, but only once a tenth of the whole table — every
    tenant's records — has changed. SQLite keeps no statistics unless asked: nothing to do."""
    if engine.dialect.name != "postgresql":
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("ANALYZE records"))
