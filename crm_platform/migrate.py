"""Alembic, driven from code: `loom db upgrade` and the tests use the same entry point."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection

import migrations

MIGRATIONS_DIR = Path(migrations.__file__).parent


def alembic_config(database_url: str, connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    config.set_main_option("path_separator", "os")
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade(database_url: str, revision: str = "head", connection: Connection | None = None
            ) -> None:
    command.upgrade(alembic_config(database_url, connection), revision)


def make_revision(database_url: str, message: str) -> None:
    """Developer helper: autogenerate a migration from the models (see docs/development.md)."""
    command.revision(alembic_config(database_url), message=message, autogenerate=True)
