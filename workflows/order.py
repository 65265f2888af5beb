"""OrderWorkflow: one per customer order (id `order-<order_no>`), PROCESS.md phase by phase.

This file holds the workflow's state, its updates, signals and query, and the run that
strings the phases together; the phases live beside it (`review.py` P1, `plan.py` P2-P3,
`purchasing.py` P4, `materials.py` and `picking.py` P5-P7, `production.py` P8, `closing.py`
P9-P10, `cancellation.py` for a cancellation at any stage).
"""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any

from temporalio import workflow
from temporalio.common import SearchAttributeUpdate

with workflow.unsafe.imports_passed_through():
    from services.engineering.bom import validate_bom
    from services.planning.activities import PlanningActivities
    from services.sales.activities import SalesActivities
    from shared import payloads as p
    from shared.change_types import ChangeAccepted, CustomerChange
    from shared.material_types import MaterialNotice
    from shared.production_types import CancellationResult, CancelOrder, IssueReported, ReportIssue
    from shared.temporal import DUE_DATE, ESCALATED, STAGE
    from shared.types import (
        MilestoneActual,
        OrderInput,
        Policy,
        RaiseEscalation,
        RequisitionSettled,
        StageChange,
        TimelineEvent,
    )
    from workflows.base import TaskWorkflow
    from workflows.cancellation import NOT_CANCELLABLE, cancel_order
    from workflows.changes import CHANGE_REFUSED, ChangesPhase
    from workflows.closing import ClosingPhase
    from workflows.common import end_of_day
    from workflows.materials import MaterialsPhase
    from workflows.plan import PlanPhase
    from workflows.production import ProductionPhase
    from workflows.purchasing import PurchasingPhase
    from workflows.review import ReviewPhase
    from workflows.tasks import INVALID_PAYLOAD, TaskState, reject


@workflow.defn
class OrderWorkflow(TaskWorkflow):
    """The life of one order, from intake to close; every human step is a task with a due time."""

    @workflow.init
    def __init__(self, inp: OrderInput) -> None:
        self.inp = inp
        self._init_tasks(inp.order_no, inp.queue_prefix)
        self.stage = "review"
        self.status = "active"
        self.due_date: date | None = None
        self.policy: Policy | None = None
        self.escalated = False
        self.actuals: dict[str, date] = {}
        self.review = ReviewPhase(self)
        self.plan = PlanPhase(self)
        self.purchasing = PurchasingPhase(self)
        self.materials = MaterialsPhase(self)
        self.production = ProductionPhase(self)
        self.closing = ClosingPhase(self)
        self.changes = ChangesPhase(self)
        self.cancellation: CancelOrder | None = None
        self.cancelled: CancellationResult | None = None
        self._lifecycle: asyncio.Task[None] | None = None

    @workflow.run
    async def run(self, inp: OrderInput) -> str:
        self._lifecycle = asyncio.create_task(self._live(inp))
        try:
            await self._lifecycle
        except asyncio.CancelledError:
            if self.cancellation is None:  # Temporal cancelled the workflow itself
                raise
        if self.cancellation is not None:
            await workflow.wait_condition(lambda: self.cancelled is not None)
        self._finished = True
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.status

    async def _live(self, inp: OrderInput) -> None:
        """Every phase in order, from intake to close (or to a decline)."""
        self.policy = await self.activity(
            PlanningActivities.load_policy, None, "planning", "read the order policy"
        )
        await self.event("order_received", inp.received_by, f"order {inp.order_no} received")
        await self.set_stage("review")
        outcome = await self.review.run()
        if outcome.declined:
            await self.close_declined(outcome.reason)
        else:
            self.due_date = outcome.delivery_date
            await self.set_stage("planning")
            await self.plan.run()
            await self.set_stage("engineering")
            await self.plan.release_engineering()
            await self.set_stage("materials")
            await self.materials.run()
            await self.set_stage(
                "production", reason=f"material picked; work order {self.materials.work_order}"
            )
            if not workflow.patched("production-to-close"):
                # Started before production was automated: it holds here, clocks running.
                await self.until(lambda: False, f"in production on {self.materials.work_order}")
            await self._produce_and_deliver()

    async def _produce_and_deliver(self) -> None:
        """P8-P10: production, final inspection, delivery, commissioning, settlement."""
        await self.production.run()
        await self.set_stage("final_inspection")
        await self.closing.final_inspection()
        await self.set_stage("delivery", reason="passed final inspection: in finished goods")
        await self.closing.deliver()
        await self.set_stage("commissioning")
        await self.closing.commission()
        await self.set_stage("closing")
        await self.closing.settle()
        await self.until(
            lambda: (
                all(issue.state == "closed" for issue in self.production.issues.values())
                and not any(t.department == "procurement" for t in self.book.open_tasks())
                and self.purchasing.all_settled()
                and not self.materials.picking.running
            ),
            "waiting for open assembly issues, purchases and picking for the order to close",
        )
        await self.set_stage("closed", "closed", "settled and evaluated")

    @workflow.signal
    def material_notice(self, notice: MaterialNotice) -> None:
        """Stock reserved for the order, an NCR on its goods, or a requisition to buy."""
        if self.status == "active":
            self.materials.notice(notice)

    @workflow.signal
    def requisition_settled(self, outcome: RequisitionSettled) -> None:
        """One of the order's requisitions was rejected, ordered or cancelled (§4.3-4.9)."""
        self.purchasing.settle(outcome)

    @workflow.signal
    def requisition_escalated(self, esc: RaiseEscalation) -> None:
        """One of the order's requisitions raised an escalation for the order."""
        self._on_escalated(esc)

    @workflow.signal
    def ship_date_due(self) -> None:
        """The weekly unshipped run (§2.6): sales gives the expected ship date."""
        if self.status == "active":
            self.closing.ship_date_due()

    @workflow.update
    async def report_issue(self, cmd: ReportIssue) -> IssueReported:
        """An issue reported from assembly (§8.5), tracked to closure on its own branch."""
        return self.production.report(cmd)

    @report_issue.validator
    def _validate_issue(self, cmd: ReportIssue) -> None:
        refusal = self.production.issue_refusal()
        if refusal:
            raise reject("IssueRefused", refusal)
        problem = self.production.issue_violation(cmd)
        if problem:
            raise reject(INVALID_PAYLOAD, problem)

    @workflow.update
    async def change(self, cmd: CustomerChange) -> ChangeAccepted:
        """A customer change of quantity, date or scope: in effect at once, or held for the
        customer's agreement when it raises the cost or delays delivery."""
        return await self.changes.request(cmd)

    @change.validator
    def _validate_change(self, cmd: CustomerChange) -> None:
        problem = self.changes.violation(cmd)
        if problem:
            raise reject(INVALID_PAYLOAD, problem)
        refusal = self.changes.refusal(cmd)
        if refusal:
            raise reject(CHANGE_REFUSED, refusal)

    @workflow.update
    async def cancel(self, cmd: CancelOrder) -> CancellationResult:
        """Cancel the order at any stage: timers and branches stop, every open task is
        withdrawn, everything it holds elsewhere is unwound, and the cost comes back."""
        return await cancel_order(self, cmd)

    @cancel.validator
    def _validate_cancel(self, cmd: CancelOrder) -> None:
        if self.status != "active" or self.cancellation is not None:
            state = "being cancelled" if self.cancellation else self.status
            raise reject(NOT_CANCELLABLE, f"{self.inp.order_no} is {state}; nothing to cancel")
        if not cmd.reason.strip():
            raise reject(NOT_CANCELLABLE, "give the reason for the cancellation")

    @workflow.query
    def state(self) -> dict[str, Any]:
        """Where the order stands, as the workflow sees it (for operations and tests)."""
        return {
            "order_no": self.inp.order_no,
            "stage": self.stage,
            "status": self.status,
            "due_date": self.due_date,
            "open_tasks": [t.model_dump(mode="json") for t in self.book.open_tasks()],
            "plan_revision": self.plan.revision,
            "escalated": self.escalated,
        }

    def rule_violation(self, task: TaskState, payload: p.Payload) -> str | None:
        """A business rule a payload breaks, in a sentence; None when it keeps them all."""
        today = self.today()
        if isinstance(payload, p.DeliveryReview) and payload.delivery_date <= today:
            return f"delivery_date must be after today ({today})"
        customer_date = getattr(payload, "customer_date", None)
        if isinstance(payload, p.ConfirmDelivery) and customer_date and customer_date <= today:
            return f"customer_date must be after today ({today})"
        if isinstance(payload, p.ReleaseBom):
            problems = validate_bom(payload.lines)
            if problems:
                return "the BOM cannot be released: " + "; ".join(x.message for x in problems)
        return (
            self.plan.rule_violation(payload)
            or self.purchasing.rule_violation(payload)
            or self.materials.rule_violation(payload)
            or self.production.rule_violation(task, payload)
            or self.closing.rule_violation(payload)
            or self.changes.rule_violation(task, payload)
        )

    # -- helpers the phases share --------------------------------------------------------

    def headline(self) -> str:
        due = f" · due {self.due_date}" if self.due_date else ""
        return f"**{self.inp.order_no}** · stage **{self.stage}**{due}"

    def stage_of_update(self) -> str:
        return self.stage

    async def event(
        self, kind: str, actor: str, summary: str, detail: dict[str, Any] | None = None
    ) -> None:
        now = workflow.now()
        await self.activity(
            PlanningActivities.record_event,
            TimelineEvent(
                key=f"{self.workflow_id}:{kind}:{now.isoformat()}:{summary[:40]}",
                order_no=self.inp.order_no,
                at=now,
                kind=kind,
                actor=actor,
                summary=summary,
                detail=detail or {},
            ),
            "planning",
            f"timeline: {summary}",
        )

    async def set_stage(
        self, stage: str, status: str = "active", reason: str | None = None
    ) -> None:
        self.stage, self.status = stage, status
        attributes: list[SearchAttributeUpdate[Any]] = [STAGE.value_set(stage)]
        if self.due_date:
            attributes.append(DUE_DATE.value_set(end_of_day(self.due_date)))
        workflow.upsert_search_attributes(attributes)
        self.describe(reason or f"entered stage {stage}")
        await self.activity(
            SalesActivities.record_stage,
            StageChange(
                order_no=self.inp.order_no,
                stage=stage,
                status=status,
                reason=reason,
                due_date=self.due_date,
                at=workflow.now(),
            ),
            "sales",
            f"order stage → {stage}" + (f" ({status})" if status != "active" else ""),
        )

    async def record_actual(self, milestone: str, day: date | None = None) -> None:
        if milestone in self.actuals:
            return
        self.actuals[milestone] = day or self.today()
        await self.activity(
            PlanningActivities.record_actual,
            MilestoneActual(
                order_no=self.inp.order_no,
                milestone=milestone,
                actual=self.actuals[milestone],
                at=workflow.now(),
            ),
            "planning",
            f"milestone {milestone} actual {self.actuals[milestone]}",
        )

    async def close_declined(self, reason: str) -> None:
        await self.book.withdraw_all()
        await self.set_stage("declined", "declined", reason)

    def _on_escalated(self, esc: RaiseEscalation) -> None:
        if not self.escalated:
            self.escalated = True
            workflow.upsert_search_attributes([ESCALATED.value_set(True)])
