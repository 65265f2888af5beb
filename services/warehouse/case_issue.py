"""Spare parts issued from stock against an after-sales service case (售后), and what the
ledger says a case took and gave back.

Only free stock is issued (on hand less what orders hold on the shelf), lot by lot: the named
lot, or the oldest lots first. Each lot's share is a ledger movement `issued` naming the case
(`ref`) and its order, so the lot's trace shows where the part went. Everything happens in the
caller's transaction: a line that cannot be issued raises before anything commits.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.warehouse.models import Movement, ReturnRecord, StockLot
from services.warehouse.schemas import ReturnedToLot, ReturnPublic
from services.warehouse.stock import change_stock, free_qty, record
from shared.bounds import ITEM_LEN, NoControl, Text
from shared.errors import invalid

ZERO = Decimal(0)
ISSUED = "issued"


# One part asked for: an item, how much, and optionally the lot it must come from.
class CasePart(BaseModel):
    model_config = ConfigDict(extra="forbid")
    item: Text = Field(min_length=1, max_length=ITEM_LEN)
    qty: Decimal = Field(gt=0, max_digits=18, decimal_places=4, allow_inf_nan=False)
    lot_no: Annotated[str, Field(min_length=1, max_length=32), NoControl] | None = None


# One issued line: the item, how much, and the lots it came out of.
class IssuedLine(BaseModel):
    item: str
    qty: Decimal
    lots: list[ReturnedToLot]


# One ledger movement of a part issued to a case.
class IssuedPart(BaseModel):
    item: str
    qty: Decimal
    lot_no: str | None
    by: str
    at: datetime


def _n(qty: Decimal) -> str:
    return format(qty.normalize(), "f")


async def issue_to_case(
    session: AsyncSession,
    *,
    case_id: str,
    order_no: str,
    parts: list[CasePart],
    by: str,
    at: datetime,
) -> list[IssuedLine]:
    """Take the parts out of free stock, lot by lot, for the case (the caller commits); 422
    when an item has not that much free or not that much in known lots."""
    issued = []
    for part in parts:
        # The lots first, then the item's stock row (`free_qty` locks it), as a pick and a
        # return take them: no deadlock between them.
        lots = await _lots_of(session, part)
        free = await free_qty(session, part.item)
        if part.qty > free:
            raise invalid(
                "insufficient_stock",
                f"{_n(free)} {part.item} is free (on hand less what orders hold); "
                f"{_n(part.qty)} cannot be issued to case {case_id}",
            )
        taken = []
        for lot, qty in _plan(part, lots):
            lot.qty_left = Decimal(lot.qty_left) - qty
            await record(
                session,
                kind=ISSUED,
                item=part.item,
                qty=qty,
                by=by,
                at=at,
                lot_no=lot.lot_no,
                order_no=order_no,
                receipt_no=lot.receipt_no,
                ref=case_id,
                detail={
                    "kind": "aftersales",
                    "case_id": case_id,
                    "supplier": lot.supplier,
                    "supplier_lot": lot.supplier_lot,
                },
            )
            taken.append(ReturnedToLot(lot_no=lot.lot_no, qty=qty))
        await change_stock(session, part.item, at=at, on_hand=-part.qty)
        issued.append(IssuedLine(item=part.item, qty=part.qty, lots=taken))
    return issued


async def _lots_of(session: AsyncSession, part: CasePart) -> list[StockLot]:
    """The lots `part` may come out of, locked, oldest first: the named one, or every lot of
    the item with some left."""
    query = select(StockLot).where(col(StockLot.item) == part.item, col(StockLot.qty_left) > 0)
    if part.lot_no is not None:
        query = query.where(col(StockLot.lot_no) == part.lot_no)
    rows = await session.execute(
        query.order_by(col(StockLot.created_at), col(StockLot.lot_no)).with_for_update()
    )
    return list(rows.scalars())


def _plan(part: CasePart, lots: list[StockLot]) -> list[tuple[StockLot, Decimal]]:
    """What each lot gives, oldest first; 422 when the lots hold less than the part."""
    plan: list[tuple[StockLot, Decimal]] = []
    left = part.qty
    for lot in lots:
        if left <= 0:
            break
        take = min(left, Decimal(lot.qty_left))
        plan.append((lot, take))
        left -= take
    if left > 0:
        where = f"lot {part.lot_no} holds" if part.lot_no else "the stock lots hold"
        raise invalid(
            "issue_exceeds_lot",
            f"{where} only {_n(part.qty - left)} {part.item}; {_n(part.qty)} cannot be issued "
            "traced to a lot",
        )
    return plan


async def issued_to_case(session: AsyncSession, case_id: str) -> list[IssuedPart]:
    """Every part the ledger issued to the case, lot by lot, oldest first."""
    rows = await session.execute(
        select(Movement)
        .where(col(Movement.kind) == ISSUED, col(Movement.ref) == case_id)
        .order_by(col(Movement.at), col(Movement.id))
    )
    return [
        IssuedPart(item=m.item, qty=m.qty, lot_no=m.lot_no, by=m.by, at=m.at)
        for m in rows.scalars()
    ]


async def returns_of_case(session: AsyncSession, case_id: str) -> list[ReturnPublic]:
    """The after-sales returns booked against the case, oldest first."""
    rows = await session.execute(
        select(ReturnRecord)
        .where(ReturnRecord.response["case_id"].astext == case_id)  # type: ignore[index]
        .order_by(col(ReturnRecord.returned_at))
    )
    return [ReturnPublic.model_validate(row.response) for row in rows.scalars()]
