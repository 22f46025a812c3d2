"""tenants.show_duplicate_owner: whether a duplicate the caller cannot read names its owner

Revision ID: 0013_duplicate_owner_setting
Revises: 0012_search_trigrams
Create Date: 2026-12-02 17:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0013_duplicate_owner_setting'
down_revision = '0012_search_trigrams'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('tenants') as batch:
        batch.add_column(sa.Column('show_duplicate_owner', sa.Boolean(), nullable=False,
                                   server_default=sa.true()))


def downgrade() -> None:
    with op.batch_alter_table('tenants') as batch:
        batch.drop_column('show_duplicate_owner')
