"""plans and subscriptions

Revision ID: 0004_plans
Revises: 0003_customer_billing
Create Date: 2026-11-23

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0004_plans'
down_revision = '0003_customer_billing'
branch_labels = None
depends_on = None

# A subscription is active until it ends; at most one per customer is (enforced by the index).
ACTIVE = sa.text('active_to IS NULL')
LIVE = sa.text('deleted_at IS NULL')


def upgrade():
    op.create_table('plans',
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=256), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('billing_cadence', sa.String(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('plans', schema=None) as batch_op:
        batch_op.create_index('ix_plans_key_live', ['key'], unique=True, sqlite_where=LIVE, postgresql_where=LIVE)

    op.create_table('subscriptions',
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('customer_id', sa.String(length=26), nullable=False),
    sa.Column('plan_id', sa.String(length=26), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('active_from', sa.DateTime(timezone=True), nullable=False),
    sa.Column('active_to', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id']),
    sa.ForeignKeyConstraint(['plan_id'], ['plans.id']),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('subscriptions', schema=None) as batch_op:
        batch_op.create_index('ix_subscriptions_customer_active', ['customer_id'], unique=True, sqlite_where=ACTIVE, postgresql_where=ACTIVE)
        batch_op.create_index(batch_op.f('ix_subscriptions_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_subscriptions_plan_id'), ['plan_id'], unique=False)


def downgrade():
    with op.batch_alter_table('subscriptions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_subscriptions_plan_id'))
        batch_op.drop_index(batch_op.f('ix_subscriptions_customer_id'))
        batch_op.drop_index('ix_subscriptions_customer_active', sqlite_where=ACTIVE, postgresql_where=ACTIVE)

    op.drop_table('subscriptions')
    with op.batch_alter_table('plans', schema=None) as batch_op:
        batch_op.drop_index('ix_plans_key_live', sqlite_where=LIVE, postgresql_where=LIVE)

    op.drop_table('plans')
