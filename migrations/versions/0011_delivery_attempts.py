"""delivery attempts: every webhook POST recorded, a delivery's id and state

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('delivery_attempts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('delivery_id', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('target', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('attempt', sa.Integer(), nullable=False),
    sa.Column('status', sa.Integer(), nullable=True),
    sa.Column('error', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('duration_ms', sa.Integer(), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('delivery_id', 'attempt', name='uq_delivery_attempts_attempt'),
    schema='escalation'
    )
    op.create_index(op.f('ix_escalation_delivery_attempts_delivery_id'), 'delivery_attempts', ['delivery_id'], unique=False, schema='escalation')
    op.add_column('deliveries', sa.Column('delivery_id', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True), schema='escalation')
    # Rows of deliveries made before: delivered ones are marked so, the rest are still pending.
    op.add_column('deliveries', sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=16), server_default='pending', nullable=False), schema='escalation')
    op.execute("UPDATE escalation.deliveries SET state = 'delivered' WHERE delivered_at IS NOT NULL")


def downgrade() -> None:
    op.drop_column('deliveries', 'state', schema='escalation')
    op.drop_column('deliveries', 'delivery_id', schema='escalation')
    op.drop_index(op.f('ix_escalation_delivery_attempts_delivery_id'), table_name='delivery_attempts', schema='escalation')
    op.drop_table('delivery_attempts', schema='escalation')
