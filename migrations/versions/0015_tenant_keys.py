"""tenant keys: every tenant table keyed and referenced with its tenant, ready to distribute

On PostgreSQL each tenant-owned table's primary key becomes (tenant_id, …) and each
reference between tenant tables the pair (tenant_id, x_id) → (tenant_id, id), so the tables
can be distributed by tenant and co-located (crm_platform/models/keys.py,
docs/scaling.md). Rows are not touched: keys and constraints are rebuilt around them.
References that were ON DELETE SET NULL become NO ACTION (a key holding the tenant cannot
be nulled); the services clear them before a delete.

SQLite keeps its single-machine shape; on both, an API token's hash is unique within its
tenant (and indexed alone, since a token is looked up by its hash), and queued jobs that
work for a tenant carry the tenant as their first argument.

Revision ID: 0015_tenant_keys
Revises: 0014_durable_jobs
Create Date: 2026-12-02 19:20:00
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = '0015_tenant_keys'
down_revision = '0014_durable_jobs'
branch_labels = None
depends_on = None

# table -> its primary key on PostgreSQL
KEYS = {
    'departments': ('tenant_id', 'id'), 'users': ('tenant_id', 'id'),
    'roles': ('tenant_id', 'id'), 'user_roles': ('tenant_id', 'user_id', 'role_id'),
    'api_tokens': ('tenant_id', 'id'), 'outbox': ('tenant_id', 'id'),
    'apps': ('tenant_id', 'id'), 'forms': ('tenant_id', 'id'),
    'form_versions': ('tenant_id', 'id'), 'flows': ('tenant_id', 'id'),
    'flow_versions': ('tenant_id', 'id'),
    'form_permissions': ('tenant_id', 'form_id', 'role_id'),
    'imports': ('tenant_id', 'id'), 'records': ('tenant_id', 'id'),
    'record_history': ('tenant_id', 'id'),
    'sequences': ('tenant_id', 'form_id', 'field_key', 'period'),
    'idempotency_keys': ('tenant_id', 'form_id', 'actor_id', 'key'),
    'automation_runs': ('tenant_id', 'id'), 'flow_instances': ('tenant_id', 'id'),
    'flow_tasks': ('tenant_id', 'id'), 'flow_timers': ('tenant_id', 'id'),
    'notifications': ('tenant_id', 'id'),
}

# (table, column, referred table, ON DELETE before; SET NULL becomes NO ACTION after)
REFERENCES = [
    ('departments', 'parent_id', 'departments', 'RESTRICT'),
    ('departments', 'head_id', 'users', 'SET NULL'),
    ('users', 'department_id', 'departments', 'SET NULL'),
    ('users', 'manager_id', 'users', 'SET NULL'),
    ('api_tokens', 'created_by_id', 'users', 'SET NULL'),
    ('api_tokens', 'user_id', 'users', 'CASCADE'),
    ('apps', 'created_by_id', 'users', 'SET NULL'),
    ('user_roles', 'role_id', 'roles', 'CASCADE'),
    ('user_roles', 'user_id', 'users', 'CASCADE'),
    ('forms', 'app_id', 'apps', 'CASCADE'),
    ('forms', 'draft_updated_by_id', 'users', 'SET NULL'),
    ('flows', 'app_id', 'apps', 'CASCADE'),
    ('flows', 'form_id', 'forms', 'CASCADE'),
    ('flows', 'draft_updated_by_id', 'users', 'SET NULL'),
    ('form_permissions', 'form_id', 'forms', 'CASCADE'),
    ('form_permissions', 'role_id', 'roles', 'CASCADE'),
    ('form_versions', 'form_id', 'forms', 'CASCADE'),
    ('form_versions', 'published_by_id', 'users', 'SET NULL'),
    ('imports', 'created_by_id', 'users', 'SET NULL'),
    ('imports', 'form_id', 'forms', 'CASCADE'),
    ('records', 'department_id', 'departments', 'SET NULL'),
    ('records', 'created_by_id', 'users', 'SET NULL'),
    ('records', 'updated_by_id', 'users', 'SET NULL'),
    ('records', 'owner_id', 'users', 'SET NULL'),
    ('records', 'form_id', 'forms', 'CASCADE'),
    ('sequences', 'form_id', 'forms', 'CASCADE'),
    ('automation_runs', 'record_id', 'records', 'CASCADE'),
    ('automation_runs', 'flow_id', 'flows', 'CASCADE'),
    ('flow_instances', 'flow_id', 'flows', 'CASCADE'),
    ('flow_instances', 'record_id', 'records', 'CASCADE'),
    ('flow_instances', 'submitter_id', 'users', 'SET NULL'),
    ('flow_instances', 'form_id', 'forms', 'CASCADE'),
    ('flow_versions', 'published_by_id', 'users', 'SET NULL'),
    ('flow_versions', 'flow_id', 'flows', 'CASCADE'),
    ('idempotency_keys', 'form_id', 'forms', 'CASCADE'),
    ('idempotency_keys', 'record_id', 'records', 'CASCADE'),
    ('record_history', 'record_id', 'records', 'CASCADE'),
    ('record_history', 'actor_id', 'users', 'SET NULL'),
    ('flow_tasks', 'instance_id', 'flow_instances', 'CASCADE'),
    ('flow_tasks', 'assignee_id', 'users', 'SET NULL'),
    ('flow_timers', 'instance_id', 'flow_instances', 'CASCADE'),
    ('notifications', 'user_id', 'users', 'CASCADE'),
    ('notifications', 'instance_id', 'flow_instances', 'CASCADE'),
    ('notifications', 'record_id', 'records', 'CASCADE'),
]

# the old primary keys, where they change shape on PostgreSQL
OLD_KEYS = {'user_roles': ('user_id', 'role_id')}

TENANT_JOBS = ('import', 'build_indexes')


def _name(table: str, column: str, referred: str) -> str:
    return f'fk_{table}_{column}_{referred}'


def upgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        _rekey(KEYS, with_tenant=True)
    _token_hash_per_tenant()
    _tenant_first_in_job_args(upgrade=True)


def downgrade() -> None:
    _tenant_first_in_job_args(upgrade=False)
    with op.batch_alter_table('api_tokens') as batch:
        batch.drop_index('ix_api_tokens_token_hash')
        batch.drop_constraint('uq_api_tokens_tenant_id_token_hash', type_='unique')
        batch.create_unique_constraint('uq_api_tokens_token_hash', ['token_hash'])
    if op.get_bind().dialect.name == 'postgresql':
        old_keys = {table: OLD_KEYS.get(table, ('id',)) for table in KEYS
                    if table not in ('sequences', 'idempotency_keys', 'form_permissions')}
        _rekey(old_keys, with_tenant=False)


def _rekey(keys: dict[str, tuple[str, ...]], with_tenant: bool) -> None:
    """Drop the references, key each table anew, and reference again (the data stays)."""
    for table, column, referred, _action in REFERENCES:
        op.execute(f'ALTER TABLE {table} DROP CONSTRAINT IF EXISTS '
                   f'{_name(table, column, referred)}')
    for table, columns in keys.items():
        op.execute(f'ALTER TABLE {table} DROP CONSTRAINT pk_{table}')
        op.execute(f'ALTER TABLE {table} ADD CONSTRAINT pk_{table} '
                   f'PRIMARY KEY ({", ".join(columns)})')
    for table, column, referred, old_action in REFERENCES:
        if with_tenant:
            action = None if old_action == 'SET NULL' else old_action
            local, remote = f'tenant_id, {column}', 'tenant_id, id'
        else:
            action, local, remote = old_action, column, 'id'
        on_delete = f' ON DELETE {action}' if action else ''
        op.execute(f'ALTER TABLE {table} ADD CONSTRAINT {_name(table, column, referred)} '
                   f'FOREIGN KEY ({local}) REFERENCES {referred} ({remote}){on_delete}')


def _token_hash_per_tenant() -> None:
    with op.batch_alter_table('api_tokens') as batch:
        batch.drop_constraint('uq_api_tokens_token_hash', type_='unique')
        batch.create_unique_constraint('uq_api_tokens_tenant_id_token_hash',
                                       ['tenant_id', 'token_hash'])
        batch.create_index('ix_api_tokens_token_hash', ['token_hash'])


def _tenant_first_in_job_args(upgrade: bool) -> None:
    """A tenant's import and index jobs name their tenant first: (tenant, id)."""
    jobs = sa.table('jobs', sa.column('id'), sa.column('tenant_id'), sa.column('name'),
                    sa.column('args', sa.JSON()), sa.column('status'))
    bind = op.get_bind()
    waiting = bind.execute(sa.select(jobs.c.id, jobs.c.tenant_id, jobs.c.args).where(
        jobs.c.name.in_(TENANT_JOBS), jobs.c.status.in_(('queued', 'running')))).all()
    for job_id, tenant_id, args in waiting:
        args = json.loads(args) if isinstance(args, str) else list(args)
        args = [tenant_id, *args] if upgrade else args[1:]
        bind.execute(sa.update(jobs).where(jobs.c.id == job_id).values(args=args))
