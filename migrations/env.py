"""Alembic environment: runs against the connection or URL that `crm_platform.migrate` gives."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, make_url

from crm_platform import models  # noqa: F401  (registers every table)
from crm_platform.db import Base, UTCDateTime
from migrations.env_support import include_object_on

config = context.config
target_metadata = Base.metadata


def render_item(kind: str, obj, autogen_context):
    """Render Loom's column types as plain SQLAlchemy types, so migrations import no app code."""
    if kind == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def run_migrations_offline() -> None:
    context.configure(url=config.get_main_option("sqlalchemy.url"),
                      target_metadata=target_metadata, literal_binds=True,
                      render_as_batch=True, compare_type=True, render_item=render_item,
                      include_object=include_object_on(make_url(config.get_main_option(
                          "sqlalchemy.url")).get_backend_name()))
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = create_engine(config.get_main_option("sqlalchemy.url"))
    with engine.connect() as connection:
        _run(connection)
    engine.dispose()


def _run(connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata,
                      render_as_batch=True, compare_type=True, render_item=render_item,
                      include_object=include_object_on(connection.dialect.name))
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
