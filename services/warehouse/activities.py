"""Warehouse activities: the completeness check (P5.1), picking (P7.1) and reserving free stock
for an order; plus the department's inbox and escalations."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col
from temporalio import activity
from temporalio.exceptions import ApplicationError

from services.production.service import production_order_of
from services.warehouse.models import Movement, Receipt, Reservation, StockLot
from services.warehouse.service import material_status
from services.warehouse.stock import add_lot, allocate, change_stock, record, reserved_by
from shared.activities import DbActivities
from shared.db import session_scope
from shared.escalations.activities import EscalationActivities
from shared.material_types import (
    Completeness,
    MaterialLine,
    MaterialQuery,
    MaterialSummary,
    PickRecord,
    PickResult,
    ReserveFree,
    summarize,
)
from shared.production_types import FinishedGoods
from shared.tasks.activities import TaskActivities
from shared.timeline import TimelineEvent, add_event

ZERO = Decimal(0)
# Attempts to find a receipt whose transaction may still be committing before giving up on it.
RECEIPT_ATTEMPTS = 8
# The short lines a pick by reference names in its answer (the rest are counted).
SHORT_NAMED = 20


class WarehouseActivities(DbActivities):
    """The warehouse's automatic work; the worker registers the bound methods."""

    @activity.defn
    async def completeness(self, order_no: str) -> Completeness:
        """Every line the order needs from stock: required, reserved, picked, and what is on its
        way (pending inspection, open PO quantity with its promised date)."""
        async with session_scope(self._engine) as session:
            return await material_status(session, order_no)

    @activity.defn
    async def material_summary(self, query: MaterialQuery) -> MaterialSummary:
        """The order's material in counts, naming the first lines short, not picked and ready
        to pick (or the one line asked for): its size does not grow with the BOM (issue 17)."""
        async with session_scope(self._engine) as session:
            status = await material_status(session, query.order_no)
        return summarize(status, query.sample, query.item)

    @activity.defn
    async def record_pick(self, pick: PickRecord) -> PickResult:
        """Take the picked quantities off the shelf, oldest lot first, against the order's
        reservation. What the pick list named and was not found on the shelf is written off
        (stock and reservation corrected), so the order, MRP and the planner see the shortage.
        """
        async with session_scope(self._engine) as session:
            # The order's reservations first, in item order: a return or another pick waits.
            await session.execute(
                select(Reservation)
                .where(col(Reservation.order_no) == pick.order_no)
                .order_by(col(Reservation.item))
                .with_for_update()
            )
            done = (
                await session.execute(
                    select(col(TimelineEvent.id)).where(
                        col(TimelineEvent.key) == f"{pick.task_id}:picked"
                    )
                )
            ).scalar_one_or_none()
            status = await material_status(session, pick.order_no)
            lines = {line.item: line for line in status.lines}
            if done is not None:  # a retry after the first attempt committed
                return _result(lines, pick)
            picked = {str(a["item"]): Decimal(str(a["qty_picked"])) for a in pick.lines}
            unlisted: list[str] = []
            for item in sorted(set(picked) | set(pick.pick_list)):
                if pick.by_reference and (item not in lines or lines[item].to_pick <= 0):
                    # Not on the list the task named by reference: nothing to take, and the
                    # timeline says so (the order had no list to refuse it against).
                    unlisted.append(item)
                    continue
                line = lines[item]
                listed = min(pick.pick_list.get(item, line.to_pick), line.to_pick)
                qty = min(picked.get(item, ZERO), line.to_pick)
                reservation = await session.get(Reservation, (pick.order_no, item))
                if qty > 0:
                    assert reservation is not None
                    await _take_from_lots(session, pick, item, qty, kind="picked")
                    await change_stock(session, item, at=pick.at, on_hand=-qty)
                    reservation.picked = Decimal(reservation.picked) + qty
                not_found = listed - qty
                if not_found > 0:
                    assert reservation is not None
                    await _take_from_lots(session, pick, item, not_found, kind="not_found")
                    await change_stock(session, item, at=pick.at, on_hand=-not_found)
                    reservation.qty = Decimal(reservation.qty) - not_found
                lines[item] = line.model_copy(
                    update={"picked": line.picked + qty, "reserved": line.reserved - not_found}
                )
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
                        detail={"not_found": str(not_found)},
                    )
            result = _result(lines, pick)
            taken = {i: q for i, q in picked.items() if i not in unlisted}
            shorts = ", ".join(f"{qty} {item}" for item, qty in result.short.items())
            await add_event(
                session,
                key=f"{pick.task_id}:picked",
                order_no=pick.order_no,
                at=pick.at,
                kind="picking",
                actor=pick.by,
                summary="picked "
                + (", ".join(f"{q} {i}" for i, q in taken.items() if q > 0) or "nothing")
                + (f"; short {shorts}" if shorts else ""),
                detail={
                    "short": {k: str(v) for k, v in result.short.items()},
                    **({"not_on_the_list": unlisted} if unlisted else {}),
                },
            )
        return result

    @activity.defn
    async def receipt_stored(self, receipt_no: str) -> bool:
        """Whether a receipt committed; retried a while, as its transaction may still be
        committing when the inspection workflow it started asks."""
        async with session_scope(self._engine) as session:
            found = await session.get(Receipt, receipt_no)
        if found is None and activity.info().attempt < RECEIPT_ATTEMPTS:
            raise ApplicationError(f"receipt {receipt_no} not stored yet")
        return found is not None

    @activity.defn
    async def reserve_free(self, request: ReserveFree) -> Decimal:
        """Set free stock of an item aside for the order (planning reuses stock, §5.4)."""
        async with session_scope(self._engine) as session:
            ref = f"reuse stock {request.at.isoformat()} {request.order_no}"[:128]
            await allocate(
                session,
                [request.item],
                by=request.by,
                at=request.at,
                ref=ref,
                only_order=request.order_no,
            )
            # From the ledger: a retry after the commit answers what the first attempt did.
            given = await reserved_by(session, ref)
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

    @activity.defn
    async def finished_goods(self, goods: FinishedGoods) -> Decimal:
        """The order's product into finished goods stock once it passed final inspection
        (P9.3), in a lot named after its work order; out again when it ships (P10.1)."""
        async with session_scope(self._engine) as session:
            order = await production_order_of(session, order_no=goods.order_no)
            kind = "finished" if goods.movement == "in" else "shipped"
            booked = (
                await session.execute(
                    select(col(Movement.id)).where(
                        col(Movement.kind) == kind, col(Movement.lot_no) == order.wo_no
                    )
                )
            ).first()
            qty = Decimal(order.qty)
            if booked is not None:  # a retry after the first attempt committed
                return qty
            if goods.movement == "in":
                await add_lot(
                    session,
                    lot_no=order.wo_no,
                    item=order.product,
                    qty=qty,
                    source="production",
                    at=goods.at,
                )
            else:
                lot = await session.get(
                    StockLot, (order.wo_no, order.product), with_for_update=True
                )
                if lot is not None:
                    lot.qty_left = max(Decimal(lot.qty_left) - qty, ZERO)
                await change_stock(session, order.product, at=goods.at, on_hand=-qty)
            await record(
                session,
                kind=kind,
                item=order.product,
                qty=qty,
                by=goods.by,
                at=goods.at,
                lot_no=order.wo_no,
                order_no=goods.order_no,
                ref=goods.ref,
            )
        return qty


async def _take_from_lots(
    session: AsyncSession, pick: PickRecord, item: str, qty: Decimal, *, kind: str
) -> None:
    """Take `qty` of an item out of its lots, first in first out: picked for the order, or
    `not_found` on the shelf and written off; each lot's share goes into the ledger."""
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
            kind=kind,
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
    if qty > 0:  # stock taken before lots were kept: from no known lot
        await record(
            session,
            kind=kind,
            item=item,
            qty=qty,
            by=pick.by,
            at=pick.at,
            order_no=pick.order_no,
            ref=pick.task_id,
            detail={"untraced": True},
        )


def _result(lines: dict[str, MaterialLine], pick: PickRecord) -> PickResult:
    """What the order has picked and is short of. A pick by reference answers only the lines
    it named and came up short, the first `SHORT_NAMED` of them and their count: lines it did
    not name are picked in a later round, and the answer does not grow with the BOM."""
    if pick.by_reference:
        named = {str(a["item"]) for a in pick.lines}
        short = {
            line.item: line.required - line.picked
            for line in lines.values()
            if line.item in named and line.required > line.picked
        }
        first = dict(sorted(short.items())[:SHORT_NAMED])
        return PickResult(picked={}, short=first, short_count=len(short))
    return PickResult(
        picked={line.item: line.picked for line in lines.values()},
        short={
            line.item: line.required - line.picked
            for line in lines.values()
            if line.required > line.picked
        },
    )


ACTIVITIES: list[type] = [TaskActivities, EscalationActivities, WarehouseActivities]
