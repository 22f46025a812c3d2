"""One SQL expression per record data field, written the same way in queries and in the
indexes built for `indexed` / `unique` fields — so the database can use those indexes.

`data_field("phone", "text")` compiles to `(data ->> 'phone')` on PostgreSQL and
`json_extract(data, '$.phone')` on SQLite (which keeps JSON numbers numeric). Keys are
form field keys, checked against `^[a-z][a-z0-9_]{0,62}$` before they reach SQL.
"""

from __future__ import annotations

import logging
import re
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
        if not _KEY.match(key) or kind not in _TYPES:
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


class SearchDocument(ColumnElement[Any]):
    """PostgreSQL: the form's text fields as one `tsvector` (the 'simple' configuration: no
    stemming, so names and codes match as typed) — written the same way in the search
    query and in the form's GIN index."""

    inherit_cache = True
    type = String()
    _traverse_internals: ClassVar[list[tuple[str, Any]]] = [
        ("keys", InternalTraversal.dp_string_list)]

    def __init__(self, keys: tuple[str, ...]) -> None:
        if not keys or not all(_KEY.match(key) for key in keys):
            raise ValueError(f"not data fields: {keys!r}")
        self.keys = list(keys)


@compiles(SearchDocument, "postgresql")
def _search_document(element: SearchDocument, compiler: Any, **kw: Any) -> str:
    # `||` and coalesce keep the expression IMMUTABLE (concat_ws is not), so it can be indexed
    text_ = " || ' ' || ".join(f"coalesce(data ->> '{key}', '')" for key in element.keys)
    return f"to_tsvector('simple'::regconfig, {text_})"


def search_index_name(form_id: int) -> str:
    return f"{RUNTIME_INDEX_PREFIX}{form_id}__search"


# Indexes built at run time for indexed fields; not part of the migrated schema.
RUNTIME_INDEX_PREFIX = "ix_records_f"


def index_name(form_id: int, key: str) -> str:
    name = f"{RUNTIME_INDEX_PREFIX}{form_id}_{key}"
    if len(name) > 63:  # PostgreSQL's limit; keep names distinct
        import hashlib

        name = f"{name[:54]}_{hashlib.sha1(name.encode()).hexdigest()[:8]}"
    return name


def is_runtime_index(name: str | None) -> bool:
    return bool(name) and name.startswith(RUNTIME_INDEX_PREFIX)  # type: ignore[union-attr]


def build_indexes(engine: Engine, form_id: int, fields: list[tuple[str, str]],
                  searchable: tuple[str, ...] = ()) -> list[str]:
    """Expression indexes (partial, per form) for `fields` = [(key, kind)], and on
    PostgreSQL a full-text (GIN) index over the `searchable` text fields; built
    CONCURRENTLY there so writes never wait. Returns the names built."""
    postgres = engine.dialect.name == "postgresql"
    wanted = []
    for key, kind in fields:
        wanted.append((index_name(form_id, key), "",
                       str(data_field(key, kind).compile(dialect=engine.dialect))))
        if kind in _BLANK_SQL:  # the two orders a list sorts by this field in
            for suffix, descending in (("__asc", False), ("__desc", True)):
                wanted.append((index_name(form_id, key + suffix), "", str(sort_field(
                    key, kind, descending).compile(dialect=engine.dialect))))
    if postgres and searchable:
        document = str(SearchDocument(searchable).compile(dialect=engine.dialect))
        wanted.append((search_index_name(form_id), "USING gin ", document))
    built = []
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        for name, method, expression in wanted:
            concurrently = "CONCURRENTLY " if postgres else ""
            try:
                connection.execute(text(
                    f"CREATE INDEX {concurrently}IF NOT EXISTS {name} ON records "
                    f"{method}(({expression})) WHERE form_id = {int(form_id)}"))
                built.append(name)
            except Exception:  # an index is an optimisation: log, never fail the publish
                log.exception("could not build index %s", name)
    return built
