"""Installed templates: for each app installed from a template, the template's key, its
version and the bundle as installed — the base of the next upgrade's three-way merge — and
a newer version offered on the gallery page while its conflicts are resolved; and the
installs asked for on the gallery page, which run as jobs the page follows.

Keyed like every tenant table since 0015: on PostgreSQL (tenant_id, id) with references
that carry the tenant; on SQLite the ROWID id and plain references.

Revision ID: 0019_template_installs
Revises: 0018_form_draft_steps
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0019_template_installs"
down_revision = "0018_form_draft_steps"
branch_labels = None
depends_on = None


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    ids = sa.BigInteger() if postgres else sa.Integer()
    json = postgresql.JSONB() if postgres else sa.JSON()
    if postgres:
        keys = [sa.PrimaryKeyConstraint("tenant_id", "id", name="pk_template_installs"),
                sa.ForeignKeyConstraint(["tenant_id", "app_id"], ["apps.tenant_id", "apps.id"],
                                        name="fk_template_installs_app_id_apps",
                                        ondelete="CASCADE")]
    else:
        keys = [sa.PrimaryKeyConstraint("id", name="pk_template_installs"),
                sa.ForeignKeyConstraint(["app_id"], ["apps.id"],
                                        name="fk_template_installs_app_id_apps",
                                        ondelete="CASCADE")]
    op.create_table(
        "template_installs",
        sa.Column("id", ids, autoincrement=True, nullable=False),
        sa.Column("tenant_id", ids, nullable=False),
        sa.Column("app_id", ids, nullable=False),
        sa.Column("template_key", sa.String(63), nullable=False),
        sa.Column("version", sa.String(40), nullable=False),
        sa.Column("bundle", json, nullable=False),
        sa.Column("pending", json, nullable=True),
        sa.Column("installed_by_id", ids, nullable=True),
        sa.Column("installed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("upgraded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"],
                                name="fk_template_installs_tenant_id_tenants",
                                ondelete="CASCADE"),
        sa.UniqueConstraint("tenant_id", "app_id", name="uq_template_installs_tenant_id_app_id"),
        *keys)


    if postgres:
        task_keys = [sa.PrimaryKeyConstraint("tenant_id", "id", name="pk_template_tasks"),
                     sa.ForeignKeyConstraint(["tenant_id", "requested_by_id"],
                                             ["users.tenant_id", "users.id"],
                                             name="fk_template_tasks_requested_by_id_users",
                                             ondelete="CASCADE")]
    else:
        task_keys = [sa.PrimaryKeyConstraint("id", name="pk_template_tasks"),
                     sa.ForeignKeyConstraint(["requested_by_id"], ["users.id"],
                                             name="fk_template_tasks_requested_by_id_users",
                                             ondelete="CASCADE")]
    op.create_table(
        "template_tasks",
        sa.Column("id", ids, autoincrement=True, nullable=False),
        sa.Column("tenant_id", ids, nullable=False),
        sa.Column("requested_by_id", ids, nullable=False),
        sa.Column("template_key", sa.String(63), nullable=True),
        sa.Column("bundle", json, nullable=True),
        sa.Column("app_key", sa.String(63), nullable=True),
        sa.Column("sample_data", sa.Boolean(), nullable=False),
        sa.Column("locale", sa.String(8), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("result", json, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"],
                                name="fk_template_tasks_tenant_id_tenants", ondelete="CASCADE"),
        *task_keys)


def downgrade() -> None:
    op.drop_table("template_tasks")
    op.drop_table("template_installs")
