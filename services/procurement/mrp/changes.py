"""MRP on a design change (P3.4, §7.3.1): what a DCN's new BOM revision adds and frees.

Both revisions are planned against today's supply (`mrp.plan`), so their difference is the
DCN's alone (`mrp.delta`). Extra bought items become engineering-change requisitions, which
the division approves (§4.4: stored as special); extra made items become work orders. The
order's requirement from stock follows the new revision. Surplus still reserved on the shelf
for the order goes back to free stock, as far as the order no longer needs it, and is offered
at once to the other orders short of it, earliest required first. Surplus already picked comes
back through a return at the warehouse (P7.2).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel, Field
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col
from temporalio import activity

from services.procurement import mrp
from services.procurement.models import Requirement
from services.procurement.mrp.service import (
    free_supply,
    order_bom,
    order_qty,
    requisition_summary,
    store_proposals,
    store_requirements,
)
from services.procurement.service import requirements_of
from services.warehouse.stock import (
    allocate,
    lock_reservations,
    released_by,
    reserved_by,
    unreserve,
)
from shared.activities import DbActivities
from shared.db import session_scope
from shared.timeline import add_event
from shared.types import MrpRun, RequisitionSummary

ZERO = Decimal(0)


# An issued DCN's revisions: what MRP compares.
class MrpDeltaRun(BaseModel):
    order_no: str
    dcn_no: str
    old_revision: int
    new_revision: int
    by: str
    at: datetime
    # A customer's quantity change: the order quantity the old revision was planned for (the
    # new one is the order's quantity now). None: both are planned for the order's quantity.
    old_qty: Decimal | None = None
    # A customer change (its number): the run's keys and ledger references are its own, so
    # two changes at one BOM revision never share a requisition; its requisitions are bought
    # as the order's other material is, not as engineering changes for the division.
    change_no: str | None = None

    @property
    def ref(self) -> str:
        if self.change_no is not None:
            return f"{self.order_no}:{self.change_no}"
        return f"{self.order_no}:bom{self.new_revision}"

    @property
    def engineering_change(self) -> bool:
        return self.change_no is None or self.old_revision != self.new_revision


# What the DCN meant for material: new requisitions and work orders, the order's surplus, what
# of it left the order's reservations, and which other orders that stock went to.
class MrpDeltaResult(BaseModel):
    requisitions: list[RequisitionSummary] = Field(default_factory=list)
    work_orders: list[str] = Field(default_factory=list)
    surplus: dict[str, Decimal] = Field(default_factory=dict)
    released: dict[str, Decimal] = Field(default_factory=dict)
    allocated: dict[str, dict[str, Decimal]] = Field(default_factory=dict)


class DcnMrpActivities(DbActivities):
    """Material control's side of a DCN; the worker registers the bound methods."""

    @activity.defn
    async def mrp_delta(self, run: MrpDeltaRun) -> MrpDeltaResult:
        """Requisitions and work orders for what the new revision adds, the requirement from
        stock moved to it, surplus released and reallocated; a retry changes nothing more."""
        ref = run.ref
        async with session_scope(self._engine) as session:
            old_bom = await order_bom(session, run.order_no, run.old_revision)
            new_bom = await order_bom(session, run.order_no, run.new_revision)
            items = {line.item for line in old_bom} | {line.item for line in new_bom}
            supply = await free_supply(session, run.order_no, items)
            new_qty = await order_qty(session, run.order_no, new_bom)
            old = mrp.plan(
                run.order_no,
                run.old_revision,
                old_bom,
                run.old_qty
                if run.old_qty is not None
                else await order_qty(session, run.order_no, old_bom),
                supply,
            )
            new = mrp.plan(
                run.order_no,
                f"{run.new_revision}:{run.change_no}" if run.change_no else run.new_revision,
                new_bom,
                new_qty,
                supply,
            )
            change = mrp.delta(old, new)
            required = await _required_date(session, run.order_no)
            await store_proposals(
                session,
                order_no=run.order_no,
                bom_revision=run.new_revision,
                requisitions=change.requisitions,
                work_orders=change.work_orders,
                required_date=required,
                at=run.at,
                engineering_change=run.engineering_change,
            )
            await store_requirements(
                session,
                MrpRun(
                    order_no=run.order_no,
                    bom_revision=run.new_revision,
                    required_date=required,
                    at=run.at,
                ),
                new,
            )
            # What the new revision no longer needs from stock is no requirement any more.
            await session.execute(
                delete(Requirement).where(
                    col(Requirement.order_no) == run.order_no,
                    col(Requirement.bom_revision) != run.new_revision,
                )
            )
            freed = await _release(session, run, change.surplus, ref)
            await allocate(session, freed, by="orderflow", at=run.at, ref=ref)
            # From the ledger, so a retry after the first attempt committed answers the same.
            released = await released_by(session, ref)
            allocated = await reserved_by(session, ref)
            await add_event(
                session,
                key=f"{run.ref}:mrp-delta"
                if run.change_no
                else f"{run.order_no}:mrp-delta:{run.new_revision}",
                order_no=run.order_no,
                at=run.at,
                kind="mrp",
                actor="orderflow",
                summary=_summary(run, change, released, new_qty),
                detail={
                    "dcn_no": run.dcn_no,
                    "change_no": run.change_no,
                    "extra": {k: str(v) for k, v in change.extra.items()},
                    "surplus": {k: str(v) for k, v in change.surplus.items()},
                    "released": {k: str(v) for k, v in released.items()},
                },
            )
        return MrpDeltaResult(
            requisitions=[
                requisition_summary(r, engineering_change=run.engineering_change)
                for r in change.requisitions
            ],
            work_orders=[wo.key for wo in change.work_orders],
            surplus=change.surplus,
            released=released,
            allocated=allocated,
        )


async def _required_date(session: AsyncSession, order_no: str) -> date | None:
    """When the order needs its material (the plan's date MRP stored); the DCN keeps it, so
    its material queues for stock as the order's other material does."""
    return (
        await session.execute(
            select(func.min(col(Requirement.required_date))).where(
                col(Requirement.order_no) == order_no
            )
        )
    ).scalar_one_or_none()


async def _release(
    session: AsyncSession, run: MrpDeltaRun, surplus: dict[str, Decimal], ref: str
) -> list[str]:
    """Take surplus off the order's reservations, up to what is still on the shelf and what
    the order's requirement from stock no longer covers; returns the items freed."""
    freed: list[str] = []
    holding = await lock_reservations(session, order_no=run.order_no, items=surplus)
    needs = {need.item: need for need in await requirements_of(session, order_no=run.order_no)}
    for item, qty in sorted(surplus.items()):
        held = holding.get(item)
        if held is None:
            continue
        requirement = needs.get(item)
        needed = Decimal(requirement.qty) if requirement is not None else ZERO
        on_shelf = Decimal(held.qty) - Decimal(held.picked)
        release = min(qty, on_shelf, Decimal(held.qty) - needed)
        if release <= 0:
            continue
        await unreserve(
            session,
            held,
            qty=release,
            by="orderflow",
            at=run.at,
            ref=ref,
            detail={"dcn_no": run.dcn_no, "bom_revision": run.new_revision},
        )
        freed.append(item)
    return freed


def _summary(
    run: MrpDeltaRun, change: mrp.MrpDelta, released: dict[str, Decimal], order_qty: Decimal
) -> str:
    kept = {
        item: qty - released.get(item, ZERO)
        for item, qty in change.surplus.items()
        if qty > released.get(item, ZERO)
    }
    what = (
        f"BOM revision {run.old_revision} → {run.new_revision}"
        if run.old_revision != run.new_revision
        else f"order quantity {_n(run.old_qty or order_qty)} → {_n(order_qty)}"
    )
    kind = "engineering-change" if run.engineering_change else "order"
    text = (
        f"MRP on {run.dcn_no} ({what}): "
        f"{len(change.requisitions)} {kind} requisition(s), "
        f"{len(change.work_orders)} work order(s), "
        f"{len(released)} item(s) released to free stock"
    )
    if kept:
        listed = ", ".join(f"{_n(qty)} {item}" for item, qty in sorted(kept.items()))
        text += f"; surplus not on the shelf (picked or still on order): {listed}"
    return text


def _n(qty: Decimal) -> str:
    return format(qty.normalize(), "f")
