"""escalation resolution: what was done about an escalation, by whom and when

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04 22:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0015'
down_revision: str | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('escalations', sa.Column('resolution', sqlmodel.sql.sqltypes.AutoString(), nullable=True), schema='escalation')
    op.add_column('escalations', sa.Column('resolved_by', sqlmodel.sql.sqltypes.AutoString(), nullable=True), schema='escalation')
    op.add_column('escalations', sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True), schema='escalation')


def downgrade() -> None:
    op.drop_column('escalations', 'resolved_at', schema='escalation')
    op.drop_column('escalations', 'resolved_by', schema='escalation')
    op.drop_column('escalations', 'resolution', schema='escalation')
