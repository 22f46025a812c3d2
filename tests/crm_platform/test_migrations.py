"""The Alembic migrations and the models describe the same schema, on both databases."""

from __future__ import annotations

import warnings

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from crm_platform.db import Base
from crm_platform.migrate import alembic_config
from migrations.env_support import include_object_on


def test_autogenerate_finds_no_difference_after_upgrade(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection, warnings.catch_warnings():
            # per-form expression indexes (built at run time) cannot be reflected
            warnings.filterwarnings("ignore", "Skipped unsupported reflection")
            context = MigrationContext.configure(connection, opts={
                "compare_type": True, "render_as_batch": True,
                "include_object": include_object_on(connection.dialect.name)})
            differences = compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()
    assert differences == []


def test_every_model_table_exists_with_the_naming_convention(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        inspector = inspect(engine)
        assert set(Base.metadata.tables) <= set(inspector.get_table_names())
        foreign_keys = inspector.get_foreign_keys("users")
        assert {fk["name"] for fk in foreign_keys} >= {"fk_users_tenant_id_tenants"}
    finally:
        engine.dispose()


def test_the_database_is_at_the_single_head_of_the_shipped_migrations(database_url: str
                                                                      ) -> None:
    from alembic.script import ScriptDirectory

    heads = ScriptDirectory.from_config(alembic_config(database_url)).get_heads()
    assert len(heads) == 1, f"migrations have branched: {heads}"
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            assert MigrationContext.configure(connection).get_current_revision() == heads[0]
    finally:
        engine.dispose()
