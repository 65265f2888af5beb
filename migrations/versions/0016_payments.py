"""payments: each order's payment plan (terms fixed at intake) and the payments booked against it

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04 23:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql


revision: str = '0016'
down_revision: str | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('payment_plans',
    sa.Column('order_no', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('terms', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('audit_role', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['order_no'], ['sales.orders.order_no'], ),
    sa.PrimaryKeyConstraint('order_no'),
    schema='sales'
    )
    op.create_table('payments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_no', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('amount', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('paid_on', sa.Date(), nullable=False),
    sa.Column('reference', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('recorded_by', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['order_no'], ['sales.orders.order_no'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('order_no', 'reference', name='uq_payments_order_reference'),
    schema='sales'
    )
    op.create_index(op.f('ix_sales_payments_order_no'), 'payments', ['order_no'], unique=False, schema='sales')


def downgrade() -> None:
    op.drop_index(op.f('ix_sales_payments_order_no'), table_name='payments', schema='sales')
    op.drop_table('payments', schema='sales')
    op.drop_table('payment_plans', schema='sales')
