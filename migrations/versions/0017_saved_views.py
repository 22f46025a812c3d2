"""Saved views: a form's list or kanban arrangement, personal or shared.

Keyed like every tenant table since 0015: on PostgreSQL (tenant_id, id) with references
that carry the tenant; on SQLite the ROWID id and plain references.

Revision ID: 0017_saved_views
Revises: 0016_user_timezone
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0017_saved_views"
down_revision = "0016_user_timezone"
branch_labels = None
depends_on = None


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    ids = sa.BigInteger() if postgres else sa.Integer()
    json = postgresql.JSONB() if postgres else sa.JSON()
    if postgres:
        keys = [sa.PrimaryKeyConstraint("tenant_id", "id", name="pk_saved_views"),
                sa.ForeignKeyConstraint(["tenant_id", "form_id"], ["forms.tenant_id", "forms.id"],
                                        name="fk_saved_views_form_id_forms", ondelete="CASCADE"),
                sa.ForeignKeyConstraint(["tenant_id", "owner_id"],
                                        ["users.tenant_id", "users.id"],
                                        name="fk_saved_views_owner_id_users", ondelete="CASCADE")]
    else:
        keys = [sa.PrimaryKeyConstraint("id", name="pk_saved_views"),
                sa.ForeignKeyConstraint(["form_id"], ["forms.id"],
                                        name="fk_saved_views_form_id_forms", ondelete="CASCADE"),
                sa.ForeignKeyConstraint(["owner_id"], ["users.id"],
                                        name="fk_saved_views_owner_id_users", ondelete="CASCADE")]
    op.create_table(
        "saved_views",
        sa.Column("id", ids, autoincrement=True, nullable=False),
        sa.Column("tenant_id", ids, nullable=False),
        sa.Column("form_id", ids, nullable=False),
        sa.Column("owner_id", ids, nullable=False),
        sa.Column("name", json, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("definition", json, nullable=False),
        sa.Column("visibility", sa.String(length=16), nullable=False),
        sa.Column("roles", json, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"],
                                name="fk_saved_views_tenant_id_tenants", ondelete="CASCADE"),
        *keys)
    op.create_index("ix_saved_views_tenant_id_form_id", "saved_views", ["tenant_id", "form_id"])


def downgrade() -> None:
    op.drop_index("ix_saved_views_tenant_id_form_id", table_name="saved_views")
    op.drop_table("saved_views")
