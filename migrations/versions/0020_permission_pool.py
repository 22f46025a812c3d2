"""form_permissions.pool: the role sees the records nobody owns (the customer pool) and
may claim them. False for every existing permission: nobody sees more than before.

Revision ID: 0020_permission_pool
Revises: 0019_template_installs
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020_permission_pool"
down_revision = "0019_template_installs"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("form_permissions") as batch:
        batch.add_column(sa.Column("pool", sa.Boolean(), server_default=sa.false(),
                                   nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("form_permissions") as batch:
        batch.drop_column("pool")
