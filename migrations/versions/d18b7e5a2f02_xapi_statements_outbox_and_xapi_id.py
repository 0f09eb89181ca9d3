"""xAPI statements: the outbox, its sender's lease, and each person's opaque xAPI name

Revision ID: d18b7e5a2f02
Revises: d18a5c0a1e01
Create Date: 2026-12-03 08:00:00.000000

"""
from uuid import uuid4

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd18b7e5a2f02'
down_revision = 'd18a5c0a1e01'
branch_labels = None
depends_on = None

WAITING = "sent_at IS NULL AND next_attempt_at IS NOT NULL"


def upgrade():
    op.create_table('xapi_statements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('statement_id', sa.String(length=36), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('sent_at', sa.DateTime(), nullable=True),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(), nullable=True),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_xapi_statements')),
    sa.UniqueConstraint('statement_id', name=op.f('uq_xapi_statements_statement_id'))
    )
    with op.batch_alter_table('xapi_statements', schema=None) as batch_op:
        batch_op.create_index('ix_xapi_statements_waiting', ['id'], unique=False, postgresql_where=sa.text(WAITING), sqlite_where=sa.text(WAITING))

    op.create_table('xapi_sender',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('holder', sa.String(length=32), nullable=True),
    sa.Column('held_until', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_xapi_sender'))
    )

    # Every person gets an opaque name now: nullable first, filled, then required and unique.
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('xapi_id', sa.String(length=36), nullable=True))
    users = sa.table('users', sa.column('id', sa.Integer()), sa.column('xapi_id', sa.String()))
    connection = op.get_bind()
    ids = connection.execute(sa.select(users.c.id)).scalars().all()
    if ids:
        connection.execute(
            users.update().where(users.c.id == sa.bindparam('user_id')).values(xapi_id=sa.bindparam('new_id')),
            [{'user_id': user_id, 'new_id': uuid4().hex} for user_id in ids],
        )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.alter_column('xapi_id', existing_type=sa.String(length=36), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_users_xapi_id'), ['xapi_id'])


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_users_xapi_id'), type_='unique')
        batch_op.drop_column('xapi_id')

    op.drop_table('xapi_sender')
    with op.batch_alter_table('xapi_statements', schema=None) as batch_op:
        batch_op.drop_index('ix_xapi_statements_waiting', postgresql_where=sa.text(WAITING), sqlite_where=sa.text(WAITING))

    op.drop_table('xapi_statements')
