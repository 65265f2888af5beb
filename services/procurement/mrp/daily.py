"""The daily MRP run (PROCESS P4.2, §4.3, §4.5): safety stock topped up, open orders given the
stock that has come free, and shortages nothing covers any more requisitioned.

Why the netting pools supply: stock is allocated to whichever active order needs it first (the
earliest required date, `services.warehouse.stock.allocate`) whenever goods come into stock,
whatever order a PO was placed for. So what an item will have is on hand + everything on its
way in (open PO lines, requisitions not yet ordered, goods pending inspection, rejects an open
incoming NCR will bring back as stock or reopen on the PO), and what it must give is every
active order's shortage. Orders draw on that pool earliest required first; what none of it
covers is bought for the order, and what is left after every order decides whether safety
stock needs a top-up.
Counting only an order's own requisitions would buy twice what MRP on BOM release expected
from an open stock PO; counting only stock POs for safety stock would ignore that orders will
take those goods first.

Every requisition's key is a function of (kind, order, item, day), inserted with ON CONFLICT DO
NOTHING, so two runs on the same day create nothing twice.
"""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select, tuple_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col
from temporalio import activity

from services.engineering.schemas import ItemMaster
from services.engineering.service import item_masters
from services.procurement.models import Requirement, Requisition
from services.procurement.mrp.bulk import among, insert_batches, table_of
from services.procurement.safety_stock import safety_stock_items
from services.procurement.service import open_po_qty, requirements_of_orders
from services.quality.service import open_ncr_qty
from services.sales.service import active_order_nos
from services.warehouse.stock import allocate, held_qty, pending_inspection, reserved_by
from services.warehouse.stock_many import free_qty_many, shortfalls_many
from shared.activities import DbActivities
from shared.db import session_scope
from shared.material_types import DailyReallocation, DailyRun, SafetyStockRun
from shared.plant_days import PlantDay, daily_mrp_day
from shared.timeline import add_event
from shared.types import RequisitionSummary

ZERO = Decimal(0)
ACTOR = "mrp-daily"

# Namespace of the daily run's keys: fixed forever, or a run after an upgrade would propose new
# keys and the ON CONFLICT guard would no longer stop a second requisition on the same day.
_KEY_NAMESPACE = uuid.UUID("3b8e6f52-1c4d-5a9e-8f07-d2c6a1b94e73")

# Requisitions still to be approved or put on a PO; ordered ones are counted on their PO line.
_NOT_ORDERED = ("open", "approved")


def daily_key(kind: str, item: str, day: date, order_no: str | None = None) -> str:
    """The key of the daily run's requisition for (kind, order, item, day): `ss-…` for safety
    stock, `mrpd-…` for an order; a UUID5 over a JSON array, so no separator can collide."""
    payload = json.dumps(["daily", kind, order_no, item, day.isoformat()])
    prefix = "ss" if kind == "safety_stock" else "mrpd"
    return f"{prefix}-{uuid.uuid5(_KEY_NAMESPACE, payload)}"


@dataclass(frozen=True)
class Projection:
    """An item once stock and supply have gone to the orders short of it."""

    # Per order, what neither free stock nor anything on its way in covers.
    uncovered: dict[str, Decimal]
    # What stays for stock after every order has what it needs (never negative).
    left: Decimal


def project(free: Decimal, supply: Decimal, shortages: Sequence[tuple[str, Decimal]]) -> Projection:
    """Give free stock, then open supply, to the orders short of an item in the order given
    (earliest required first, as allocation on receipt will)."""
    available = free + supply
    uncovered: dict[str, Decimal] = defaultdict(Decimal)
    for order_no, short in shortages:
        take = min(max(available, ZERO), short)
        available -= take
        if short > take:
            uncovered[order_no] += short - take
    return Projection(uncovered=dict(uncovered), left=max(available, ZERO))


def qty_text(qty: Decimal) -> str:
    """A quantity as people write it: 100, not 100.0000 (the column's scale)."""
    return f"{qty.normalize():f}"


def safety_topup(safety_stock: Decimal, projection: Projection) -> Decimal:
    """How much to buy so the stock left after every order reaches the safety stock."""
    return max(safety_stock - projection.left, ZERO)


class DailyMrpActivities(DbActivities):
    """The daily MRP run's work; the worker registers the bound methods."""

    @activity.defn
    async def mrp_day(self, run: DailyRun) -> PlantDay:
        """The plant's local date at the run's time and whether the run works on it (working
        days only: shared/plant_days.py)."""
        calendar = await self.calendar.current()
        return daily_mrp_day(calendar, run.at)

    @activity.defn
    async def replenish_safety_stock(self, run: DailyRun) -> SafetyStockRun:
        """Propose one safety-stock requisition per bought item whose stock, once every order
        has what it needs, falls below its safety stock (§4.5); none while one is pending."""
        async with session_scope(self._engine) as session:
            items = await safety_stock_items(session)
            names = [item.item for item in items]
            pending = {r.item for r in await _pending_safety_stock(session, names)}
            # One at a time: the next run tops up what remains.
            todo = [item for item in items if item.item not in pending]
            supply = await _open_supply(session, names)
            free = await free_qty_many(session, [item.item for item in todo])
            short = await shortfalls_many(session, [item.item for item in todo])
            proposed: list[tuple[RequisitionSummary, ItemMaster, Requirement | None]] = []
            for item in todo:
                projection = project(free[item.item], supply[item.item], short[item.item])
                qty = safety_topup(Decimal(item.safety_stock), projection)
                if qty <= 0:
                    continue
                summary = RequisitionSummary(
                    key=daily_key("safety_stock", item.item, run.day),
                    item=item.item,
                    qty=qty,
                    supplier=item.supplier,
                    special=item.special,
                    reason="safety_stock",
                )
                proposed.append((summary, item, None))
            made = await _insert_many(session, proposed, run)
            created = [summary for summary, _, _ in proposed if summary.key in made]
            awaiting = await _pending_safety_stock(session, names, states=("open",))
        return SafetyStockRun(
            created=created, awaiting_approval=[r for r in awaiting if r.key not in made]
        )

    @activity.defn
    async def reallocate_open_orders(self, run: DailyRun) -> DailyReallocation:
        """Reserve free stock for the active orders short of it (earliest required first), then
        requisition for each order what no stock or open supply covers (bought items only:
        a made item's shortage waits for its work order)."""
        async with session_scope(self._engine) as session:
            items = await _items_short(session)
            ref = f"daily MRP {run.at.isoformat()}"
            await allocate(session, items, by=ACTOR, at=run.at, ref=ref)
            # From the ledger, so a retry after this commits reports the same reservations.
            reserved = await reserved_by(session, ref)
            supply = await _open_supply(session, items)
            masters = await _masters(session, items)
            free = await free_qty_many(session, items)
            short = await shortfalls_many(session, items)
            uncovered = [
                (order_no, item, qty)
                for item in sorted(items)
                for order_no, qty in sorted(
                    project(free[item], supply[item], short[item]).uncovered.items()
                )
            ]
            proposed = await _order_requisitions(session, run, uncovered, masters)
            made = await _insert_many(session, proposed, run)
            requisitions: dict[str, list[RequisitionSummary]] = defaultdict(list)
            for summary, _, need in proposed:
                if need is not None and summary.key in made:
                    requisitions[need.order_no].append(summary)
            for order_no in sorted(set(reserved) | set(requisitions)):
                await _record(session, run, order_no, reserved.get(order_no, {}), requisitions)
        return DailyReallocation(reserved=reserved, requisitions=dict(requisitions))


async def _items_short(session: AsyncSession) -> list[str]:
    """Items some active order needs more of than it has reserved."""
    active = await active_order_nos(session)
    needs = await requirements_of_orders(session, order_nos=active)
    held = await held_qty(session, order_nos=active)
    return sorted(
        {
            need.item
            for need in needs
            if Decimal(need.qty) > held.get((need.order_no, need.item), ZERO)
        }
    )


async def _open_supply(session: AsyncSession, items: Iterable[str]) -> dict[str, Decimal]:
    """Everything on its way into stock of each item (see the module docstring)."""
    wanted = sorted(set(items))
    supply: dict[str, Decimal] = defaultdict(Decimal)
    if not wanted:
        return supply
    for item, qty in (await open_po_qty(session, items=wanted)).items():
        supply[item] += qty
    # Not yet on a PO: stock requisitions, and those of orders still going.
    not_ordered = (
        await session.execute(
            select(col(Requisition.item), col(Requisition.order_no), func.sum(col(Requisition.qty)))
            .where(col(Requisition.item).in_(wanted), col(Requisition.state).in_(_NOT_ORDERED))
            .group_by(col(Requisition.item), col(Requisition.order_no))
        )
    ).all()
    going = await active_order_nos(session, among={o for _, o, _ in not_ordered if o is not None})
    for item, order_no, qty in not_ordered:
        if order_no is None or order_no in going:
            supply[item] += Decimal(qty or 0)
    for item, qty in (await pending_inspection(session, items=wanted)).items():
        supply[item] += qty
    # Every judgement of an open incoming NCR brings its rejects back, at the judgement
    # itself: as stock (concession), or owed again on the PO (return, repair, scrap; scrap of
    # a cancelled PO is requisitioned again for its order, and that requisition counts above).
    for item, qty in (await open_ncr_qty(session, items=wanted)).items():
        supply[item] += qty
    return supply


async def _pending_safety_stock(
    session: AsyncSession, items: Iterable[str], states: Sequence[str] = _NOT_ORDERED
) -> list[RequisitionSummary]:
    """Safety-stock requisitions of the items not yet on a PO, oldest first."""
    rows = (
        await session.execute(
            select(Requisition)
            .where(
                col(Requisition.item).in_(sorted(set(items))),
                col(Requisition.reason) == "safety_stock",
                col(Requisition.state).in_(states),
            )
            .order_by(col(Requisition.created_at), col(Requisition.key))
        )
    ).scalars()
    return [_summary(row) for row in rows]


async def _masters(session: AsyncSession, items: Iterable[str]) -> dict[str, ItemMaster]:
    return await item_masters(session, items=items)


async def _order_requisitions(
    session: AsyncSession,
    run: DailyRun,
    uncovered: list[tuple[str, str, Decimal]],
    masters: dict[str, ItemMaster],
) -> list[tuple[RequisitionSummary, ItemMaster | None, Requirement]]:
    """A requisition for each order's uncovered shortage (order, item, qty) of a bought item
    (a made item's waits for its work order), with the requirement it is for."""
    if not uncovered:
        return []
    rows = await session.execute(
        select(Requirement).where(
            tuple_(col(Requirement.order_no), col(Requirement.item)).in_(
                [(order_no, item) for order_no, item, _ in uncovered]
            )
        )
    )
    needs = {(need.order_no, need.item): need for need in rows.scalars()}
    proposed = []
    for order_no, item, qty in uncovered:
        requirement = needs.get((order_no, item))
        if requirement is None or requirement.make_or_buy != "buy":
            continue
        master = masters.get(item)
        summary = RequisitionSummary(
            key=daily_key("order", item, run.day, order_no),
            item=item,
            qty=qty,
            supplier=master.supplier if master else None,
            special=requirement.special or bool(master and master.special),
            reason="order",
        )
        proposed.append((summary, master, requirement))
    return proposed


async def _insert_many(
    session: AsyncSession,
    proposed: Sequence[tuple[RequisitionSummary, ItemMaster | None, Requirement | None]],
    run: DailyRun,
) -> set[str]:
    """Insert the requisitions whose keys do not exist yet, in batches; returns the keys this
    run created (now, or in an earlier attempt of it whose result was lost)."""
    rows = [
        {
            "key": summary.key,
            "order_no": requirement.order_no if requirement else None,
            "bom_revision": requirement.bom_revision if requirement else None,
            "item": summary.item,
            "qty": summary.qty,
            "supplier": summary.supplier,
            "lead_days": item.lead_days if item else None,
            "special": summary.special,
            "reason": summary.reason,
            "state": "open",
            "required_date": requirement.required_date if requirement else None,
            "created_at": run.at,
        }
        for summary, item, requirement in proposed
    ]
    if not rows:
        return set()
    await insert_batches(
        session,
        insert(table_of(Requisition)).on_conflict_do_nothing(index_elements=["key"]),
        rows,
    )
    stored = await session.execute(
        select(col(Requisition.key), col(Requisition.created_at)).where(
            among(col(Requisition.key), [summary.key for summary, _, _ in proposed])
        )
    )
    return {key for key, created_at in stored.all() if created_at == run.at}


async def _record(
    session: AsyncSession,
    run: DailyRun,
    order_no: str,
    reserved: dict[str, Decimal],
    requisitions: dict[str, list[RequisitionSummary]],
) -> None:
    """One timeline event per order the run touched: what it reserved and requisitioned."""
    bought = requisitions.get(order_no, [])
    parts = [
        f"reserved {qty_text(qty)} {item} from stock" for item, qty in sorted(reserved.items())
    ]
    parts += [f"requisition for {qty_text(r.qty)} {r.item}" for r in bought]
    await add_event(
        session,
        key=f"{order_no}:mrp-daily:{run.at.isoformat()}",
        order_no=order_no,
        at=run.at,
        kind="mrp",
        actor=ACTOR,
        summary="daily MRP: " + "; ".join(parts),
        detail={
            "reserved": {item: str(qty) for item, qty in reserved.items()},
            "requisitions": [r.key for r in bought],
        },
    )


def _summary(row: Requisition) -> RequisitionSummary:
    return RequisitionSummary(
        key=row.key,
        item=row.item,
        qty=Decimal(row.qty),
        supplier=row.supplier,
        special=row.special,
        reason=row.reason,
    )
