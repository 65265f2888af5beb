"""po line promises and safety stock: a line's own promised date once the buyer moves it, and
the safety-stock levels procurement keeps with their history

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-04 23:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "po_lines", sa.Column("promised_date", sa.Date(), nullable=True), schema="procurement"
    )
    op.create_table(
        "safety_stock_levels",
        sa.Column("item", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("level", sa.Numeric(precision=18, scale=4), nullable=False),
        sa.Column("updated_by", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("item"),
        schema="procurement",
    )
    op.create_table(
        "safety_stock_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("previous", sa.Numeric(precision=18, scale=4), nullable=False),
        sa.Column("level", sa.Numeric(precision=18, scale=4), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("changed_by", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        schema="procurement",
    )
    op.create_index(
        op.f("ix_procurement_safety_stock_changes_item"),
        "safety_stock_changes",
        ["item"],
        unique=False,
        schema="procurement",
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_procurement_safety_stock_changes_item"),
        table_name="safety_stock_changes",
        schema="procurement",
    )
    op.drop_table("safety_stock_changes", schema="procurement")
    op.drop_table("safety_stock_levels", schema="procurement")
    op.drop_column("po_lines", "promised_date", schema="procurement")
