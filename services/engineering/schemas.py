"""Engineering's API types: released BOM revisions and drawing sets."""

from __future__ import annotations

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
