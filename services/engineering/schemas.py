"""Engineering's API types: released BOM revisions and drawing sets."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel


class BomLinePublic(BaseModel):
    line_no: int
    item: str
    parent: str | None
    qty_per: Decimal
    make_or_buy: str
    lead_days: int | None
    supplier: str | None
    special: bool


# A released BOM revision, as every department receiving it reads it.
class BomPublic(BaseModel):
    order_no: str
    revision: int
    released_by: str
    released_at: datetime
    revisions: list[int]
    lines: list[BomLinePublic]


class DrawingPublic(BaseModel):
    number: str
    rev: str
    title: str
    released_by: str
    released_at: datetime


# An item master row as other departments read it (the daily MRP run: supplier, lead time,
# safety stock).
@dataclass(frozen=True)
class ItemMaster:
    item: str
    make_or_buy: str
    supplier: str | None
    lead_days: int | None
    special: bool
    safety_stock: Decimal


# A BOM draft (issue 17): an uploaded BOM waiting to be released by `draft_id`.
class BomDraftSummary(BaseModel):
    draft_id: int
    order_no: str
    uploaded_by: str
    uploaded_at: datetime
    format: str
    filename: str | None
    line_count: int
    item_count: int
    make_count: int
    buy_count: int
    # The BOM revision its release made, once released (a draft is released once).
    released_revision: int | None


# A draft with one page of its lines (`offset`, `limit`).
class BomDraftPublic(BomDraftSummary):
    offset: int
    lines: list[BomLinePublic]
