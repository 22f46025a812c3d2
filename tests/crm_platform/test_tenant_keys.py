"""Every tenant table can be distributed by tenant (Citus): its keys, unique constraints and
references hold `tenant_id` on PostgreSQL — checked from the models for every table, so a
later table cannot break it, and in the migrated database, whose data the migration keeps."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from click.testing import CliRunner
from sqlalchemy import (
    ForeignKeyConstraint,
    Index,
    UniqueConstraint,
    column,
    create_engine,
    insert,
    inspect,
    select,
    table,
    text,
)

from crm_platform.cli import main
from crm_platform.db import Base, Database, utcnow
from crm_platform.migrate import upgrade
from crm_platform.models import App, Department, Job, Record, Tenant, User
from crm_platform.models.keys import (
    COORDINATOR_TABLES,
    REFERENCE_TABLES,
    distribution_plan,
    exists_on,
)
from crm_platform.scoping import TenantScope

TABLES = Base.metadata.tables
DISTRIBUTED = sorted(set(TABLES) - REFERENCE_TABLES - COORDINATOR_TABLES)


def _postgres_references(table) -> list[ForeignKeyConstraint]:
    return [constraint for constraint in table.foreign_key_constraints
            if exists_on(constraint, "postgresql")]


def test_platform_tables_are_named_and_every_other_table_belongs_to_a_tenant() -> None:
    assert set(TABLES) >= REFERENCE_TABLES | COORDINATOR_TABLES
    assert "tenant_id" not in TABLES["tenants"].c
    for name in DISTRIBUTED:
        column = TABLES[name].c.get("tenant_id")
        assert column is not None and not column.nullable, name


@pytest.mark.parametrize("name", DISTRIBUTED)
def test_the_primary_key_leads_with_the_tenant(name: str) -> None:
    assert next(column.name for column in TABLES[name].primary_key.columns) == "tenant_id"


@pytest.mark.parametrize("name", DISTRIBUTED)
def test_every_unique_constraint_holds_the_tenant(name: str) -> None:
    table = TABLES[name]
    unique = [constraint for constraint in table.constraints
              if isinstance(constraint, UniqueConstraint)]
    unique += [index for index in table.indexes if isinstance(index, Index) and index.unique]
    unique += [column for column in table.columns if column.unique]
    for constraint in unique:
        columns = getattr(constraint, "columns", [constraint])
        assert "tenant_id" in {column.name for column in columns}, (name, constraint)


@pytest.mark.parametrize("name", DISTRIBUTED)
def test_references_between_tenant_tables_are_co_located(name: str) -> None:
    for constraint in _postgres_references(TABLES[name]):
        referred = constraint.referred_table.name
        assert referred not in COORDINATOR_TABLES, (name, referred)
        if referred in REFERENCE_TABLES:
            continue
        pairs = [(element.parent.name, element.column.name) for element in constraint.elements]
        assert pairs[0] == ("tenant_id", "tenant_id"), (name, constraint.name, pairs)
        assert [remote for _local, remote in pairs] == [
            column.name for column in constraint.referred_table.primary_key.columns]
        # Citus refuses SET NULL / SET DEFAULT on a key that holds the distribution column
        assert constraint.ondelete in (None, "CASCADE", "RESTRICT", "NO ACTION"), (
            name, constraint.name, constraint.ondelete)


def test_each_reference_exists_once_per_database() -> None:
    """The SQLite shape has the same references, without the tenant."""
    for name in DISTRIBUTED:
        table = TABLES[name]
        on = {dialect: sorted(element.parent.name
                              for constraint in table.foreign_key_constraints
                              if exists_on(constraint, dialect)
                              for element in constraint.elements
                              if element.parent.name != "tenant_id")
              for dialect in ("postgresql", "sqlite")}
        assert on["postgresql"] == on["sqlite"], name


def test_the_database_has_the_keys_of_its_kind(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        inspector = inspect(engine)
        dialect = engine.dialect.name
        for name in DISTRIBUTED:
            key = inspector.get_pk_constraint(name)["constrained_columns"]
            expected = [column.name for column in TABLES[name].primary_key.columns]
            if dialect == "sqlite" and TABLES[name].primary_key.info["sqlite_without_tenant"]:
                expected = [column for column in expected if column != "tenant_id"]
            assert key == expected, name
            for reference in inspector.get_foreign_keys(name):
                if reference["referred_table"] in REFERENCE_TABLES:
                    continue
                has_tenant = "tenant_id" in reference["constrained_columns"]
                assert has_tenant == (dialect == "postgresql"), (name, reference)
    finally:
        engine.dispose()


@pytest.fixture
def scratch_url(database_url: str, tmp_path) -> Iterator[str]:
    """An empty database of the same kind, for a migration of its own."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'keys.db'}"
        return
    admin = create_engine(database_url)
    with admin.begin() as connection:
        connection.execute(text("DROP SCHEMA IF EXISTS keys_check CASCADE"))
        connection.execute(text("CREATE SCHEMA keys_check"))
    try:
        yield f"{database_url}?options=-csearch_path%3Dkeys_check"
    finally:
        with admin.begin() as connection:
            connection.execute(text("DROP SCHEMA keys_check CASCADE"))
        admin.dispose()


def test_the_migration_keeps_the_data_and_goes_both_ways(scratch_url: str) -> None:
    upgrade(scratch_url, "0014_durable_jobs")
    database = Database(scratch_url)
    try:
        with database.transaction() as session:
            # The schema of 0014, written as it was: tenants and users through their
            # columns of then (the models have columns added since).
            tenant_id = session.execute(insert(Tenant.__table__).values(
                slug="keys", name="Keys").returning(Tenant.__table__.c.id)).scalar_one()
            admin_id = session.execute(insert(User.__table__).values(
                tenant_id=tenant_id, email="admin@keys.example", name="Admin",
                password_hash="x").returning(User.__table__.c.id)).scalar_one()
            scope = TenantScope(session, tenant_id)
            sales = scope.add(Department(name="Sales"))
            session.flush()
            app = scope.add(App(key="crm", name="CRM", created_by_id=admin_id))
            session.flush()
            forms_then = table("forms", *(column(name) for name in (
                "id", "tenant_id", "app_id", "key", "draft", "published_version",
                "created_at", "draft_updated_at")))
            form_id = session.execute(insert(forms_then).values(
                tenant_id=tenant_id, app_id=app.id, key="deal", draft="{}", published_version=1,
                created_at=utcnow(), draft_updated_at=utcnow()).returning(
                forms_then.c.id)).scalar_one()
            record = scope.add(Record(form_id=form_id, form_version=1, data={"n": 1},
                                      owner_id=admin_id, department_id=sales.id))
            session.add(Job(tenant_id=tenant_id, name="import", args=[7], status="queued"))
            session.flush()
            keys = (tenant_id, admin_id, sales.id, form_id, record.id)
        database.dispose()

        upgrade(scratch_url)
        _assert_kept(database, keys, [keys[0], 7])

        from alembic import command

        from crm_platform.migrate import alembic_config

        command.downgrade(alembic_config(scratch_url), "0014_durable_jobs")
        _assert_kept(database, keys, [7])
        upgrade(scratch_url)
        _assert_kept(database, keys, [keys[0], 7])
        engine = create_engine(scratch_url)
        try:
            pk = inspect(engine).get_pk_constraint("records")["constrained_columns"]
        finally:
            engine.dispose()
        assert pk == (["tenant_id", "id"] if scratch_url.startswith("postgresql") else ["id"])
    finally:
        database.dispose()


def _assert_kept(database: Database, keys: tuple[int, ...], job_args: list[int]) -> None:
    tenant_id, admin_id, department_id, form_id, record_id = keys
    with database.transaction() as session:
        scope = TenantScope(session, tenant_id)
        record = scope.find(Record, record_id)
        assert record is not None and record.data == {"n": 1}
        assert (record.form_id, record.owner_id, record.department_id) == (
            form_id, admin_id, department_id)
        email = session.execute(select(User.__table__.c.email).where(
            User.__table__.c.id == admin_id)).scalar_one()
        assert email == "admin@keys.example"
        assert session.query(Job).one().args == job_args
    database.dispose()


def test_the_distribution_plan_distributes_each_table_after_what_it_references() -> None:
    plan = distribution_plan(Base.metadata)
    order = {}
    for line in plan:
        match = re.match(r"SELECT (create_reference_table|citus_add_local_table_to_metadata|"
                         r"create_distributed_table)\('(\w+)'", line)
        if match:
            assert match[2] not in order, f"{match[2]} twice"
            order[match[2]] = len(order)
    assert set(order) == set(TABLES)
    dropped = {line.split()[5].rstrip(";") for line in plan if " DROP CONSTRAINT " in line}
    for name in DISTRIBUTED:
        for constraint in _postgres_references(TABLES[name]):
            if constraint.name not in dropped and constraint.referred_table.name != name:
                assert order[constraint.referred_table.name] < order[name], constraint.name
    for name in dropped:  # made again at the end, with the tenant
        assert any(line.startswith("ALTER TABLE") and f"ADD CONSTRAINT {name} FOREIGN KEY "
                   "(tenant_id," in line for line in plan[-len(dropped):])


def test_the_command_prints_the_plan() -> None:
    result = CliRunner().invoke(main, ["db", "distribution-plan"])
    assert result.exit_code == 0
    assert result.output.splitlines() == distribution_plan(Base.metadata)
