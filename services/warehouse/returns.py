"""Returns to stock (P7.2, §7.3): surplus after an engineering change, unused leftovers, and
goods back from a customer.

A returned quantity goes back into the lot it was picked from, so the lot's genealogy stays
whole; the freed stock is then offered to the other orders short of it, earliest required
first. Everything happens in the caller's transaction: a refused line raises before anything
commits, so a return is booked whole or not at all.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col
from temporalio.client import Client
from temporalio.service import RPCError

from services.aftersales.service import case_order
from services.procurement.service import has_requirement, shrink_requirement
from services.sales.service import order_exists, order_has_item
from services.warehouse.lots import picked_lots
from services.warehouse.models import Reservation, ReturnRecord, StockItem, StockLot
from services.warehouse.schemas import (
    ReturnCreate,
    ReturnedToLot,
    ReturnLineCreate,
    ReturnLinePublic,
    ReturnPublic,
)
from services.warehouse.stock import add_lot, allocate, change_stock, record, shortfalls
from shared.errors import conflict, invalid, not_found
from shared.material_types import MaterialNotice
from shared.timeline import add_event
from workflows.clients import OrderWorkflow, order_handle

# Who books returns: the warehouse (admin always may).
RETURN_ROLES = ("warehouse",)

ZERO = Decimal(0)


# One return being booked: its number and what every ledger line of it carries.
@dataclass(frozen=True)
class _Return:
    return_no: str
    kind: str
    order_no: str | None
    reason: str
    by: str
    at: datetime
    case_id: str | None = None

    @property
    def detail(self) -> dict[str, Any]:
        detail = {"return_no": self.return_no, "kind": self.kind, "reason": self.reason}
        return detail | ({"case_id": self.case_id} if self.case_id else {})


def _n(qty: Decimal) -> str:
    """A quantity as people write it: 3, not 3.0000."""
    return format(qty.normalize(), "f")


async def create_return(
    session: AsyncSession, body: ReturnCreate, *, by: str, at: datetime
) -> ReturnPublic:
    """Book a return in the session's transaction (the caller commits); any line that cannot
    be returned raises a 404/422 error and the caller's rollback leaves stock untouched."""
    order_no = await _case_order(session, body) if body.case_id else body.order_no
    if order_no is not None and not await order_exists(session, order_no):
        raise not_found(f"order {order_no}")
    seq = (await session.execute(text("SELECT nextval('warehouse.receipt_seq')"))).scalar_one()
    ret = _Return(f"RT-{seq:06d}", body.kind, order_no, body.reason, by, at, body.case_id)
    lines = []
    for line in body.lines:
        if ret.kind == "aftersales":
            lines.append(await _from_customer(session, ret, line))
        else:
            lines.append(await _from_order(session, ret, line))
    items = sorted({line.item for line in body.lines})
    allocated = await _offer_to_others(session, ret, items)
    result = ReturnPublic(
        return_no=ret.return_no,
        kind=body.kind,
        order_no=ret.order_no,
        reason=ret.reason,
        returned_by=by,
        returned_at=at,
        lines=lines,
        allocated=allocated,
        case_id=ret.case_id,
    )
    if ret.order_no is not None:
        await _tell_material_control(session, ret, result)
    return result


async def _case_order(session: AsyncSession, body: ReturnCreate) -> str:
    """The order of the service case the return names: 404 for an unknown case, 409 when the
    body names another order."""
    case_id = body.case_id or ""
    order_no = await case_order(session, case_id)
    if order_no is None:
        raise not_found(f"service case {case_id}")
    if body.order_no is not None and body.order_no != order_no:
        raise conflict(
            "case_not_of_order",
            f"service case {case_id} is on order {order_no}, not {body.order_no}; name its "
            "order or leave order_no out",
        )
    return order_no


async def _from_order(
    session: AsyncSession, ret: _Return, line: ReturnLineCreate
) -> ReturnLinePublic:
    """Engineering-change surplus (the reservation still on the shelf first, then what was
    picked) or a leftover (picked only) back from the order into stock."""
    order_no = ret.order_no or ""
    held = (
        await session.execute(
            select(Reservation)
            .where(col(Reservation.order_no) == order_no, col(Reservation.item) == line.item)
            .with_for_update()
        )
    ).scalar_one_or_none()
    if held is None:
        raise invalid(
            "return_exceeds_holding",
            f"order {order_no} holds no {line.item}; {_n(line.qty)} cannot come back from it",
        )
    reserved, picked = Decimal(held.qty), Decimal(held.picked)
    if ret.kind == "leftover" and line.qty > picked:
        raise invalid(
            "return_exceeds_picked",
            f"order {order_no} has picked {_n(picked)} of {line.item}; "
            f"{_n(line.qty)} cannot come back as leftover",
        )
    if line.qty > reserved:
        raise invalid(
            "return_exceeds_holding",
            f"order {order_no} holds {_n(reserved)} of {line.item} ({_n(reserved - picked)} "
            f"reserved on the shelf, {_n(picked)} picked); {_n(line.qty)} cannot come back",
        )
    from_shelf = ZERO if ret.kind == "leftover" else min(line.qty, reserved - picked)
    from_picked = line.qty - from_shelf
    if line.lot_no is not None:
        await _lot(session, line.lot_no, line.item)
    lots = await _lots_picked_from(session, ret, line, from_picked) if from_picked else []
    held.qty = reserved - line.qty
    held.picked = picked - from_picked
    # What comes back is no longer needed by the order: its requirement shrinks with it, so
    # neither the completeness check nor the daily MRP run buys it again.
    await shrink_requirement(session, order_no=order_no, item=line.item, qty=line.qty)
    if from_shelf:
        await record(
            session,
            kind="unreserved",
            item=line.item,
            qty=from_shelf,
            by=ret.by,
            at=ret.at,
            order_no=order_no,
            ref=ret.return_no,
            detail=ret.detail,
        )
    for lot, qty in lots:
        await _into_lot(session, ret, lot, qty)
    return ReturnLinePublic(
        item=line.item,
        qty=line.qty,
        unreserved=from_shelf,
        returned=from_picked,
        lots=[ReturnedToLot(lot_no=lot.lot_no, qty=qty) for lot, qty in lots],
    )


async def _lots_picked_from(
    session: AsyncSession, ret: _Return, line: ReturnLineCreate, qty: Decimal
) -> list[tuple[StockLot, Decimal]]:
    """The lots `qty` of picked material goes back into: the named one, which must have given
    the order that much, or the lots the order picked from, most recently picked first."""
    order_no = ret.order_no or ""
    picks = [p for p in await picked_lots(session, order_no, line.item) if p.lot_no]
    if line.lot_no is not None:
        taken = sum((p.qty for p in picks if p.lot_no == line.lot_no), ZERO)
        if qty > taken:
            where = ", ".join(f"{p.lot_no}: {_n(p.qty)}" for p in picks) or "no lot"
            raise invalid(
                "return_exceeds_lot",
                f"order {order_no} picked {_n(taken)} of {line.item} from lot {line.lot_no} "
                f"(by lot: {where}); {_n(qty)} cannot go back into it",
            )
        return [(await _lot(session, line.lot_no, line.item), qty)]
    plan: list[tuple[StockLot, Decimal]] = []
    left = qty
    for pick in picks:
        if left <= 0:
            break
        take = min(left, pick.qty)
        plan.append((await _lot(session, pick.lot_no or "", line.item), take))
        left -= take
    if left > 0:
        raise invalid(
            "picked_lot_unknown",
            f"the ledger names the lots of only {_n(qty - left)} of the {_n(qty)} {line.item} "
            f"order {order_no} is giving back from its picks; the rest has no lot to go into",
        )
    return plan


async def _from_customer(
    session: AsyncSession, ret: _Return, line: ReturnLineCreate
) -> ReturnLinePublic:
    """Goods back from a customer: into the named lot of the item, or a new lot named after
    the return (source `return`)."""
    if not await _known_item(session, line.item, ret.order_no):
        where = (
            f"neither in stock nor on order {ret.order_no}" if ret.order_no else "never in stock"
        )
        raise invalid("unknown_item", f"{line.item} is {where}: no lot can take it")
    if line.lot_no is not None:
        lot = await _lot(session, line.lot_no, line.item)
        await _into_lot(session, ret, lot, line.qty)
        lot_no = lot.lot_no
    else:
        lot_no = ret.return_no
        await add_lot(
            session, lot_no=lot_no, item=line.item, qty=line.qty, source="return", at=ret.at
        )
        await _returned(session, ret, line.item, lot_no, line.qty)
    return ReturnLinePublic(
        item=line.item,
        qty=line.qty,
        unreserved=ZERO,
        returned=line.qty,
        lots=[ReturnedToLot(lot_no=lot_no, qty=line.qty)],
    )


async def _known_item(session: AsyncSession, item: str, order_no: str | None) -> bool:
    """An item the warehouse has stocked, or one of the order's lines or requirements."""
    stocked = select(col(StockItem.item)).where(col(StockItem.item) == item)
    if (await session.execute(stocked.limit(1))).first() is not None:
        return True
    if order_no is None:
        return False
    return await order_has_item(session, order_no=order_no, item=item) or await has_requirement(
        session, order_no=order_no, item=item
    )


async def _lot(session: AsyncSession, lot_no: str, item: str) -> StockLot:
    """The stock lot of the item, locked; 422 when the lot holds no such item."""
    lot = (
        await session.execute(
            select(StockLot)
            .where(col(StockLot.lot_no) == lot_no, col(StockLot.item) == item)
            .with_for_update()
        )
    ).scalar_one_or_none()
    if lot is None:
        raise invalid("unknown_lot", f"lot {lot_no} holds no {item}")
    return lot


async def _into_lot(session: AsyncSession, ret: _Return, lot: StockLot, qty: Decimal) -> None:
    """Returned goods back on the shelf in an existing lot: what it has left and on hand."""
    lot.qty_left = Decimal(lot.qty_left) + qty
    await change_stock(session, lot.item, at=ret.at, on_hand=qty)
    await _returned(session, ret, lot.item, lot.lot_no, qty)


async def _returned(
    session: AsyncSession, ret: _Return, item: str, lot_no: str, qty: Decimal
) -> None:
    await record(
        session,
        kind="returned",
        item=item,
        qty=qty,
        by=ret.by,
        at=ret.at,
        lot_no=lot_no,
        order_no=ret.order_no,
        ref=ret.return_no,
        detail=ret.detail,
    )


async def _offer_to_others(
    session: AsyncSession, ret: _Return, items: list[str]
) -> dict[str, dict[str, Decimal]]:
    """Reserve the freed stock for orders short of it, earliest required first. Surplus from
    an order (engineering change, leftover) is not offered back to that order: its requirement
    may still count the surplus, and the return would undo itself."""
    if ret.order_no is None or ret.kind == "aftersales":
        return await allocate(session, items, by=ret.by, at=ret.at, ref=ret.return_no)
    given: dict[str, dict[str, Decimal]] = {}
    for item in items:
        for order_no, _ in await shortfalls(session, item):
            if order_no == ret.order_no:
                continue
            got = await allocate(
                session, [item], by=ret.by, at=ret.at, ref=ret.return_no, only_order=order_no
            )
            for taker, per_item in got.items():
                given.setdefault(taker, {}).update(per_item)
    return given


async def _tell_material_control(session: AsyncSession, ret: _Return, result: ReturnPublic) -> None:
    """The order's timeline records the return, which material control reads (§7.3.1)."""
    what = ", ".join(f"{_n(line.qty)} {line.item}" for line in result.lines)
    case = f" on service case {ret.case_id}" if ret.case_id else ""
    await add_event(
        session,
        key=f"{ret.return_no}:material_return",
        order_no=ret.order_no or "",
        at=ret.at,
        kind="material_return",
        actor=ret.by,
        summary=f"{ret.return_no} {ret.kind.replace('_', ' ')} return{case}: {what} ({ret.reason})",
        detail=result.model_dump(mode="json"),
    )


async def tell_orders(temporal: Client, allocated: dict[str, dict[str, Decimal]]) -> None:
    """Signal each order that got stock from a return: its picking may go on. An order whose
    workflow has ended has nothing to pick; the reservation stands for the daily MRP run."""
    for order_no, items in allocated.items():
        handle = order_handle(temporal, order_no)
        for item, qty in items.items():
            notice = MaterialNotice(
                kind="reserved", item=item, qty=qty, message=f"{qty} {item} reserved from a return"
            )
            with contextlib.suppress(RPCError):
                await handle.signal(OrderWorkflow.material_notice, notice)


def return_hash(body: ReturnCreate) -> str:
    """The request's fingerprint: a reused Idempotency-Key must come with the same body."""
    canonical = json.dumps(body.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


async def earlier_return(
    session: AsyncSession, *, key: str, by: str, body: ReturnCreate
) -> ReturnPublic | None:
    """The return booked earlier under this caller's Idempotency-Key, if any; 422 when the key
    came with another body."""
    found = (
        await session.execute(
            select(ReturnRecord).where(
                col(ReturnRecord.returned_by) == by, col(ReturnRecord.idempotency_key) == key
            )
        )
    ).scalar_one_or_none()
    if found is None:
        return None
    if found.request_hash != return_hash(body):
        raise invalid(
            "idempotency_key_reused",
            f"Idempotency-Key {key!r} was used for return {found.return_no} with a different "
            "body; use a new key for a new return",
        )
    return ReturnPublic.model_validate(found.response)


def keep_return(
    session: AsyncSession, result: ReturnPublic, body: ReturnCreate, key: str | None
) -> None:
    """Keep the booked return and its answer (in the caller's transaction)."""
    session.add(
        ReturnRecord(
            return_no=result.return_no,
            kind=result.kind,
            order_no=result.order_no,
            returned_by=result.returned_by,
            returned_at=result.returned_at,
            idempotency_key=key,
            request_hash=return_hash(body),
            response=result.model_dump(mode="json"),
        )
    )
