"""What an order writes down as it goes: its timeline, its stage (with the `Stage`, `DueDate`
and `Escalated` search attributes and the current details the Web UI shows), its milestone
actuals and the customer notices of its progress (a milestone reached, a plan revision).
`OrderWorkflow` builds on it; its phases reach it through `OrderContext`."""

from __future__ import annotations

from datetime import date
from typing import Any

from temporalio import workflow
from temporalio.common import SearchAttributeUpdate

with workflow.unsafe.imports_passed_through():
    from services.planning.activities import PlanningActivities
    from services.sales.activities import SalesActivities
    from shared.notices import MILESTONE_REACHED, CustomerNotice
    from shared.order_state import OrderState
    from shared.temporal import DUE_DATE, ESCALATED, STAGE
    from shared.types import (
        MilestoneActual,
        OrderInput,
        RaiseEscalation,
        StageChange,
        TimelineEvent,
    )
    from workflows.base import TaskWorkflow
    from workflows.common import end_of_day
    from workflows.notices import CUSTOMER_NOTICES, give_notice


class OrderRecords(TaskWorkflow):
    """The recording half of an order's workflow, over its `OrderState`."""

    inp: OrderInput
    state: OrderState

    def headline(self) -> str:
        due = f" · due {self.state.due_date}" if self.state.due_date else ""
        return f"**{self.inp.order_no}** · stage **{self.state.stage}**{due}"

    def stage_of_update(self) -> str:
        return self.state.stage

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
            f"timeline: {summary}",
        )

    async def set_stage(
        self, stage: str, status: str = "active", reason: str | None = None
    ) -> None:
        self.state.stage, self.state.status = stage, status
        attributes: list[SearchAttributeUpdate[Any]] = [STAGE.value_set(stage)]
        if self.state.due_date:
            attributes.append(DUE_DATE.value_set(end_of_day(self.state.due_date)))
        workflow.upsert_search_attributes(attributes)
        self.describe(reason or f"entered stage {stage}")
        await self.activity(
            SalesActivities.record_stage,
            StageChange(
                order_no=self.inp.order_no,
                stage=stage,
                status=status,
                reason=reason,
                due_date=self.state.due_date,
                at=workflow.now(),
            ),
            f"order stage → {stage}" + (f" ({status})" if status != "active" else ""),
        )

    async def record_actual(self, milestone: str, day: date | None = None) -> None:
        if milestone in self.state.actuals:
            return
        self.state.actuals[milestone] = day or self.today()
        await self.activity(
            PlanningActivities.record_actual,
            MilestoneActual(
                order_no=self.inp.order_no,
                milestone=milestone,
                actual=self.state.actuals[milestone],
                at=workflow.now(),
            ),
            f"milestone {milestone} actual {self.state.actuals[milestone]}",
        )
        await self.notify_customer(
            MILESTONE_REACHED,
            milestone,
            milestone=milestone,
            actual=self.state.actuals[milestone],
            planned=self.state.plan.milestones.get(milestone),
        )

    async def notify_customer(self, kind: str, key: str, **facts: Any) -> None:
        """A customer notice of the order's progress (`kind` milestone or plan_revision,
        `key` unique among the order's notices of that kind): on the timeline and to the
        channels routed for `customer_notice`. Orders from before notices give none."""
        if not workflow.patched(CUSTOMER_NOTICES):
            return
        notice = CustomerNotice.model_validate(
            {
                "order_no": self.inp.order_no,
                "customer": self.inp.customer,
                "kind": kind,
                "key": f"{kind}-{key}",
                "at": workflow.now(),
                "by": "orderflow",
                **facts,
            }
        )
        await give_notice(self, notice)

    async def close_declined(self, reason: str) -> None:
        await self.book.withdraw_all()
        await self.set_stage("declined", "declined", reason)

    def _on_escalated(self, esc: RaiseEscalation) -> None:
        if not self.state.escalated:
            self.state.escalated = True
            workflow.upsert_search_attributes([ESCALATED.value_set(True)])
