"""forms.dated_as_of: the day a form's date-dependent formulas and rollups (today(), a
rollup of the last 365 days) were last worked out for its records, so they are worked out
again once a day and before anyone reads them (crm_platform.services.records.dated).
Every existing form starts "not yet looked at" (1970-01-01): the first read finds out
whether it has any.

Revision ID: 0021_form_dated_as_of
Revises: 0020_permission_pool
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021_form_dated_as_of"
down_revision = "0020_permission_pool"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("forms") as batch:
        batch.add_column(sa.Column("dated_as_of", sa.Date(), server_default="1970-01-01",
                                   nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("forms") as batch:
        batch.drop_column("dated_as_of")
