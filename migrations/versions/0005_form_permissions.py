"""role x form permissions

Revision ID: 0005_form_permissions
Revises: 0004_idempotency_keys
Create Date: 2026-11-22 17:55:02.913478
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0005_form_permissions'
down_revision = '0004_idempotency_keys'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('form_permissions',
    sa.Column('tenant_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('form_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('role_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('can_create', sa.Boolean(), nullable=False),
    sa.Column('read_scope', sa.String(length=16), nullable=False),
    sa.Column('update_scope', sa.String(length=16), nullable=False),
    sa.Column('delete_scope', sa.String(length=16), nullable=False),
    sa.Column('hidden_fields', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('readonly_fields', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.ForeignKeyConstraint(['form_id'], ['forms.id'], name=op.f('fk_form_permissions_form_id_forms'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['role_id'], ['roles.id'], name=op.f('fk_form_permissions_role_id_roles'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_form_permissions_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'form_id', 'role_id', name=op.f('pk_form_permissions'))
    )


def downgrade() -> None:
    op.drop_table('form_permissions')

