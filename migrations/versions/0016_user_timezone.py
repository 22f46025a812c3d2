"""A user's own time zone (none: the tenant's), and an index for "my recent records".

Revision ID: 0016_user_timezone
Revises: 0015_tenant_keys
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016_user_timezone"
down_revision = "0015_tenant_keys"
branch_labels = None
depends_on = None

INDEX = "ix_records_tenant_id_updated_by_id_updated_at"


def upgrade() -> None:
    op.add_column("users", sa.Column("timezone", sa.String(length=64), nullable=True))
    op.create_index(INDEX, "records", ["tenant_id", "updated_by_id", "updated_at"])


def downgrade() -> None:
    op.drop_index(INDEX, table_name="records")
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_column("timezone")
