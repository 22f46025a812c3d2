"""The form builder's drafts: a revision number on each form's draft (an edit made on an
older revision is a conflict, not an overwrite) and the steps of the draft, kept for undo
and redo.

Keyed like every tenant table since 0015: on PostgreSQL (tenant_id, id) with references
that carry the tenant; on SQLite the ROWID id and plain references.

Revision ID: 0018_form_draft_steps
Revises: 0017_saved_views
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0018_form_draft_steps"
down_revision = "0017_saved_views"
branch_labels = None
depends_on = None


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    ids = sa.BigInteger() if postgres else sa.Integer()
    json = postgresql.JSONB() if postgres else sa.JSON()
    if postgres:
        keys = [sa.PrimaryKeyConstraint("tenant_id", "id", name="pk_form_draft_steps"),
                sa.ForeignKeyConstraint(["tenant_id", "form_id"], ["forms.tenant_id", "forms.id"],
                                        name="fk_form_draft_steps_form_id_forms",
                                        ondelete="CASCADE")]
    else:
        keys = [sa.PrimaryKeyConstraint("id", name="pk_form_draft_steps"),
                sa.ForeignKeyConstraint(["form_id"], ["forms.id"],
                                        name="fk_form_draft_steps_form_id_forms",
                                        ondelete="CASCADE")]
    op.create_table(
        "form_draft_steps",
        sa.Column("id", ids, autoincrement=True, nullable=False),
        sa.Column("tenant_id", ids, nullable=False),
        sa.Column("form_id", ids, nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("before", json, nullable=False),
        sa.Column("after", json, nullable=False),
        sa.Column("undone", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"],
                                name="fk_form_draft_steps_tenant_id_tenants", ondelete="CASCADE"),
        *keys)
    op.create_index("ix_form_draft_steps_tenant_id_form_id_revision", "form_draft_steps",
                    ["tenant_id", "form_id", "revision"])
    with op.batch_alter_table("forms") as batch:
        batch.add_column(sa.Column("draft_revision", sa.Integer(), server_default="0",
                                   nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("forms") as batch:
        batch.drop_column("draft_revision")
    op.drop_index("ix_form_draft_steps_tenant_id_form_id_revision",
                  table_name="form_draft_steps")
    op.drop_table("form_draft_steps")
