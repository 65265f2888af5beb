"""channel deliveries: one row per message to a named channel, the pace of rate-limited
channels; attempts name their channel; no URL is stored any more

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04 21:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql


revision: str = '0014'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('channel_deliveries',
    sa.Column('delivery_id', sqlmodel.sql.sqltypes.AutoString(length=160), nullable=False),
    sa.Column('seq', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=48), nullable=False),
    sa.Column('escalation_id', sa.Integer(), nullable=True),
    sa.Column('event', sqlmodel.sql.sqltypes.AutoString(length=48), nullable=True),
    sa.Column('content', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('last_status', sa.Integer(), nullable=True),
    sa.Column('last_code', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('last_error', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('touched_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('failed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['escalation_id'], ['escalation.escalations.id'], ),
    sa.PrimaryKeyConstraint('delivery_id'),
    sa.UniqueConstraint('seq'),
    schema='escalation'
    )
    op.create_index(op.f('ix_escalation_channel_deliveries_channel'), 'channel_deliveries', ['channel'], unique=False, schema='escalation')
    op.create_index(op.f('ix_escalation_channel_deliveries_escalation_id'), 'channel_deliveries', ['escalation_id'], unique=False, schema='escalation')
    op.create_table('channel_pace',
    sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=48), nullable=False),
    sa.Column('last_sent_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('paused_until', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('channel'),
    schema='escalation'
    )
    # The deliveries made to bare URLs before channels: kept, under a channel name made from a
    # digest of the URL (the URL itself, which may hold a token, is not kept).
    op.execute(
        "INSERT INTO escalation.channel_deliveries (delivery_id, channel, escalation_id, state, "
        "attempts, failures, last_status, last_error, created_at, touched_at, delivered_at, "
        "failed_at) "
        "SELECT coalesce(d.delivery_id, 'esc_' || d.escalation_id || '_' || left(md5(d.url), 16)), "
        "'legacy-' || left(md5(d.url), 8), d.escalation_id, d.state, d.attempts, "
        "CASE WHEN d.state = 'delivered' THEN greatest(d.attempts - 1, 0) ELSE d.attempts END, "
        "d.last_status, d.last_error, e.created_at, coalesce(d.delivered_at, e.created_at), "
        "d.delivered_at, CASE WHEN d.state = 'failed' THEN e.created_at END "
        "FROM escalation.deliveries d JOIN escalation.escalations e ON e.id = d.escalation_id"
    )
    op.drop_table('deliveries', schema='escalation')
    op.alter_column('delivery_attempts', 'delivery_id', type_=sqlmodel.sql.sqltypes.AutoString(length=160), schema='escalation')
    op.add_column('delivery_attempts', sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=48), nullable=True), schema='escalation')
    op.create_index(op.f('ix_escalation_delivery_attempts_channel'), 'delivery_attempts', ['channel'], unique=False, schema='escalation')
    # Targets recorded before kept their paths, which may hold a token (Slack, Feishu), and so
    # did the `delivery_failed` escalations' messages and the errors kept: every URL in them
    # keeps its scheme and host only.
    for table, column, where in (
        ("delivery_attempts", "target", ""),
        ("escalations", "message", "WHERE kind = 'delivery_failed'"),
        ("channel_deliveries", "last_error", "WHERE last_error IS NOT NULL"),
        ("delivery_attempts", "error", "WHERE error IS NOT NULL"),
    ):
        op.execute(
            f"UPDATE escalation.{table} SET {column} = "
            f"regexp_replace({column}, '([a-z]+://)([^/?#\\s@]*@)?([^/?#\\s]+)\\S*', "
            f"'\\1\\3/***', 'g') {where}"
        )


def downgrade() -> None:
    op.drop_index(op.f('ix_escalation_delivery_attempts_channel'), table_name='delivery_attempts', schema='escalation')
    op.drop_column('delivery_attempts', 'channel', schema='escalation')
    op.alter_column('delivery_attempts', 'delivery_id', type_=sqlmodel.sql.sqltypes.AutoString(length=80), schema='escalation')
    op.create_table('deliveries',
    sa.Column('escalation_id', sa.Integer(), nullable=False),
    sa.Column('url', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_status', sa.Integer(), nullable=True),
    sa.Column('last_error', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('delivery_id', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=16), server_default='pending', nullable=False),
    sa.ForeignKeyConstraint(['escalation_id'], ['escalation.escalations.id'], ),
    sa.PrimaryKeyConstraint('escalation_id', 'url'),
    schema='escalation'
    )
    op.drop_table('channel_pace', schema='escalation')
    op.drop_index(op.f('ix_escalation_channel_deliveries_escalation_id'), table_name='channel_deliveries', schema='escalation')
    op.drop_index(op.f('ix_escalation_channel_deliveries_channel'), table_name='channel_deliveries', schema='escalation')
    op.drop_table('channel_deliveries', schema='escalation')
