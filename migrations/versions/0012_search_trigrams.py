"""pg_trgm for search: a form's text fields are searched by substring, served by a
trigram index (built per form when it is published)

Revision ID: 0012_search_trigrams
Revises: 0011_idempotency_per_caller
Create Date: 2026-12-02 16:30:00
"""

from __future__ import annotations

from alembic import op

revision = '0012_search_trigrams'
down_revision = '0011_idempotency_per_caller'
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        # a trusted extension since PostgreSQL 13: the database owner may create it
        op.execute('CREATE EXTENSION IF NOT EXISTS pg_trgm')


def downgrade() -> None:
    pass  # other databases' objects may use pg_trgm; dropping it is the operator's call
