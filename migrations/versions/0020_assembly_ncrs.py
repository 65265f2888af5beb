"""assembly NCRs: nonconforming material found in assembly is an NCR too (§8.5b)

An assembly NCR has no receipt or PO (and a lot only when the goods came from stock), so those
columns may be empty; `found_in` tells the two kinds apart (existing rows are incoming ones),
`issue_no` names the assembly issue. NCR and release-pass numbers carry the issue number,
which carries the order number (64 characters), so both grow to 96.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-04 23:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0020'
down_revision: str | None = '0019'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TEXT = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.alter_column('ncrs', 'ncr_no', type_=_TEXT(length=96), existing_type=_TEXT(length=40), existing_nullable=False, schema='quality')
    for column, length in (('lot_no', 32), ('receipt_no', 32), ('po_no', 64), ('supplier', 128)):
        op.alter_column('ncrs', column, nullable=True, existing_type=_TEXT(length=length), schema='quality')
    op.add_column('ncrs', sa.Column('found_in', _TEXT(length=16), server_default='incoming', nullable=False), schema='quality')
    op.add_column('ncrs', sa.Column('issue_no', _TEXT(length=80), nullable=True), schema='quality')
    op.alter_column('release_passes', 'pass_no', type_=_TEXT(length=96), existing_type=_TEXT(length=40), existing_nullable=False, schema='quality')
    op.alter_column('release_passes', 'ncr_no', type_=_TEXT(length=96), existing_type=_TEXT(length=40), existing_nullable=False, schema='quality')
    op.alter_column('release_passes', 'supplier', nullable=True, existing_type=_TEXT(length=128), schema='quality')


def downgrade() -> None:
    # Assembly NCRs and their release passes cannot be kept without a lot, receipt and PO.
    op.execute("DELETE FROM quality.release_passes WHERE ncr_no IN (SELECT ncr_no FROM quality.ncrs WHERE found_in <> 'incoming')")
    op.execute("DELETE FROM quality.ncrs WHERE found_in <> 'incoming'")
    op.alter_column('release_passes', 'supplier', nullable=False, existing_type=_TEXT(length=128), schema='quality')
    op.alter_column('release_passes', 'ncr_no', type_=_TEXT(length=40), existing_type=_TEXT(length=96), existing_nullable=False, schema='quality')
    op.alter_column('release_passes', 'pass_no', type_=_TEXT(length=40), existing_type=_TEXT(length=96), existing_nullable=False, schema='quality')
    op.drop_column('ncrs', 'issue_no', schema='quality')
    op.drop_column('ncrs', 'found_in', schema='quality')
    for column, length in (('lot_no', 32), ('receipt_no', 32), ('po_no', 64), ('supplier', 128)):
        op.alter_column('ncrs', column, nullable=False, existing_type=_TEXT(length=length), schema='quality')
    op.alter_column('ncrs', 'ncr_no', type_=_TEXT(length=40), existing_type=_TEXT(length=96), existing_nullable=False, schema='quality')
