"""Engineering tables: the inbox, released BOM revisions, the item master, drawings."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from shared.models import json_field, qty_field, ts_field
from shared.tasks.models import inbox

Task = inbox("engineering")


# One released revision of an order's BOM (P3.1), released through one task.
class BomRevision(SQLModel, table=True):
    __tablename__ = "bom_revisions"
    __table_args__ = (UniqueConstraint("task_id"), {"schema": "engineering"})

    order_no: str = Field(primary_key=True, max_length=64)
    revision: int = Field(primary_key=True)
    task_id: str = Field(max_length=128)
    released_by: str
    released_at: datetime = ts_field()


# One line of a released BOM revision.
class BomLineRow(SQLModel, table=True):
    __tablename__ = "bom_lines"
    __table_args__ = {"schema": "engineering"}

    order_no: str = Field(primary_key=True, max_length=64)
    revision: int = Field(primary_key=True)
    line_no: int = Field(primary_key=True)
    item: str = Field(max_length=64, index=True)
    parent: str | None = Field(default=None, max_length=64)
    qty_per: Decimal = qty_field()
    make_or_buy: str = Field(max_length=4)
    lead_days: int | None = None
    supplier: str | None = None
    special: bool = False


# The item master: every item any released BOM has used, added on first release.
class Item(SQLModel, table=True):
    __tablename__ = "items"
    __table_args__ = {"schema": "engineering"}

    item: str = Field(primary_key=True, max_length=64)
    make_or_buy: str = Field(max_length=4)
    supplier: str | None = None
    lead_days: int | None = None
    special: bool = False
    # Standard and consumable parts kept on hand (§4.5); MRP's daily run tops them up.
    safety_stock: Decimal = qty_field(default=Decimal(0), server_default="0")
    first_order_no: str = Field(max_length=64)
    created_at: datetime = ts_field()


# A drawing released to production, warehouse, quality and aftersales (P3.2).
class DrawingRelease(SQLModel, table=True):
    __tablename__ = "drawings"
    __table_args__ = {"schema": "engineering"}

    order_no: str = Field(primary_key=True, max_length=64)
    number: str = Field(primary_key=True, max_length=64)
    rev: str = Field(primary_key=True, max_length=16)
    title: str
    task_id: str = Field(max_length=128)
    released_by: str
    released_at: datetime = ts_field()


# A design change notice (DCN, P3.4, P8.4a) as issued: the BOM revision it made and whether it
# came within the design-change clock (`ORDERFLOW_SLA_DESIGN_CHANGE`), for the DCN KPI.
class DesignChangeNotice(SQLModel, table=True):
    __tablename__ = "design_changes"
    __table_args__ = {"schema": "engineering"}

    order_no: str = Field(primary_key=True, max_length=64)
    dcn_no: str = Field(primary_key=True, max_length=64)
    # One DCN answers one confirmed design problem (workflow `dcn-<issue_no>`).
    issue_no: str = Field(unique=True, max_length=80)
    summary: str
    # What changed, line by line: action (add, change, remove), item, parent, qty_per before/after.
    changes: list[dict[str, Any]] = json_field()
    from_revision: int
    to_revision: int
    requested_at: datetime = ts_field()
    issued_by: str
    issued_at: datetime = ts_field()
    within_sla: bool


# A BOM uploaded ahead of its release (issue 17): validated, stored line by line, and named
# by `engineering.release_bom` (`draft_id`) instead of carrying the lines through the order.
class BomDraft(SQLModel, table=True):
    __tablename__ = "bom_drafts"
    __table_args__ = {"schema": "engineering"}

    id: int | None = Field(default=None, primary_key=True)
    order_no: str = Field(max_length=64, index=True)
    uploaded_by: str
    uploaded_at: datetime = ts_field()
    line_count: int
    # How it came: json, csv or xlsx; and the file's name when the uploader gave one.
    format: str = Field(max_length=8)
    filename: str | None = Field(default=None, max_length=255)
    # The revision a release made of it (a draft is released once).
    released_revision: int | None = None
    released_task_id: str | None = Field(default=None, max_length=128)


# One line of a draft, numbered as uploaded (the row's number in the file is `source_row`).
class BomDraftLine(SQLModel, table=True):
    __tablename__ = "bom_draft_lines"
    __table_args__ = {"schema": "engineering"}

    draft_id: int = Field(primary_key=True, foreign_key="engineering.bom_drafts.id")
    line_no: int = Field(primary_key=True)
    item: str = Field(max_length=64)
    parent: str | None = Field(default=None, max_length=64)
    qty_per: Decimal = qty_field()
    make_or_buy: str = Field(max_length=4)
    lead_days: int | None = None
    supplier: str | None = None
    special: bool = False
