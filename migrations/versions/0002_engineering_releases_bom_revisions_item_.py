"""engineering releases: BOM revisions, item master, drawings

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 11:12:44.143178
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    
    op.create_table('bom_lines',
    sa.Column('order_no', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('line_no', sa.Integer(), nullable=False),
    sa.Column('item', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('parent', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('qty_per', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('make_or_buy', sqlmodel.sql.sqltypes.AutoString(length=4), nullable=False),
    sa.Column('lead_days', sa.Integer(), nullable=True),
    sa.Column('supplier', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('special', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('order_no', 'revision', 'line_no'),
    schema='engineering'
    )
    op.create_index(op.f('ix_engineering_bom_lines_item'), 'bom_lines', ['item'], unique=False, schema='engineering')
    op.create_table('bom_revisions',
    sa.Column('order_no', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('task_id', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('released_by', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('released_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('order_no', 'revision'),
    sa.UniqueConstraint('task_id'),
    schema='engineering'
    )
    op.create_table('drawings',
    sa.Column('order_no', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('number', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('rev', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('task_id', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('released_by', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('released_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('order_no', 'number', 'rev'),
    schema='engineering'
    )
    op.create_table('items',
    sa.Column('item', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('make_or_buy', sqlmodel.sql.sqltypes.AutoString(length=4), nullable=False),
    sa.Column('supplier', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('lead_days', sa.Integer(), nullable=True),
    sa.Column('special', sa.Boolean(), nullable=False),
    sa.Column('first_order_no', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('item'),
    schema='engineering'
    )
    


def downgrade() -> None:
    
    op.drop_table('items', schema='engineering')
    op.drop_table('drawings', schema='engineering')
    op.drop_table('bom_revisions', schema='engineering')
    op.drop_index(op.f('ix_engineering_bom_lines_item'), table_name='bom_lines', schema='engineering')
    op.drop_table('bom_lines', schema='engineering')
    
