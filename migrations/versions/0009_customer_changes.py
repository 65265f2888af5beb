"""customer changes

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-25 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql


revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('changes',
    sa.Column('change_no', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('order_no', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('detail', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('customer_confirmation_ref', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('request', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
    sa.Column('impact', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('agreement_task_id', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
    sa.Column('outcome', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('plan_revision', sa.Integer(), nullable=True),
    sa.Column('bom_revision', sa.Integer(), nullable=True),
    sa.Column('requested_by', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_by', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['order_no'], ['sales.orders.order_no'], ),
    sa.PrimaryKeyConstraint('change_no'),
    schema='sales'
    )
    op.create_index(op.f('ix_sales_changes_order_no'), 'changes', ['order_no'], unique=False, schema='sales')
    op.create_index(op.f('ix_sales_changes_state'), 'changes', ['state'], unique=False, schema='sales')


def downgrade() -> None:
    op.drop_index(op.f('ix_sales_changes_state'), table_name='changes', schema='sales')
    op.drop_index(op.f('ix_sales_changes_order_no'), table_name='changes', schema='sales')
    op.drop_table('changes', schema='sales')
