"""Quality's API types: the inspection basis of an order (§3.3)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel

from services.engineering.schemas import BomLinePublic, DrawingPublic


# What quality inspects against: the technical agreement, the drawings, and what is bought in.
class InspectionBasis(BaseModel):
    order_no: str
    technical_agreement_ref: str | None
    customer_drawing_refs: list[str]
    drawings: list[DrawingPublic]
    bom_revision: int | None
    outsourced_items: list[BomLinePublic]
    special_items: list[str]


# -- what other departments read of quality's records (trace) ---------------------------------


# An incoming inspection as a lot's trace shows it.
@dataclass(frozen=True)
class LotInspection:
    lot_no: str
    state: str
    requested_at: datetime
    due_at: datetime | None
    inspected_at: datetime | None
    inspected_by: str | None
    within_sla: bool | None


# The release pass that let an NCR's goods leave, as a lot's trace shows it.
@dataclass(frozen=True)
class LotReleasePass:
    pass_no: str
    reason: str
    qty: Decimal
    issued_by: str
    issued_at: datetime


# An NCR as a lot's trace shows it, with its release pass if one was issued.
@dataclass(frozen=True)
class LotNcr:
    ncr_no: str
    lot_no: str
    item: str
    qty: Decimal
    defect: str
    state: str
    disposition: str | None
    judged_by: str | None
    judged_at: datetime | None
    release_pass: LotReleasePass | None
