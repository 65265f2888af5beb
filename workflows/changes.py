"""Customer changes ("At any time", 订单变更): quantity, delivery date or scope, each with the
customer's written confirmation (`POST /sales/orders/{order_no}/changes`, the order's `change`
update).

A change is assessed before anything of it takes effect (`ChangeActivities.assess_change`).
When it raises the cost or the plan cannot keep the date with it, sales gets
`sales.change_agreement`: the change waits for the customer's agreement and takes effect only
then. Taking effect means:

* qty: the order line's new quantity; with a released BOM, MRP on the delta (requisitions for
  more, surplus reservations back to free stock and on to orders short of them);
* scope: the BOM changes as the order's next BOM revision, and MRP on its delta;
* date: the new delivery date;

then a new plan revision (the re-forecast plan when the change delays it) and the new due date.
One change at a time; quantity and scope freeze once production starts, the date once the
order has shipped.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from services.procurement.mrp.changes import MrpDeltaResult
    from services.sales.changes import ChangeActivities
    from shared import payloads as p
    from shared.change_types import (
        AssessChange,
        ChangeAccepted,
        ChangeImpact,
        ChangeState,
        CustomerChange,
    )
    from shared.rejections import Rejection
    from workflows.change_effect import (
        apply_qty,
        issue_scope,
        material_follows,
        mrp_delta,
        outcome,
        record,
        replan,
    )
    from workflows.tasks import INVALID_PAYLOAD, TaskState, reject

if TYPE_CHECKING:
    from shared.order_state import ChangesState
    from workflows.context import OrderContext

# The update rejection the API turns into 409: the order takes no change now.
CHANGE_REFUSED = Rejection.CHANGE_REFUSED

# Quantity and scope can change until production starts (the configuration freezes there).
_OPEN_FOR_SCOPE = ("review", "planning", "engineering", "materials")


class ChangesPhase:
    """Customer changes on the order's `ChangesState`. While a change is taken in or takes
    effect (its activities run) it holds the order's material lock: a cancellation and the
    BOM release's MRP run wait for it, so neither interleaves with it."""

    def __init__(self, state: ChangesState, ctx: OrderContext) -> None:
        self.state, self.ctx = state, ctx

    @asynccontextmanager
    async def _taking_effect(self, *, after_mrp: bool = True) -> AsyncIterator[None]:
        """Hold the order's change lock while a change is taken in or takes effect (a
        cancellation and the BOM release's MRP run wait for it); a change that reads or moves
        material first lets an MRP run under way finish."""
        async with self.ctx.change_lock:
            if after_mrp:
                await workflow.wait_condition(lambda: not self.ctx.material_lock.locked())
            yield

    # -- the update's checks ------------------------------------------------------------------

    def refusal(self, cmd: CustomerChange) -> str | None:
        """Why the order takes no change now, in a sentence (409); None when it does."""
        order = self.ctx
        if order.state.status != "active" or order.state.cancellation is not None:
            state = "being cancelled" if order.state.cancellation else order.state.status
            return f"{order.inp.order_no} is {state}; it takes no more changes"
        if self.state.pending is not None:
            earlier = self.state.changes.get(self.state.pending)
            if earlier is not None and earlier.state == "awaiting_agreement":
                return (
                    f"{self.state.pending} still awaits the customer's agreement "
                    f"({earlier.agreement_task_id}); agree or decline it first"
                )
            return f"{self.state.pending} is still being taken in; send this change again shortly"
        frozen = self.frozen(cmd)
        if frozen:
            return frozen
        stage = order.state.stage
        if cmd.kind == "scope" and order.state.plan.bom_revision == 0:
            return (
                f"{order.inp.order_no} has no released BOM yet: engineering releases it with "
                "the new scope (engineering.release_bom); send the scope change after that"
            )
        if cmd.kind == "date" and stage == "review":
            return (
                f"{order.inp.order_no} is still in contract review: the customer's date is "
                "agreed there (sales.confirm_delivery, customer_date)"
            )
        return None

    def frozen(self, cmd: CustomerChange) -> str | None:
        """Why the order can no longer take this kind of change at all (its stage moved on)."""
        order = self.ctx
        stage = order.state.stage
        if cmd.kind in ("qty", "scope") and stage not in _OPEN_FOR_SCOPE:
            return (
                f"{order.inp.order_no} is in {stage}: quantity and scope are frozen once "
                "production starts; a problem found in assembly is reported as an issue "
                "(POST /production/orders/{order_no}/issues), more units are a new order"
            )
        if cmd.kind == "date" and "ship" in order.state.actuals:
            return f"{order.inp.order_no} shipped on {order.state.actuals['ship']}"
        if order.state.status != "active" or order.state.cancellation is not None:
            return f"{order.inp.order_no} is no longer active"
        return None

    def violation(self, cmd: CustomerChange) -> str | None:
        """What is wrong with the change itself (422); None when it is complete."""
        if not cmd.customer_confirmation_ref.strip():
            return "a change needs the customer's written confirmation: customer_confirmation_ref"
        if not cmd.detail.strip():
            return "say what the customer asked for in detail"
        today = self.ctx.today()
        if cmd.kind == "date" and (cmd.new_date is None or cmd.new_date <= today):
            return f"a date change needs new_date after today ({today})"
        if cmd.kind == "qty":
            items = [line.item for line in self.ctx.inp.lines]
            if cmd.qty is None or cmd.qty <= 0:
                return "a quantity change needs qty, the new quantity, above 0"
            if cmd.item is None and len(items) > 1:
                return f"the order has {len(items)} lines ({', '.join(items)}); name the item"
            if cmd.item is not None and cmd.item not in items:
                return f"{cmd.item} is not on the order (its lines: {', '.join(items)})"
        if cmd.kind == "scope" and not cmd.bom_changes:
            return "a scope change needs bom_changes: the BOM lines it adds, changes or removes"
        return None

    def rule_violation(self, task: TaskState, payload: p.Payload) -> str | None:
        if not isinstance(payload, p.ChangeAgreement) or not payload.agreed:
            return None
        held = self.state.agreements.get(task.task_id)
        today = self.ctx.today()
        if held is None or payload.agreed_date is None:
            return None
        impact = held[1]
        if payload.agreed_date <= today:
            return f"agreed_date must be after today ({today})"
        if impact.ship_forecast and payload.agreed_date < impact.ship_forecast:
            return (
                f"agreed_date {payload.agreed_date} is before the plan can ship "
                f"({impact.ship_forecast}) with this change"
            )
        return None

    # -- the change ---------------------------------------------------------------------------

    async def request(self, cmd: CustomerChange) -> ChangeAccepted:
        """Assess the change; take it in at once, or hold it for the customer's agreement."""
        order = self.ctx
        change_no = f"CHG-{order.inp.order_no}-{len(self.state.changes) + 1}"
        self.state.pending = change_no
        # The BOM release's MRP run finishes first: the change is assessed against it.
        async with self._taking_effect():
            return await self._take_in(change_no, cmd)

    async def _take_in(self, change_no: str, cmd: CustomerChange) -> ChangeAccepted:
        order = self.ctx
        try:
            impact = await self._assess(change_no, cmd)
            if impact.problems:
                raise reject(INVALID_PAYLOAD, "; ".join(impact.problems))
            if not impact.needs_agreement:
                return await self._apply(change_no, cmd, impact, None, None)
            task = await order.book.open(
                "sales.change_agreement",
                f"Agree {change_no} ({cmd.kind}) with the customer of {order.inp.order_no}",
                {
                    "change_no": change_no,
                    "kind": cmd.kind,
                    "detail": cmd.detail,
                    "customer_confirmation_ref": cmd.customer_confirmation_ref,
                    "impact": impact.model_dump(mode="json"),
                    "due_date": str(order.state.due_date) if order.state.due_date else None,
                },
            )
            self.state.agreements[task.task_id] = (cmd, impact)
            accepted = await self._record(
                change_no, cmd, impact, "awaiting_agreement", task_id=task.task_id
            )
            order.branch(self._agreement(change_no, cmd, impact, task))
            return accepted
        except BaseException:
            if change_no not in self.state.changes:
                self.state.pending = None
            raise

    async def _assess(self, change_no: str, cmd: CustomerChange) -> ChangeImpact:
        order = self.ctx
        impact: ChangeImpact = await order.activity(
            ChangeActivities.assess_change,
            AssessChange(
                order_no=order.inp.order_no,
                change_no=change_no,
                change=cmd,
                bom_revision=order.state.plan.bom_revision,
                milestones=order.state.plan.milestones,
                forecast=order.state.plan.forecast,
                due_date=order.state.due_date,
                today=order.today(),
            ),
            f"assess customer change {change_no}: {cmd.kind}",
        )
        return impact

    async def _agreement(
        self, change_no: str, cmd: CustomerChange, impact: ChangeImpact, task: TaskState
    ) -> None:
        """Wait for the customer's answer; a change the order can no longer take (production
        started, it shipped) meanwhile is withdrawn with its task."""
        order = self.ctx
        await order.until(
            lambda: not task.is_open or self.frozen(cmd) is not None,
            f"waiting for the customer's agreement to {change_no}",
        )
        frozen = self.frozen(cmd)
        if task.is_open and frozen is not None:
            if order.state.status != "active":
                return  # the cancellation withdraws the task and the change
            async with self._taking_effect(after_mrp=False):
                await order.book.withdraw(task)
                await self._end(
                    change_no,
                    cmd,
                    impact,
                    task,
                    "withdrawn",
                    f"{frozen} before the customer agreed; the change can no longer take effect",
                )
            return
        answer = p.ChangeAgreement.parse(task.payload)
        if not answer.agreed:
            async with self._taking_effect(after_mrp=False):
                await self._end(
                    change_no, cmd, impact, task, "declined", f"not agreed: {answer.comment}"
                )
            return
        async with self._taking_effect():
            await self._apply(change_no, cmd, impact, answer, task)

    async def _end(
        self,
        change_no: str,
        cmd: CustomerChange,
        impact: ChangeImpact,
        task: TaskState,
        state: ChangeState,
        outcome: str,
    ) -> None:
        await self._record(
            change_no,
            cmd,
            impact,
            state,
            task_id=task.task_id,
            by=task.completed_by,
            outcome=outcome,
        )
        self.state.pending = None

    async def withdraw_pending(self, reason: str) -> None:
        """The order ends (cancelled) with a change still awaiting agreement: it never applies."""
        pending = self.state.changes.get(self.state.pending or "")
        self.state.pending = None
        if pending is None or pending.state != "awaiting_agreement":
            return
        cmd, impact = self.state.agreements[pending.agreement_task_id or ""]
        await self._record(
            pending.change_no,
            cmd,
            impact,
            "withdrawn",
            task_id=pending.agreement_task_id,
            outcome=reason,
        )

    # -- taking effect ------------------------------------------------------------------------

    async def _apply(
        self,
        change_no: str,
        cmd: CustomerChange,
        impact: ChangeImpact,
        answer: p.ChangeAgreement | None,
        task: TaskState | None,
    ) -> ChangeAccepted:
        """The change takes effect (the caller holds the locks)."""
        order = self.ctx
        by = (task.completed_by if task else None) or cmd.by
        material = MrpDeltaResult()
        bom_revision: int | None = None
        if cmd.kind == "qty":
            # Agreed later: MRP may have run on the BOM since, so the quantity it planned is
            # read again now rather than taken from the assessment.
            base = await self._assess(change_no, cmd) if task is not None else impact
            material = await apply_qty(order, change_no, cmd, base, answer, by)
        elif cmd.kind == "scope":
            issued = await issue_scope(order, change_no, cmd, task, by)
            if issued.refused is not None:
                accepted = await self._record(
                    change_no,
                    cmd,
                    impact,
                    "withdrawn",
                    task_id=task.task_id if task else None,
                    by=by,
                    outcome="the BOM changed before this change could take effect "
                    f"({issued.refused}); send it again against the new BOM",
                )
                self.state.pending = None
                return accepted
            bom_revision = issued.to_revision
            order.bom_revised(bom_revision)
            material = await mrp_delta(
                order, change_no, issued.from_revision, issued.to_revision, None, by
            )
        await material_follows(order, material)
        plan_revision = await replan(order, change_no, cmd, impact, answer, by)
        text = outcome(order, cmd, impact, material, plan_revision)
        accepted = await self._record(
            change_no,
            cmd,
            impact,
            "applied",
            task_id=task.task_id if task else None,
            by=by if task else None,
            outcome=text,
            plan_revision=plan_revision,
            bom_revision=bom_revision,
        )
        accepted = accepted.model_copy(
            update={"requisitions": [r.key for r in material.requisitions]}
        )
        self.state.changes[change_no] = accepted
        self.state.pending = None
        return accepted

    async def _record(
        self,
        change_no: str,
        cmd: CustomerChange,
        impact: ChangeImpact,
        state: ChangeState,
        **facts: Any,
    ) -> ChangeAccepted:
        """Keep the change as it stands (`sales.changes`, the timeline) and remember it."""
        earlier = self.state.changes.get(change_no)
        requested_at = earlier.requested_at if earlier and earlier.requested_at else None
        accepted = await record(self.ctx, change_no, cmd, impact, state, requested_at, **facts)
        self.state.changes[change_no] = accepted
        self.ctx.describe(f"{change_no}: {state}")
        return accepted
