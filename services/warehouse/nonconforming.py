"""Nonconforming goods found in assembly (§8.5b) leaving the order that picked them: returned
or sent for repair on a release pass, or scrapped. In the caller's transaction (quality's NCR
judgement), so the reservation, the ledger and the replacement commit together."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.warehouse.lots import picked_lots
from services.warehouse.models import Reservation, StockLot
from services.warehouse.stock import record

ZERO = Decimal(0)

# The ledger's mark on movements of goods an assembly NCR took from their order: picked_lots
# counts them as no longer with the order.
FOUND_IN_ASSEMBLY = "assembly"


@dataclass(frozen=True)
class TakenFrom:
    """Part of what left the order, by the lot it was picked from (None: no lot named)."""

    lot_no: str | None
    qty: Decimal
    po_no: str | None = None
    supplier: str | None = None


async def take_from_order(
    session: AsyncSession,
    *,
    order_no: str,
    item: str,
    qty: Decimal,
    kind: str,
    by: str,
    at: datetime,
    ref: str,
    detail: dict[str, Any],
) -> list[TakenFrom]:
    """Up to `qty` of what the order picked of the item leaves it (ledger `kind`: released or
    scrapped), the most recently picked lot first: the reservation shrinks by it, picked and
    all, so the order is short of it again. Returns what left, by lot (nothing when the order
    picked none)."""
    held = await session.get(Reservation, (order_no, item), with_for_update=True)
    if held is None or Decimal(held.picked) <= 0:
        return []
    taking = min(qty, Decimal(held.picked))
    held.qty = Decimal(held.qty) - taking
    held.picked = Decimal(held.picked) - taking
    taken: list[TakenFrom] = []
    left = taking
    for pick in await picked_lots(session, order_no, item):
        if left <= 0:
            break
        part = min(left, pick.qty)
        lot = await session.get(StockLot, (pick.lot_no, item)) if pick.lot_no else None
        taken.append(
            TakenFrom(
                lot_no=pick.lot_no,
                qty=part,
                po_no=lot.po_no if lot else None,
                supplier=lot.supplier if lot else None,
            )
        )
        left -= part
    if left > 0:  # picked before the ledger named lots
        taken.append(TakenFrom(lot_no=None, qty=left))
    for out in taken:
        await record(
            session,
            kind=kind,
            item=item,
            qty=out.qty,
            by=by,
            at=at,
            lot_no=out.lot_no,
            order_no=order_no,
            ref=ref,
            detail={**detail, "found_in": FOUND_IN_ASSEMBLY},
        )
    return taken
