"""ack links: the one-click acknowledge links used, by nonce

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 20:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # app.migrate grants the runtime role DML on it like on every table of the schema.
    op.create_table('ack_links',
    sa.Column('nonce', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('escalation_id', sa.Integer(), nullable=False),
    sa.Column('role', sqlmodel.sql.sqltypes.AutoString(length=48), nullable=False),
    sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_by', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.ForeignKeyConstraint(['escalation_id'], ['escalation.escalations.id'], ),
    sa.PrimaryKeyConstraint('nonce'),
    schema='escalation'
    )
    op.create_index(op.f('ix_escalation_ack_links_escalation_id'), 'ack_links', ['escalation_id'], unique=False, schema='escalation')


def downgrade() -> None:
    op.drop_index(op.f('ix_escalation_ack_links_escalation_id'), table_name='ack_links', schema='escalation')
    op.drop_table('ack_links', schema='escalation')
