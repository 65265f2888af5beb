"""Replacing an order's goods that an NCR took away (scrapped, or gone back to the supplier):
a requisition for a bought item, a work order for a made one, at once rather than at the next
daily MRP run. Every function takes the caller's session (the NCR's judgement commits the
replacement with its stock movements), and each replacement is keyed by the NCR and item, so
a retried judgement creates nothing twice."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.engineering.service import item_masters, newest_revision
from services.procurement.models import PurchaseOrder, Requirement, Requisition, WorkOrder
from services.procurement.service import owe_again
from shared.types import RequisitionSummary

# Namespace of the replacements' keys: fixed forever, or a retried judgement after an upgrade
# would propose a new key and buy twice.
_KEY_NAMESPACE = uuid.UUID("6f0d2a8e-4b7c-5e19-9a3d-81c5f2e7b046")

# Why such a requisition exists, as `GET /procurement/requisitions` lists it.
REASON = "ncr"


def replacement_key(kind: str, ncr_no: str, item: str) -> str:
    """`ncr-<uuid5>` (40 characters): the NCR number carries the order number and may be long."""
    return f"ncr-{uuid.uuid5(_KEY_NAMESPACE, json.dumps([kind, ncr_no, item]))}"


@dataclass(frozen=True)
class Replacement:
    """What replaces goods an NCR took: a requisition to buy, or a work order's key."""

    requisition: RequisitionSummary | None = None
    work_order: str | None = None


async def replace_for_order(
    session: AsyncSession, *, order_no: str, item: str, qty: Decimal, ncr_no: str, at: datetime
) -> Replacement:
    """Requisition (bought) or a work order (made) for `qty` of the order's item, needed by
    the order's required date for it (today when it has none). Make or buy is the order's
    requirement's, else the item master's; an item neither knows is bought."""
    requirement = await session.get(Requirement, (order_no, item))
    master = (await item_masters(session, items=[item])).get(item)
    make_or_buy = (
        requirement.make_or_buy if requirement else master.make_or_buy if master else "buy"
    )
    required = requirement.required_date if requirement and requirement.required_date else None
    revision = (
        requirement.bom_revision
        if requirement
        else await newest_revision(session, order_no=order_no) or 0
    )
    if make_or_buy == "make":
        key = replacement_key("work_order", ncr_no, item)
        await session.execute(
            insert(WorkOrder)
            .values(
                key=key,
                order_no=order_no,
                bom_revision=revision,
                item=item,
                qty=qty,
                state="open",
                required_date=required or at.date(),
                created_at=at,
            )
            .on_conflict_do_nothing(index_elements=["key"])
        )
        return Replacement(work_order=key)
    summary = RequisitionSummary(
        key=replacement_key("requisition", ncr_no, item),
        item=item,
        qty=qty,
        supplier=master.supplier if master else None,
        special=bool((requirement and requirement.special) or (master and master.special)),
        reason=REASON,
    )
    await session.execute(
        insert(Requisition)
        .values(
            key=summary.key,
            order_no=order_no,
            bom_revision=revision,
            item=item,
            qty=qty,
            supplier=summary.supplier,
            lead_days=master.lead_days if master else None,
            special=summary.special,
            reason=REASON,
            state="open",
            required_date=required or at.date(),
            created_at=at,
        )
        .on_conflict_do_nothing(index_elements=["key"])
    )
    return Replacement(requisition=summary)


async def owe_again_if_open(session: AsyncSession, *, po_no: str, item: str, qty: Decimal) -> bool:
    """The PO owes `qty` of the item again (`owe_again`) unless it was cancelled or does not
    exist; whether it does."""
    po = await session.get(PurchaseOrder, po_no, with_for_update=True)
    if po is None or po.state == "cancelled":
        return False
    await owe_again(session, po_no=po_no, item=item, qty=qty)
    return True
