"""idempotency keys are the caller's own: the acting user joins the key

Revision ID: 0011_idempotency_per_caller
Revises: 0010_automation_runs
Create Date: 2026-12-02 15:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0011_idempotency_per_caller'
down_revision = '0010_automation_runs'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def _table(name: str, with_actor: bool) -> None:
    columns = [sa.Column('tenant_id', ID, nullable=False),
               sa.Column('form_id', ID, nullable=False)]
    if with_actor:
        columns.append(sa.Column('actor_id', ID, nullable=False))
    op.create_table(
        name, *columns,
        sa.Column('key', sa.String(length=200), nullable=False),
        sa.Column('request_hash', sa.String(length=64), nullable=False),
        sa.Column('record_id', ID, nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['form_id'], ['forms.id'], name=op.f(f'fk_{name}_form_id_forms'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['record_id'], ['records.id'],
                                name=op.f(f'fk_{name}_record_id_records'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'],
                                name=op.f(f'fk_{name}_tenant_id_tenants'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('tenant_id', 'form_id', *(['actor_id'] if with_actor else []),
                                'key', name=op.f(f'pk_{name}')))


def _rebuild(with_actor: bool, copy: str) -> None:
    """Constraint names carry the table's name, so the new table is built under the final
    name after the old one is renamed away."""
    op.rename_table('idempotency_keys', 'idempotency_keys_old')
    if op.get_bind().dialect.name == 'postgresql':
        for suffix in ('pk_idempotency_keys', 'fk_idempotency_keys_form_id_forms',
                       'fk_idempotency_keys_record_id_records',
                       'fk_idempotency_keys_tenant_id_tenants'):
            op.execute(f'ALTER TABLE idempotency_keys_old RENAME CONSTRAINT {suffix} '
                       f'TO {suffix}_old')
    _table('idempotency_keys', with_actor)
    op.execute(copy)
    op.drop_table('idempotency_keys_old')


def upgrade() -> None:
    # A key already stored belonged to whoever created its record.
    _rebuild(True, """
        INSERT INTO idempotency_keys (tenant_id, form_id, actor_id, key, request_hash,
                                      record_id, created_at)
        SELECT k.tenant_id, k.form_id, COALESCE(r.created_by_id, 0), k.key, k.request_hash,
               k.record_id, k.created_at
        FROM idempotency_keys_old k LEFT JOIN records r ON r.id = k.record_id""")


def downgrade() -> None:
    _rebuild(False, """
        INSERT INTO idempotency_keys (tenant_id, form_id, key, request_hash, record_id,
                                      created_at)
        SELECT tenant_id, form_id, key, min(request_hash), min(record_id), min(created_at)
        FROM idempotency_keys_old GROUP BY tenant_id, form_id, key""")
