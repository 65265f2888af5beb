"""OrderWorkflow: one per customer order (id `order-<order_no>`), PROCESS.md phase by phase.

This file holds the workflow's state, its update and query, and the run that strings the
phases together; the phases themselves live beside it (`review.py` P1, `plan.py` P2).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from datetime import date, datetime
from typing import Any

from temporalio import workflow
from temporalio.common import SearchAttributeUpdate

with workflow.unsafe.imports_passed_through():
    from services.engineering.bom import validate_bom
    from services.planning.activities import PlanningActivities
    from services.sales.activities import SalesActivities
    from shared import payloads as p
    from shared.temporal import DUE_DATE, ESCALATED, STAGE, department_queue
    from shared.types import (
        CompleteTask,
        MilestoneActual,
        OrderInput,
        Policy,
        RaiseEscalation,
        StageChange,
        TaskCompleted,
        TimelineEvent,
    )
    from workflows.common import DB_RETRY, DB_TIMEOUT, end_of_day
    from workflows.plan import PlanPhase
    from workflows.purchasing import PurchasingPhase
    from workflows.review import ReviewPhase
    from workflows.tasks import INVALID_PAYLOAD, Escalator, TaskBook, TaskState, reject


@workflow.defn
class OrderWorkflow:
    """The life of one order, from intake to close; every human step is a task with a due time."""

    @workflow.init
    def __init__(self, inp: OrderInput) -> None:
        self.inp = inp
        self.workflow_id = workflow.info().workflow_id
        self.stage = "review"
        self.status = "active"
        self.due_date: date | None = None
        self.policy: Policy | None = None
        self.escalated = False
        self.actuals: dict[str, date] = {}
        # Conditions the order's branches wait on; the run itself is one branch.
        self._parked: list[Callable[[], bool]] = []
        self._branches = 1
        self._branch_tasks: list[asyncio.Task[None]] = []
        self._finished = False
        self.book = TaskBook(
            workflow_id=self.workflow_id,
            order_no=inp.order_no,
            queue_prefix=inp.queue_prefix,
            escalator=Escalator(
                order_no=inp.order_no, queue_prefix=inp.queue_prefix, on_raised=self._on_escalated
            ),
        )
        self.review = ReviewPhase(self)
        self.plan = PlanPhase(self)
        self.purchasing = PurchasingPhase(self)

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
            # Material requirements, purchasing and receiving (P4-P7) continue from here; until
            # they run, the order holds in `materials` with its milestone clocks still running.
            await self.until(lambda: False, "released to materials: awaiting MRP (P4)")
        self._finished = True
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.status

    # -- the `complete_task` update: how every department app completes its tasks ----------

    @workflow.update
    async def complete_task(self, cmd: CompleteTask) -> TaskCompleted:
        """Complete one of this order's tasks; returns once the order has moved on from it."""
        self._validate_completion(cmd)
        task = await self.book.complete(cmd)
        await workflow.wait_condition(self._settled)
        return TaskCompleted(task_id=task.task_id, order_no=self.inp.order_no, stage=self.stage)

    @complete_task.validator
    def _validate_completion(self, cmd: CompleteTask) -> None:
        task, payload = self.book.check(cmd)
        problem = self.rule_violation(task, payload)
        if problem:
            raise reject(INVALID_PAYLOAD, problem)

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
        return self.plan.rule_violation(payload) or self.purchasing.rule_violation(payload)

    # -- helpers the phases share --------------------------------------------------------

    def today(self) -> date:
        return workflow.now().date()

    async def until(self, condition: Callable[[], bool], waiting_for: str) -> None:
        """Wait for people (or a timer's effect); a completion settles while the order waits."""
        self._parked.append(condition)
        self.describe(waiting_for)
        try:
            await workflow.wait_condition(condition)
        finally:
            self._parked.remove(condition)

    def branch(self, work: Coroutine[Any, Any, None]) -> None:
        """Run `work` beside the main run (one per requisition, say); completions settle only
        when every branch waits for people again."""
        self._branches += 1

        async def run() -> None:
            try:
                await work
            finally:
                self._branches -= 1

        self._branch_tasks.append(asyncio.create_task(run()))

    async def wait_tasks(self, *tasks: TaskState) -> None:
        names = ", ".join(t.kind for t in tasks)
        await self.until(lambda: not any(t.is_open for t in tasks), f"waiting for {names}")

    def _settled(self) -> bool:
        if self._finished:
            return True
        all_waiting = len(self._parked) >= self._branches
        return all_waiting and not any(condition() for condition in self._parked)

    def describe(self, waiting_for: str) -> None:
        due = f" · due {self.due_date}" if self.due_date else ""
        tasks = "".join(
            f"\n- `{t.kind}` due {t.due_at:%Y-%m-%d %H:%M}Z" for t in self.book.open_tasks()
        )
        workflow.set_current_details(
            f"**{self.inp.order_no}** · stage **{self.stage}**{due}\n\n{waiting_for}{tasks}"
        )

    async def activity(self, method: Any, arg: Any, department: str, summary: str) -> Any:
        """Run one department activity with the standard timeout and retries."""
        args = [] if arg is None else [arg]
        return await workflow.execute_activity_method(
            method,
            args=args,
            task_queue=department_queue(self.inp.queue_prefix, department),
            start_to_close_timeout=DB_TIMEOUT,
            retry_policy=DB_RETRY,
            summary=summary[:200],
        )

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

    def now(self) -> datetime:
        return workflow.now()
