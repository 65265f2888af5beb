"""OrderWorkflow: one per customer order (id `order-<order_no>`), PROCESS.md phase by phase.

This file holds the workflow's state, its update and query, and the run that strings the
phases together; the phases themselves live beside it (`review.py` P1, `plan.py` P2).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from temporalio import workflow
from temporalio.common import SearchAttributeUpdate

with workflow.unsafe.imports_passed_through():
    from services.engineering.bom import validate_bom
    from services.planning.activities import PlanningActivities
    from services.sales.activities import SalesActivities
    from shared import payloads as p
    from shared.temporal import DUE_DATE, ESCALATED, STAGE
    from shared.types import (
        MaterialNotice,
        MilestoneActual,
        OrderInput,
        Policy,
        RaiseEscalation,
        StageChange,
        TimelineEvent,
    )
    from workflows.base import TaskWorkflow
    from workflows.common import end_of_day
    from workflows.materials import MaterialsPhase
    from workflows.plan import PlanPhase
    from workflows.purchasing import PurchasingPhase
    from workflows.review import ReviewPhase
    from workflows.tasks import TaskState


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

    @workflow.run
    async def run(self, inp: OrderInput) -> str:
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
            # Production (P8) takes over from here; the order holds with its clocks running.
            await self.until(lambda: False, f"in production on {self.materials.work_order}")
        self._finished = True
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.status

    @workflow.signal
    def material_notice(self, notice: MaterialNotice) -> None:
        """Stock reserved for the order, an NCR on its goods, or a requisition to buy."""
        self.materials.notice(notice)

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
