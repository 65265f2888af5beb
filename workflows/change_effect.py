"""A customer change taking effect (`changes.py` decides whether and when): the quantity on
the order line, the scope as the order's next BOM revision, MRP on the delta with what it
buys and frees, and the new due date and plan revision.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from services.engineering.dcn import DcnIssue, DcnIssued
    from services.engineering.dcn_activities import DesignChangeActivities
    from services.procurement.mrp.changes import DcnMrpActivities, MrpDeltaResult, MrpDeltaRun
    from services.sales.changes import ChangeActivities
    from shared import payloads as p
    from shared.change_types import (
        ApplyQty,
        ChangeAccepted,
        ChangeImpact,
        ChangeRecord,
        ChangeState,
        CustomerChange,
    )
    from shared.material_types import MaterialNotice
    from workflows.common import notify_reserved
    from workflows.tasks import TaskState

if TYPE_CHECKING:
    from workflows.context import OrderContext


async def apply_qty(
    order: OrderContext,
    change_no: str,
    cmd: CustomerChange,
    impact: ChangeImpact,
    answer: p.ChangeAgreement | None,
    by: str,
) -> MrpDeltaResult:
    assert cmd.qty is not None
    await order.activity(
        ChangeActivities.apply_qty,
        ApplyQty(
            order_no=order.inp.order_no,
            change_no=change_no,
            item=cmd.item or order.inp.lines[0].item,
            qty=cmd.qty,
            amount=Decimal(str(answer.amount)) if answer and answer.amount else None,
            by=by,
            at=workflow.now(),
        ),
        f"{change_no}: quantity {cmd.qty}",
    )
    if impact.order_qty_before is None:  # no BOM yet: MRP will plan the new quantity
        return MrpDeltaResult()
    revision = order.state.plan.bom_revision
    return await mrp_delta(order, change_no, revision, revision, impact.order_qty_before, by)


async def issue_scope(
    order: OrderContext, change_no: str, cmd: CustomerChange, task: TaskState | None, by: str
) -> DcnIssued:
    now = workflow.now()
    issued: DcnIssued = await order.activity(
        DesignChangeActivities.issue_dcn,
        DcnIssue(
            order_no=order.inp.order_no,
            issue_no=change_no,
            task_id=task.task_id if task else change_no,
            dcn_no=change_no,
            summary=f"customer change: {cmd.detail}",
            changes=cmd.bom_changes,
            requested_at=now,
            due_at=now,
            by=by,
            at=now,
        ),
        f"{change_no}: the customer's scope change as the next BOM revision",
    )
    return issued


async def mrp_delta(
    order: OrderContext, change_no: str, old: int, new: int, old_qty: Decimal | None, by: str
) -> MrpDeltaResult:
    what = f"BOM revision {old} → {new}" if old != new else "the new quantity"
    result: MrpDeltaResult = await order.activity(
        DcnMrpActivities.mrp_delta,
        MrpDeltaRun(
            order_no=order.inp.order_no,
            dcn_no=change_no,
            old_revision=old,
            new_revision=new,
            by=by,
            at=workflow.now(),
            old_qty=old_qty,
            change_no=change_no,
        ),
        f"MRP on {change_no}: {what}, surplus back to stock",
    )
    return result


async def material_follows(order: OrderContext, material: MrpDeltaResult) -> None:
    """Buy what the change adds, tell the orders that got its surplus, check again."""
    if material.requisitions:
        order.buy(material.requisitions)
    await notify_reserved(material.allocated)
    if material.requisitions or material.work_orders or material.released:
        order.notice_material(MaterialNotice(kind="reserved"))


async def replan(
    order: OrderContext,
    change_no: str,
    cmd: CustomerChange,
    impact: ChangeImpact,
    answer: p.ChangeAgreement | None,
    by: str,
) -> int | None:
    """The new due date and, once the order has a plan, its next revision."""
    due: date | None = order.state.due_date
    if answer is not None and answer.agreed_date is not None:
        due = answer.agreed_date
    elif impact.due_date is not None:
        due = impact.due_date
    milestones = impact.forecast if impact.date_slips and cmd.kind != "date" else None
    ref = f"customer ref {cmd.customer_confirmation_ref}"
    reason = f"customer change {change_no} ({cmd.kind}, {ref}): {cmd.detail}"
    moved = due != order.state.due_date
    if due is not None and moved:
        order.agree_due_date(due)
        await order.set_stage(order.state.stage, reason=f"{change_no}: delivery date now {due}")
    if order.state.plan.revision == 0:
        return None
    await order.revise_plan(milestones or order.state.plan.milestones, reason, by)
    return order.state.plan.revision


def outcome(
    order: OrderContext,
    cmd: CustomerChange,
    impact: ChangeImpact,
    material: MrpDeltaResult,
    plan_revision: int | None,
) -> str:
    parts = [cmd.detail]
    if material.requisitions:
        parts.append(f"{len(material.requisitions)} requisition(s)")
    if material.work_orders:
        parts.append(f"{len(material.work_orders)} work order(s)")
    if material.released:
        released = sorted(material.released.items())
        freed = ", ".join(f"{qty.normalize():f} {item}" for item, qty in released)
        parts.append(f"freed {freed}")
    if plan_revision is not None:
        parts.append(f"plan revision {plan_revision}")
    parts.append(f"due {order.state.due_date}")
    return "; ".join(parts)


async def record(
    order: OrderContext,
    change_no: str,
    cmd: CustomerChange,
    impact: ChangeImpact,
    state: ChangeState,
    requested_at: datetime | None,
    *,
    task_id: str | None = None,
    by: str | None = None,
    outcome: str | None = None,
    plan_revision: int | None = None,
    bom_revision: int | None = None,
) -> ChangeAccepted:
    """Store the change in its present state; the update's answer as it stands."""
    requested_at = requested_at or workflow.now()
    await order.activity(
        ChangeActivities.record_change,
        ChangeRecord(
            change_no=change_no,
            order_no=order.inp.order_no,
            kind=cmd.kind,
            detail=cmd.detail,
            customer_confirmation_ref=cmd.customer_confirmation_ref,
            request=cmd.model_dump(
                mode="json",
                exclude={"kind", "detail", "customer_confirmation_ref", "by", "request_hash"},
            ),
            state=state,
            impact=impact.model_dump(mode="json"),
            agreement_task_id=task_id,
            outcome=outcome,
            plan_revision=plan_revision,
            bom_revision=bom_revision,
            requested_by=cmd.by,
            requested_at=requested_at,
            decided_by=by,
            at=workflow.now(),
        ),
        f"customer change {change_no}: {state}",
    )
    return ChangeAccepted(
        change_no=change_no,
        order_no=order.inp.order_no,
        kind=cmd.kind,
        state=state,
        impact=impact,
        agreement_task_id=task_id,
        plan_revision=plan_revision,
        bom_revision=bom_revision,
        outcome=outcome or "",
        requested_at=requested_at,
        request_hash=cmd.request_hash,
    )
