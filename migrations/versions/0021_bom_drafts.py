"""bom drafts: a BOM uploaded ahead of its release (JSON, CSV or XLSX), stored line by line so
that completing engineering.release_bom names it (`draft_id`) instead of carrying the lines

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-05 02:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TEXT = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "bom_drafts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_no", _TEXT(length=64), nullable=False),
        sa.Column("uploaded_by", _TEXT(), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("line_count", sa.Integer(), nullable=False),
        sa.Column("format", _TEXT(length=8), nullable=False),
        sa.Column("filename", _TEXT(length=255), nullable=True),
        sa.Column("released_revision", sa.Integer(), nullable=True),
        sa.Column("released_task_id", _TEXT(length=128), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        schema="engineering",
    )
    op.create_index(
        op.f("ix_engineering_bom_drafts_order_no"),
        "bom_drafts",
        ["order_no"],
        unique=False,
        schema="engineering",
    )
    op.create_table(
        "bom_draft_lines",
        sa.Column("draft_id", sa.Integer(), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("item", _TEXT(length=64), nullable=False),
        sa.Column("parent", _TEXT(length=64), nullable=True),
        sa.Column("qty_per", sa.Numeric(precision=18, scale=4), nullable=False),
        sa.Column("make_or_buy", _TEXT(length=4), nullable=False),
        sa.Column("lead_days", sa.Integer(), nullable=True),
        sa.Column("supplier", _TEXT(), nullable=True),
        sa.Column("special", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["draft_id"], ["engineering.bom_drafts.id"]),
        sa.PrimaryKeyConstraint("draft_id", "line_no"),
        schema="engineering",
    )


def downgrade() -> None:
    op.drop_table("bom_draft_lines", schema="engineering")
    op.drop_index(
        op.f("ix_engineering_bom_drafts_order_no"), table_name="bom_drafts", schema="engineering"
    )
    op.drop_table("bom_drafts", schema="engineering")
