"""Quality's API types: the inspection basis of an order (§3.3)."""

from __future__ import annotations

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
