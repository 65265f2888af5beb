"""production issues and final inspection rounds

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25 12:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql


revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('issues',
    sa.Column('issue_no', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('order_no', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('description', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('items', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('severity', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('resolution', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('reported_by', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('reported_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('issue_no'),
    schema='production'
    )
    op.create_index(op.f('ix_production_issues_order_no'), 'issues', ['order_no'], unique=False, schema='production')
    op.create_index(op.f('ix_production_issues_state'), 'issues', ['state'], unique=False, schema='production')
    op.create_table('final_inspections',
    sa.Column('order_no', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('round', sa.Integer(), nullable=False),
    sa.Column('passed', sa.Boolean(), nullable=False),
    sa.Column('defects', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('inspected_by', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('inspected_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('order_no', 'round'),
    schema='quality'
    )


def downgrade() -> None:
    op.drop_table('final_inspections', schema='quality')
    op.drop_index(op.f('ix_production_issues_state'), table_name='issues', schema='production')
    op.drop_index(op.f('ix_production_issues_order_no'), table_name='issues', schema='production')
    op.drop_table('issues', schema='production')
