"""Quality tables: the inbox, incoming inspections with their clock, nonconformance reports
(NCR) and the release passes for goods leaving for the supplier."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlmodel import Field, SQLModel

from shared.models import json_field, qty_field, ts_field
from shared.tasks.models import inbox

Task = inbox("quality")


# One inspection lot's request to quality and its result (P6.2): the 8-hour clock's record.
class Inspection(SQLModel, table=True):
    __tablename__ = "inspections"
    __table_args__ = {"schema": "quality"}

    lot_no: str = Field(primary_key=True, max_length=32)
    receipt_no: str = Field(max_length=32)
    po_no: str = Field(max_length=64)
    supplier: str = Field(max_length=128)
    order_no: str | None = Field(default=None, index=True, max_length=64)
    workflow_id: str
    state: str = Field(default="pending", index=True, max_length=16)
    requested_at: datetime = ts_field()
    due_at: datetime | None = ts_field(nullable=True)
    inspected_at: datetime | None = ts_field(nullable=True)
    inspected_by: str | None = None
    within_sla: bool | None = None


# A nonconformance report on rejected goods, and quality's judgement of them: goods rejected
# at incoming inspection (`found_in` incoming: lot, receipt, PO and supplier always known), or
# nonconforming material found in assembly (§8.5b: the issue it came from, and the lot the
# order picked the goods from when they came from stock).
class Ncr(SQLModel, table=True):
    __tablename__ = "ncrs"
    __table_args__ = {"schema": "quality"}

    ncr_no: str = Field(primary_key=True, max_length=96)
    lot_no: str | None = Field(default=None, index=True, max_length=32)
    receipt_no: str | None = Field(default=None, max_length=32)
    po_no: str | None = Field(default=None, max_length=64)
    supplier: str | None = Field(default=None, max_length=128)
    found_in: str = Field(
        default="incoming", max_length=16, sa_column_kwargs={"server_default": "incoming"}
    )
    issue_no: str | None = Field(default=None, max_length=80)
    order_no: str | None = Field(default=None, index=True, max_length=64)
    item: str = Field(max_length=64)
    qty: Decimal = qty_field()
    defect: str
    state: str = Field(default="open", index=True, max_length=16)
    disposition: str | None = Field(default=None, max_length=16)
    comment: str | None = None
    judged_by: str | None = None
    judged_at: datetime | None = ts_field(nullable=True)
    created_at: datetime = ts_field()


# The release pass (放行单) that lets rejected goods leave for the supplier (return or repair).
class ReleasePass(SQLModel, table=True):
    __tablename__ = "release_passes"
    __table_args__ = {"schema": "quality"}

    pass_no: str = Field(primary_key=True, max_length=96)
    ncr_no: str = Field(unique=True, max_length=96)
    # None for goods of no known supplier (made here, or of no lot).
    supplier: str | None = Field(default=None, max_length=128)
    item: str = Field(max_length=64)
    qty: Decimal = qty_field()
    reason: str = Field(max_length=16)
    issued_by: str
    issued_at: datetime = ts_field()


# One round of the final inspection (P9): its verdict and defects; first-pass yield reads
# round 1.
class FinalInspection(SQLModel, table=True):
    __tablename__ = "final_inspections"
    __table_args__ = {"schema": "quality"}

    order_no: str = Field(primary_key=True, max_length=64)
    round: int = Field(primary_key=True)
    passed: bool
    defects: list[Any] = json_field()
    inspected_by: str
    inspected_at: datetime = ts_field()


# A component certificate or manual production handed to quality for an order (§8.4); the
# order's final inspection waits for its hand-over.
class HandedDocument(SQLModel, table=True):
    __tablename__ = "handed_documents"
    __table_args__ = {"schema": "quality"}

    order_no: str = Field(primary_key=True, max_length=64)
    kind: str = Field(primary_key=True, max_length=16)
    item: str = Field(primary_key=True, max_length=64)
    ref: str = Field(max_length=200)
    task_id: str = Field(max_length=128)
    handed_by: str = Field(max_length=128)
    handed_at: datetime = ts_field()
