"""calendar: the plant's exceptions, the years it confirmed, every change

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # env.py creates every schema of app.schema.SCHEMAS; said here too so the migration stands
    # on its own. app.migrate grants the runtime role DML on it like on every other schema.
    op.execute('CREATE SCHEMA IF NOT EXISTS "calendar"')
    op.create_table('exceptions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=False),
    sa.Column('shifts', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('day_off', 'working_day', 'shifts')", name='ck_exception_kind'),
    sa.CheckConstraint('end_date >= start_date', name='ck_exception_range'),
    sa.PrimaryKeyConstraint('id'),
    schema='calendar'
    )
    op.create_index(op.f('ix_calendar_exceptions_start_date'), 'exceptions', ['start_date'], unique=False, schema='calendar')
    op.create_table('confirmed_years',
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('country', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('confirmed_by', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('year'),
    schema='calendar'
    )
    op.create_table('changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('what', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('changed_by', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    schema='calendar'
    )


def downgrade() -> None:
    op.drop_table('changes', schema='calendar')
    op.drop_table('confirmed_years', schema='calendar')
    op.drop_index(op.f('ix_calendar_exceptions_start_date'), table_name='exceptions', schema='calendar')
    op.drop_table('exceptions', schema='calendar')
    op.execute('DROP SCHEMA IF EXISTS "calendar"')
