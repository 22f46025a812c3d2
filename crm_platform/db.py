"""Engine, declarative base, column types and the request-scoped session.

The caller owns the transaction: services take a `Session` and never commit. In a web
request the session lives on `flask.g` and is committed once, at the end of the request,
only when the response is a success; any error response or exception rolls it back, so a
failed request never leaves a half-written change.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Annotated, Any

import orjson
import simplejson
from flask import Flask, Response, current_app, g
from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Engine,
    ForeignKey,
    Integer,
    MetaData,
    create_engine,
    event,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import DeclarativeBase, Session, mapped_column, sessionmaker
from sqlalchemy.types import TypeDecorator


def _referencing_column(constraint: Any, _table: Any) -> str:
    """The column a foreign key is about: `owner_id` of `(tenant_id, owner_id)`."""
    names = [element.parent.name for element in constraint.elements]
    return next((name for name in names if name != "tenant_id"), names[0])


NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(referencing_column)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
    "referencing_column": _referencing_column,
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC timestamps on every backend (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None or value.tzinfo is UTC:
            return value
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# Integer ids: BIGINT on PostgreSQL, INTEGER on SQLite (only that aliases ROWID).
IdType = BigInteger().with_variant(Integer(), "sqlite")
JSONType = JSON().with_variant(JSONB(), "postgresql")

IntPK = Annotated[int, mapped_column(IdType, primary_key=True, autoincrement=True)]
Timestamp = Annotated[datetime, mapped_column(UTCDateTime(), default=utcnow)]
OptionalTimestamp = Annotated[datetime | None, mapped_column(UTCDateTime())]


def tenant_fk() -> Any:
    """The `tenant_id` column every tenant-owned table carries."""
    return mapped_column(IdType, ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False)


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _orjson_default(value: Any) -> Any:
    if isinstance(value, Decimal) and value.is_finite():
        return orjson.Fragment(str(value))   # exact: 1234.50 stays 1234.50
    return _json_default(value)


# Datetimes go through `_json_default` (isoformat), as simplejson wrote them.
_ORJSON_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME


def dump_json(value: Any) -> str:
    """JSON columns keep decimals exact (written as numbers, read back as Decimal).
    orjson writes it; what orjson refuses (an integer beyond 64 bits, a non-finite
    decimal) is written by simplejson, as before orjson was used."""
    try:
        return orjson.dumps(value, default=_orjson_default, option=_ORJSON_OPTIONS).decode()
    except TypeError:
        return stable_json(value)


def stable_json(value: Any) -> str:
    """`value` as JSON text in the one format that never changes between releases (what a
    stored hash is computed over): simplejson's, decimals exact."""
    return simplejson.dumps(value, use_decimal=True, default=_json_default,
                            ensure_ascii=False)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


# The standard library's scanner, made once (a decoder per call costs as much as the
# parse): twice as fast as simplejson's `loads` here, with the same results — numbers
# with a fraction or exponent as exact Decimals, and no NaN or Infinity.
_DECODER = json.JSONDecoder(parse_float=Decimal, parse_constant=_no_constant)


def load_json(text: str | bytes | memoryview) -> Any:
    """JSON text as Python values, decimals exact (psycopg hands JSONB over as bytes)."""
    if not isinstance(text, str):
        text = bytes(text).decode()
    return _DECODER.decode(text)


SQLITE_BUSY_SECONDS = 30   # how long a SQLite writer waits for another to finish


def build_engine(url: str) -> Engine:
    """An engine with the per-backend settings Loom needs."""
    json_options = {"json_serializer": dump_json, "json_deserializer": load_json}
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_SECONDS,
                                                  "check_same_thread": False},
                               **json_options)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    engine = create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20,
                           **json_options)

    @event.listens_for(engine, "connect")
    def _utc_session(dbapi_connection: Any, _record: Any) -> None:
        # Timestamps then arrive in the zone Loom keeps them in (UTCDateTime still
        # converts any other); a SET, not a startup option, which poolers may refuse.
        dbapi_connection.execute("SET TIME ZONE 'UTC'")
        dbapi_connection.commit()

    return engine


def write_first(session: Session) -> None:
    """SQLite: take the database's write lock now, before this transaction reads.

    A transaction that reads and then writes fails at once ("database is locked") if
    another writer committed in between: its snapshot is stale, and waiting cannot help.
    A write as the first statement waits for the lock instead (an UPDATE of no row still
    takes it). PostgreSQL locks rows, not the database: nothing to do."""
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text("UPDATE tenants SET id = id WHERE 0"))


def try_write_first(session: Session, wait_seconds: float = 2) -> bool:
    """SQLite: take the database's write lock now, waiting for it at most `wait_seconds`;
    False when another writer holds it longer (or this transaction's snapshot is already
    stale). PostgreSQL: True (it locks rows)."""
    if session.get_bind().dialect.name != "sqlite":
        return True
    connection = session.connection()
    connection.exec_driver_sql(f"PRAGMA busy_timeout = {int(wait_seconds * 1000)}")
    try:
        write_first(session)
        return True
    except OperationalError:
        return False
    finally:
        connection.exec_driver_sql(f"PRAGMA busy_timeout = {SQLITE_BUSY_SECONDS * 1000}")


def write_from_here(session: Session) -> None:
    """SQLite: end the read-only transaction a request signed in with, and start one that
    holds the write lock before it reads anything — so a change that reads, then writes
    cannot fail as "database is locked" because a background job committed in between.
    Call it before the request reads what it will change. PostgreSQL: nothing to do."""
    if session.get_bind().dialect.name == "sqlite":
        session.rollback()
        write_first(session)


def for_claiming(session: Session, statement: Any) -> Any:
    """`statement` locking the rows it reads and passing over rows another worker holds,
    so that several workers share due work without taking one row twice (PostgreSQL).
    SQLite lets one writer in at a time: nothing to add."""
    if session.get_bind().dialect.name == "postgresql":
        return statement.with_for_update(skip_locked=True)
    return statement


class Database:
    """Owns the engine and session factory for one app."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = build_engine(url)
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False)

    def init_app(self, app: Flask) -> None:
        app.extensions["loom.db"] = self
        app.after_request(_finish_request_session)
        app.teardown_appcontext(_close_request_session)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session in its own transaction, committed on success (CLI, jobs, security logs)."""
        with self.sessionmaker() as session, session.begin():
            yield session

    def dispose(self) -> None:
        self.engine.dispose()


def database(app: Flask | None = None) -> Database:
    return (app or current_app).extensions["loom.db"]


def request_session() -> Session:
    """The session of the current request, created on first use."""
    if "loom_session" not in g:
        g.loom_session = database().sessionmaker()
    return g.loom_session


def _finish_request_session(response: Response) -> Response:
    session: Session | None = g.pop("loom_session", None)
    if session is None:
        return response
    try:
        if response.status_code < 400:
            session.commit()
        else:
            session.rollback()
    finally:
        session.close()
    return response


def _close_request_session(_exc: BaseException | None) -> None:
    session: Session | None = g.pop("loom_session", None)
    if session is not None:
        session.rollback()
        session.close()
