"""The workshop's own checks around production (P8.1, P8.2, P8.4), on the order's
`ProductionState`:

* Drawing check (§8.1): at production start - DRAWINGS_LEAD (3 working days) the team leader
  has the released drawings and checks them (`production.drawing_check`, due at the start);
  every point that is unclear goes to engineering as a question
  (`engineering.drawing_question`), whose answer is written on the order's timeline.
* Appearance check (§8.2): at production start, before assembly, the team looks at the
  material received (`production.appearance_check`); each nonconforming finding is reported
  as nonconforming material, which quality judges as an NCR (`quality.ncr_judgement`).
* Certificates and manuals (§8.4): handed to quality during production
  (`production.hand_over_documents`) and recorded per order; final inspection waits for them.

The checks do not hold assembly up; one still open when the product has passed final
inspection is withdrawn (`checks_over`).

Orders started before these checks existed (patch `workshop-checks`) run without them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from services.quality.documents import DocumentActivities
    from shared import payloads_workshop as pw
    from shared.production_types import (
        DocumentsHandedOver,
        HandedDocumentLine,
        IssueReported,
        ReportIssue,
    )
    from shared.working_time.clocks import day_start
    from workflows.tasks import TaskState

if TYPE_CHECKING:
    from shared.order_state import ProductionState
    from workflows.context import OrderContext

# The patch behind which orders run the workshop's checks.
WORKSHOP_CHECKS = "workshop-checks"


class WorkshopChecks:
    """§8.1, §8.2 and §8.4 for one order; `report` files an issue as assembly reports one."""

    def __init__(
        self,
        state: ProductionState,
        ctx: OrderContext,
        report: Callable[[ReportIssue], IssueReported],
    ) -> None:
        self.state, self.ctx, self.report = state, ctx, report

    def _context(self, **more: Any) -> dict[str, Any]:
        return {"work_order": self.ctx.state.materials.work_order, **more}

    async def _answered(self, task: TaskState) -> dict[str, Any] | None:
        """Wait for the task; its payload (None when it was withdrawn)."""
        await self.ctx.until(lambda: not task.is_open, f"waiting for {task.kind}")
        return task.payload

    # -- §8.1 the team leader's drawing check -----------------------------------------------

    async def drawing_check(self) -> None:
        """At the drawings lead before the start (on the plant's calendar), the check opens."""
        order, policy = self.ctx, self.ctx.state.policy
        assert policy is not None
        start = await order.production_start()
        await order.clocks.wait(
            lambda: False,
            day_start(order.state.plan.milestones["production_start"], -policy.drawings_lead),
            lambda at: f"drawing check at the teams at {at:%Y-%m-%d %H:%M}Z",
            legacy=start - policy.drawings_lead,
        )
        order.branch(self._check_drawings())

    async def _check_drawings(self) -> None:
        order = self.ctx
        no = order.inp.order_no
        if "drawings_release" not in order.state.actuals:  # checked once they are released
            await order.until(
                lambda: "drawings_release" in order.state.actuals,
                "waiting for the drawings the team leader checks",
            )
        start = await order.production_start()
        task = await order.book.open(
            "production.drawing_check",
            f"Check the drawings of {no} before production",
            self._context(production_start=start.isoformat()),
            due_at=start if start > workflow.now() else None,
        )
        self.state.drawing_check = task.task_id
        payload = await self._answered(task)
        if payload is None:
            return
        check = pw.DrawingCheck.parse(payload)
        asked_by = task.completed_by or "production"
        questions = [
            (
                point,
                await order.book.open(
                    "engineering.drawing_question",
                    f"Drawing question {n} from the workshop on {no}",
                    self._context(
                        question=point, asked_by=asked_by, production_start=start.isoformat()
                    ),
                ),
            )
            for n, point in enumerate(check.unclear, start=1)
        ]
        self.state.drawing_questions = [question.task_id for _, question in questions]
        for point, question in questions:
            answer = await self._answered(question)
            if answer is not None:
                text = pw.DrawingAnswer.parse(answer).answer
                await order.event(
                    "drawing_question_answered",
                    question.completed_by or "engineering",
                    f"drawing question on {no} answered: {point} - {text}"[:500],
                    {"task_id": question.task_id},
                )

    # -- §8.2 appearance of the received material, §8.4 certificates and manuals --------------

    def at_production_start(self) -> None:
        """Production starts: the appearance check and the documents' hand-over open."""
        self.ctx.branch(self._appearance_check())
        self.ctx.branch(self._hand_over_documents())

    async def _appearance_check(self) -> None:
        order = self.ctx
        task = await order.book.open(
            "production.appearance_check",
            f"Check the appearance of the material for {order.inp.order_no} before assembly",
            self._context(),
        )
        self.state.appearance_check = task.task_id
        payload = await self._answered(task)
        if payload is None:
            return
        by = task.completed_by or "production"
        for finding in pw.AppearanceCheck.parse(payload).findings:
            self.report(
                ReportIssue(
                    kind="nonconforming_material",
                    description=f"appearance check before assembly: {finding.defect}",
                    items=[{"item": finding.item, "qty": str(finding.qty)}],
                    severity="normal",
                    by=by,
                )
            )

    async def _hand_over_documents(self) -> None:
        order = self.ctx
        task = await order.book.open(
            "production.hand_over_documents",
            f"Hand the certificates and manuals of {order.inp.order_no} to quality",
            self._context(),
        )
        self.state.documents_task = task.task_id
        payload = await self._answered(task)
        if payload is None:
            return
        documents = pw.HandOverDocuments.parse(payload).documents
        await order.activity(
            DocumentActivities.record_documents,
            DocumentsHandedOver(
                order_no=order.inp.order_no,
                task_id=task.task_id,
                documents=[HandedDocumentLine(**d.model_dump()) for d in documents],
                by=task.completed_by or "production",
                at=task.completed_at or workflow.now(),
            ),
            f"record {len(documents)} certificate(s)/manual(s) handed to quality",
        )
        self.state.documents_recorded = True

    async def checks_over(self) -> None:
        """The product passed final inspection: a check still open (the drawing check, its
        questions, the appearance check) asks for nothing any more and is withdrawn."""
        state = self.state
        for task_id in (state.drawing_check, *state.drawing_questions, state.appearance_check):
            task = self.ctx.book.get(task_id)
            if task is not None:
                await self.ctx.book.withdraw(task)
