"""design changes

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25 13:05:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('design_changes',
    sa.Column('order_no', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('dcn_no', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('issue_no', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('summary', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('changes', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('from_revision', sa.Integer(), nullable=False),
    sa.Column('to_revision', sa.Integer(), nullable=False),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('issued_by', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('within_sla', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('order_no', 'dcn_no'),
    sa.UniqueConstraint('issue_no'),
    schema='engineering'
    )


def downgrade() -> None:
    op.drop_table('design_changes', schema='engineering')
