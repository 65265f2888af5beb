"""Sales activities for a customer change ("At any time", 订单变更): assess what it means for
cost and date before anything takes effect, keep the change from request to end
(`sales.changes`), and put a quantity change on the order's line.

A scope change becomes the order's next BOM revision through engineering's DCN activity, and
MRP runs on its delta through procurement's (`workflows/changes.py` strings them together).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col
from temporalio import activity
from temporalio.exceptions import ApplicationError

from services.engineering.dcn import apply_changes
from services.engineering.dcn_activities import read_bom_snapshot, read_item_master
from services.procurement import mrp
from services.procurement.mrp.service import bom_items, free_supply, order_bom, order_qty
from services.procurement.service import last_prices
from services.sales.change_impact import AddedMaterial, date_impact, material_impact
from services.sales.models import CustomerChange, Order, OrderLine
from shared.activities import DbActivities
from shared.change_types import ApplyQty, AssessChange, ChangeImpact, ChangeRecord
from shared.db import session_scope
from shared.rejections import Rejection
from shared.timeline import add_event

# The error type of a change the order's records refuse (an unknown line, a BOM rule broken).
CHANGE_INVALID = Rejection.CHANGE_INVALID


class ChangeActivities(DbActivities):
    """Sales' side of a customer change; the worker registers the bound methods."""

    @activity.defn
    async def assess_change(self, run: AssessChange) -> ChangeImpact:
        """Cost and date of the change against the order as it stands; changes nothing.
        `problems` lists why the change cannot apply at all."""
        async with session_scope(self._engine) as session:
            order = await session.get(Order, run.order_no)
            if order is None:
                raise ApplicationError(
                    f"order {run.order_no} is not on record", type=CHANGE_INVALID
                )
            change = run.change
            if change.kind == "date":
                assert change.new_date is not None
                return date_impact(
                    new_date=change.new_date,
                    forecast=run.forecast,
                    due_date=run.due_date,
                    currency=order.currency,
                )
            if change.kind == "qty":
                return await _qty_impact(session, run, order.currency)
            return await _scope_impact(session, run, order.currency)

    @activity.defn
    async def record_change(self, record: ChangeRecord) -> None:
        """Keep the change as it stands now, with its timeline entry; once per state."""
        values = record.model_dump(
            mode="json", exclude={"at", "requested_at", "requested_by", "decided_by"}
        )
        values.update(
            requested_by=record.requested_by,
            requested_at=record.requested_at,
            decided_by=record.decided_by,
            decided_at=record.at if record.state != "awaiting_agreement" else None,
        )
        async with session_scope(self._engine) as session:
            statement = insert(CustomerChange).values(**values)
            await session.execute(
                statement.on_conflict_do_update(
                    index_elements=["change_no"],
                    set_={k: statement.excluded[k] for k in values if k != "change_no"},
                )
            )
            await add_event(
                session,
                key=f"{record.order_no}:change:{record.change_no}:{record.state}",
                order_no=record.order_no,
                at=record.at,
                kind="customer_change",
                actor=record.decided_by or record.requested_by,
                summary=_summary(record),
                detail={
                    "change_no": record.change_no,
                    "kind": record.kind,
                    "state": record.state,
                    "customer_confirmation_ref": record.customer_confirmation_ref,
                    "impact": record.impact,
                    "plan_revision": record.plan_revision,
                    "bom_revision": record.bom_revision,
                },
            )

    @activity.defn
    async def apply_qty(self, change: ApplyQty) -> None:
        """The order line takes the new quantity (and the order a newly agreed amount)."""
        async with session_scope(self._engine) as session:
            line = (
                await session.execute(
                    select(OrderLine)
                    .where(col(OrderLine.order_no) == change.order_no)
                    .where(col(OrderLine.item) == change.item)
                    .with_for_update()
                )
            ).scalar_one()
            before = Decimal(line.qty)
            line.qty = change.qty
            order = await session.get(Order, change.order_no, with_for_update=True)
            assert order is not None
            if change.amount is not None:
                order.amount = change.amount
            order.updated_at = change.at
            if before != change.qty:
                await add_event(
                    session,
                    key=f"{change.order_no}:change:{change.change_no}:qty",
                    order_no=change.order_no,
                    at=change.at,
                    kind="customer_change",
                    actor=change.by,
                    summary=f"{change.change_no}: {change.item} {_n(before)} → {_n(change.qty)}"
                    + (f", amount {change.amount}" if change.amount is not None else ""),
                    detail={"item": change.item, "before": str(before), "after": str(change.qty)},
                )


async def _qty_impact(session: AsyncSession, run: AssessChange, currency: str) -> ChangeImpact:
    change = run.change
    assert change.qty is not None
    lines = list(
        (
            await session.execute(select(OrderLine).where(col(OrderLine.order_no) == run.order_no))
        ).scalars()
    )
    line = _line(lines, change.item)
    if isinstance(line, str):
        return ChangeImpact(cost_rises=False, problems=[line])
    if Decimal(line.qty) == change.qty:
        return ChangeImpact(
            cost_rises=False, problems=[f"{line.item} is already {_n(change.qty)} on the order"]
        )
    bigger = change.qty > Decimal(line.qty)
    if run.bom_revision == 0:  # MRP has not run: the BOM will be released for the new qty
        return material_impact(
            today=run.today,
            added=[],
            surplus={},
            prices={},
            currency=currency,
            milestones=run.milestones,
            forecast=run.forecast,
            due_date=run.due_date,
            bigger=bigger,
        ).model_copy(update={"qty_before": Decimal(line.qty)})
    bom = await order_bom(session, run.order_no, run.bom_revision)
    old_qty = await order_qty(session, run.order_no, bom)
    tops = {b.item for b in bom if b.parent is None}
    new_qty = old_qty - Decimal(line.qty) + change.qty if line.item in tops else old_qty
    supply = await free_supply(session, run.order_no, {b.item for b in bom})
    old = mrp.plan(run.order_no, run.bom_revision, bom, old_qty, supply)
    new = mrp.plan(run.order_no, run.bom_revision, bom, new_qty, supply)
    impact = await _impact(session, run, currency, mrp.delta(old, new), bom, bigger)
    return impact.model_copy(update={"qty_before": Decimal(line.qty), "order_qty_before": old_qty})


async def _scope_impact(session: AsyncSession, run: AssessChange, currency: str) -> ChangeImpact:
    changes = run.change.bom_changes
    snapshot = await read_bom_snapshot(session, run.order_no)
    master = await read_item_master(session, {c.item for c in changes})
    applied = apply_changes(snapshot.lines, changes, master)
    if applied.problems:
        return ChangeImpact(cost_rises=False, problems=applied.problems)
    old_bom = await order_bom(session, run.order_no, snapshot.revision)
    new_bom = bom_items(applied.lines)
    qty = await order_qty(session, run.order_no, new_bom)
    items = {b.item for b in old_bom} | {b.item for b in new_bom}
    supply = await free_supply(session, run.order_no, items)
    old = mrp.plan(
        run.order_no,
        snapshot.revision,
        old_bom,
        await order_qty(session, run.order_no, old_bom),
        supply,
    )
    new = mrp.plan(run.order_no, snapshot.revision + 1, new_bom, qty, supply)
    return await _impact(session, run, currency, mrp.delta(old, new), new_bom, False)


async def _impact(
    session: AsyncSession,
    run: AssessChange,
    currency: str,
    delta: mrp.MrpDelta,
    bom: list[mrp.BomItem],
    bigger: bool,
) -> ChangeImpact:
    facts = {b.item: b for b in bom}
    added = [
        AddedMaterial(item, qty, facts[item].make_or_buy, facts[item].lead_days)
        for item, qty in sorted(delta.extra.items())
        if item in facts
    ]
    return material_impact(
        today=run.today,
        added=added,
        surplus=delta.surplus,
        prices=await last_prices(session, items=[line.item for line in added]),
        currency=currency,
        milestones=run.milestones,
        forecast=run.forecast,
        due_date=run.due_date,
        bigger=bigger,
    )


def _line(lines: list[OrderLine], item: str | None) -> OrderLine | str:
    """The order line a quantity change means, or why there is none."""
    if item is None:
        if len(lines) == 1:
            return lines[0]
        on = ", ".join(line.item for line in lines)
        return f"the order has {len(lines)} lines ({on}); name the item whose quantity changes"
    for line in lines:
        if line.item == item:
            return line
    on = ", ".join(line.item for line in lines)
    return f"{item} is not on the order (its lines: {on})"


def _summary(record: ChangeRecord) -> str:
    head = f"{record.change_no} ({record.kind}, customer ref {record.customer_confirmation_ref})"
    if record.state == "awaiting_agreement":
        return f"{head}: {record.detail}; needs the customer's agreement: " + str(
            record.impact.get("explanation", "")
        )
    if record.state == "applied":
        return f"{head} in effect: {record.outcome or record.detail}"
    return f"{head} {record.state}: {record.outcome or record.detail}"


def _n(qty: Decimal | date) -> str:
    return format(qty.normalize(), "f") if isinstance(qty, Decimal) else qty.isoformat()
