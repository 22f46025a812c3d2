"""How tenant-owned tables are keyed, so that PostgreSQL can be distributed by tenant.

On PostgreSQL every tenant-owned table's primary key is `(tenant_id, …)`, its unique
constraints hold `tenant_id`, and a reference from one tenant table to another is the pair
`(tenant_id, x_id) → (tenant_id, id)`. So each table can be distributed by `tenant_id`
(Citus) and co-located with the others: a tenant's rows, and every join and foreign key
between them, stay on one shard. `tenants` is a reference table (copied to every node);
`jobs` and `login_throttle` are platform-wide and stay on the coordinator (DESIGN §3,
`docs/scaling.md`).

Citus cannot `SET NULL` a foreign key that holds the distribution column (it would null the
tenant), so on PostgreSQL a nullable reference is `NO ACTION`, and the one service that
deletes a row such references point at (departments) clears them first.

SQLite is never distributed and keeps the single-machine shape, as it always had: the
primary key leaves the tenant out (`id` alone is the fast ROWID alias) and references are
plain `x_id → id` with their `ON DELETE`. The ORM's identity is the PostgreSQL key on both,
so every statement the ORM writes names the tenant.
"""

from __future__ import annotations

from typing import Annotated, Any

from sqlalchemy import ForeignKeyConstraint, PrimaryKeyConstraint
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import mapped_column
from sqlalchemy.schema import Constraint, CreateColumn

from crm_platform.db import IdType

REFERENCE_TABLES = frozenset({"tenants"})
COORDINATOR_TABLES = frozenset({"jobs", "login_throttle"})

# The `id` of a tenant-owned row: numbered by the database, keyed with the tenant.
RowId = Annotated[int, mapped_column(IdType, autoincrement=True)]


def tenant_key(*columns: str, on_sqlite: bool = False) -> PrimaryKeyConstraint:
    """The primary key `(tenant_id, *columns)` — `(tenant_id, id)` by default. SQLite
    leaves the tenant out unless `on_sqlite` (keys that always held it there)."""
    return PrimaryKeyConstraint("tenant_id", *(columns or ("id",)),
                                info={"sqlite_without_tenant": not on_sqlite})


def references(*targets: tuple[str, str, str], use_alter: bool = False
               ) -> tuple[ForeignKeyConstraint, ...]:
    """Foreign keys `(column, table, on_delete)` to other tenant tables, in both shapes."""
    constraints: list[ForeignKeyConstraint] = []
    for column, table, on_delete in targets:
        constraints.append(ForeignKeyConstraint(
            ["tenant_id", column], [f"{table}.tenant_id", f"{table}.id"],
            ondelete=None if on_delete == "SET NULL" else on_delete,
            use_alter=use_alter).ddl_if(dialect="postgresql"))
        constraints.append(ForeignKeyConstraint(
            [column], [f"{table}.id"], ondelete=on_delete,
            use_alter=use_alter).ddl_if(dialect="sqlite"))
    return tuple(constraints)


def exists_on(constraint: Constraint, dialect: str) -> bool:
    """Whether `constraint` is created on `dialect` (see `references`)."""
    condition = getattr(constraint, "_ddl_if", None)
    return condition is None or condition.dialect in (None, dialect)


@compiles(PrimaryKeyConstraint, "sqlite")
def _sqlite_primary_key(constraint: PrimaryKeyConstraint, compiler: Any, **kw: Any) -> str:
    """SQLite: the tenant key without the tenant (`PRIMARY KEY (id)` aliases the ROWID)."""
    if not constraint.info.get("sqlite_without_tenant"):
        return compiler.visit_primary_key_constraint(constraint, **kw)
    columns = ", ".join(compiler.preparer.quote(column.name) for column in constraint.columns
                        if column.name != "tenant_id")
    name = compiler.preparer.format_constraint(constraint)
    return f"CONSTRAINT {name} PRIMARY KEY ({columns})"


@compiles(CreateColumn, "sqlite")
def _sqlite_row_id(element: CreateColumn, compiler: Any, **kw: Any) -> str:
    """SQLite: a tenant-keyed `id` is the ROWID alias (SQLAlchemy refuses `autoincrement`
    in a composite key, which it is only on PostgreSQL)."""
    column = element.element
    if (column.autoincrement is True
            and column.table.primary_key.info.get("sqlite_without_tenant")):
        return f"{compiler.preparer.format_column(column)} INTEGER NOT NULL"
    return compiler.visit_create_column(element, **kw)


def distribution_plan(metadata: Any) -> list[str]:
    """The SQL that distributes a migrated Loom database on Citus (`loom db
    distribution-plan`, docs/scaling.md): the reference table, the coordinator's tables,
    then every tenant table co-located with the first, referenced tables before the tables
    that reference them. A reference that closes a cycle (`use_alter`) is dropped before
    and made again after: Citus distributes a table only once what it references is."""
    cyclic = [(table.name, constraint) for table in metadata.sorted_tables
              for constraint in table.foreign_key_constraints
              if constraint.use_alter and exists_on(constraint, "postgresql")]
    lines = [f"ALTER TABLE {table} DROP CONSTRAINT {constraint.name};"
             for table, constraint in cyclic]
    lines += [f"SELECT create_reference_table('{name}');" for name in sorted(REFERENCE_TABLES)]
    lines += [f"SELECT citus_add_local_table_to_metadata('{name}');"
              for name in sorted(COORDINATOR_TABLES)]
    first = None
    for table in metadata.sorted_tables:
        if table.name in REFERENCE_TABLES | COORDINATOR_TABLES:
            continue
        lines.append(f"SELECT create_distributed_table('{table.name}', 'tenant_id', "
                     f"colocate_with => '{first or 'none'}');")
        first = first or table.name
    for table, constraint in cyclic:
        local = ", ".join(element.parent.name for element in constraint.elements)
        remote = ", ".join(element.column.name for element in constraint.elements)
        on_delete = f" ON DELETE {constraint.ondelete}" if constraint.ondelete else ""
        lines.append(f"ALTER TABLE {table} ADD CONSTRAINT {constraint.name} FOREIGN KEY "
                     f"({local}) REFERENCES {constraint.referred_table.name} ({remote})"
                     f"{on_delete};")
    return lines
