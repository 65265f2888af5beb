"""Warehouse activities: the completeness check (P5.1), picking (P7.1) and reserving free stock
for an order; plus the department's inbox and escalations."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col
from temporalio import activity

from services.warehouse.models import Movement, Reservation, StockLot
from services.warehouse.service import material_status
from services.warehouse.stock import allocate, change_stock, record
from shared.activities import DbActivities
from shared.db import session_scope
from shared.escalations.activities import EscalationActivities
from shared.tasks.activities import TaskActivities
from shared.timeline import add_event
from shared.types import Completeness, MaterialLine, PickRecord, PickResult, ReserveFree

ZERO = Decimal(0)


class WarehouseActivities(DbActivities):
    """The warehouse's automatic work; the worker registers the bound methods."""

    @activity.defn
    async def completeness(self, order_no: str) -> Completeness:
        """Every line the order needs from stock: required, reserved, picked, and what is on its
        way (pending inspection, open PO quantity with its promised date)."""
        async with session_scope(self._engine) as session:
            return await material_status(session, order_no)

    @activity.defn
    async def record_pick(self, pick: PickRecord) -> PickResult:
        """Take the picked quantities off the shelf, oldest lot first, against the order's
        reservation; a line picked short is recorded as such."""
        async with session_scope(self._engine) as session:
            done = (
                await session.execute(
                    select(func.count()).where(
                        col(Movement.ref) == pick.task_id,
                        col(Movement.kind).in_(["picked", "short_picked"]),
                    )
                )
            ).scalar_one()
            status = await material_status(session, pick.order_no)
            lines = {line.item: line for line in status.lines}
            if done:  # a retry after the first attempt committed
                return _result(pick, lines)
            for answer in pick.lines:
                item, qty = answer["item"], Decimal(str(answer["qty_picked"]))
                line = lines[item]
                qty = min(qty, line.to_pick)
                if qty > 0:
                    await _take_from_lots(session, pick, item, qty)
                    await change_stock(session, item, at=pick.at, on_hand=-qty)
                    reservation = await session.get(
                        Reservation, (pick.order_no, item), with_for_update=True
                    )
                    assert reservation is not None
                    reservation.picked = Decimal(reservation.picked) + qty
                lines[item] = line.model_copy(update={"picked": line.picked + qty})
                short = lines[item].required - lines[item].picked
                if short > 0:
                    await record(
                        session,
                        kind="short_picked",
                        item=item,
                        qty=short,
                        by=pick.by,
                        at=pick.at,
                        order_no=pick.order_no,
                        ref=pick.task_id,
                    )
            result = _result(pick, lines)
            shorts = ", ".join(f"{qty} {item}" for item, qty in result.short.items())
            await add_event(
                session,
                key=f"{pick.task_id}:picked",
                order_no=pick.order_no,
                at=pick.at,
                kind="picking",
                actor=pick.by,
                summary="picked "
                + ", ".join(f"{q} {i}" for i, q in result.picked.items() if q > 0)
                + (f"; short {shorts}" if shorts else ""),
                detail={"short": {k: str(v) for k, v in result.short.items()}},
            )
        return result

    @activity.defn
    async def reserve_free(self, request: ReserveFree) -> Decimal:
        """Set free stock of an item aside for the order (planning reuses stock, §5.4)."""
        async with session_scope(self._engine) as session:
            given = await allocate(
                session,
                [request.item],
                by=request.by,
                at=request.at,
                ref="reuse stock",
                only_order=request.order_no,
            )
            qty = given.get(request.order_no, {}).get(request.item, ZERO)
            await add_event(
                session,
                key=f"{request.order_no}:reuse:{request.item}:{request.at.isoformat()}",
                order_no=request.order_no,
                at=request.at,
                kind="reservation",
                actor=request.by,
                summary=f"reuse stock: {qty} {request.item} reserved from free stock",
            )
        return qty


async def _take_from_lots(session: AsyncSession, pick: PickRecord, item: str, qty: Decimal) -> None:
    """Consume `qty` of an item from its lots, first in first out, recording each lot's pick."""
    lots = (
        await session.execute(
            select(StockLot)
            .where(col(StockLot.item) == item, col(StockLot.qty_left) > 0)
            .order_by(col(StockLot.created_at), col(StockLot.lot_no))
            .with_for_update()
        )
    ).scalars()
    for lot in lots:
        if qty <= 0:
            break
        take = min(qty, Decimal(lot.qty_left))
        lot.qty_left = Decimal(lot.qty_left) - take
        qty -= take
        await record(
            session,
            kind="picked",
            item=item,
            qty=take,
            by=pick.by,
            at=pick.at,
            lot_no=lot.lot_no,
            order_no=pick.order_no,
            receipt_no=lot.receipt_no,
            ref=pick.task_id,
            detail={"supplier": lot.supplier, "supplier_lot": lot.supplier_lot},
        )
    if qty > 0:  # stock taken before lots were kept: picked, but from no known lot
        await record(
            session,
            kind="picked",
            item=item,
            qty=qty,
            by=pick.by,
            at=pick.at,
            order_no=pick.order_no,
            ref=pick.task_id,
            detail={"untraced": True},
        )


def _result(pick: PickRecord, lines: dict[str, MaterialLine]) -> PickResult:
    return PickResult(
        picked={line.item: line.picked for line in lines.values()},
        short={
            line.item: line.required - line.picked
            for line in lines.values()
            if line.required > line.picked
        },
    )


ACTIVITIES: list[type] = [TaskActivities, EscalationActivities, WarehouseActivities]
