"""DesignChangeWorkflow: one per confirmed design problem (id `dcn-<issue_no>`), P8.4a and P3.4.

Engineering has `ORDERFLOW_SLA_DESIGN_CHANGE` (4 h) from the process engineer's confirmation to
issue a DCN (`engineering.design_change`): at 4 h head:engineering (the task's own clock) and
the planner are warned, at 8 h the division. The DCN becomes the order's next BOM revision;
MRP runs on the difference: engineering-change requisitions and work orders for what it adds,
surplus reserved material back to free stock and on to other orders short of it. The order
workflow that started this one buys the requisitions, tells the orders that got stock, and
re-forecasts its plan.
"""

from __future__ import annotations

import asyncio
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from services.engineering.dcn import BomSnapshot, DcnIssue, DcnIssued
    from services.engineering.dcn_activities import DesignChangeActivities
    from services.procurement.mrp.changes import DcnMrpActivities, MrpDeltaResult, MrpDeltaRun
    from shared import payloads as p
    from shared.production_types import DesignChangeRequest, DesignChangeResult
    from workflows.base import TaskWorkflow
    from workflows.tasks import TaskState


@workflow.defn
class DesignChangeWorkflow(TaskWorkflow):
    """The 4-hour DCN for one design problem, and what it means for the order's material."""

    @workflow.init
    def __init__(self, req: DesignChangeRequest) -> None:
        self.req = req
        self._init_tasks(req.order_no, req.queue_prefix)
        self.state = "confirmed"
        self.snapshot: BomSnapshot | None = None
        self.dcn_no: str | None = None
        self._planner_warned = False
        self._watchers: list[asyncio.Task[None]] = []

    def headline(self) -> str:
        return f"**{self.req.order_no}** · design problem {self.req.issue_no} · {self.state}"

    @workflow.run
    async def run(self, req: DesignChangeRequest) -> DesignChangeResult:
        try:
            result = await self._design_change(req)
        except asyncio.CancelledError:
            # The order was cancelled: no DCN is wanted, and no inbox keeps asking for one.
            await self.book.withdraw_all()
            self._finished = True
            await workflow.wait_condition(workflow.all_handlers_finished)
            raise
        self.state = "issued"
        self.describe(f"{result.dcn_no} issued: BOM revision {result.bom_revision}")
        await asyncio.gather(*self._watchers)
        self._finished = True
        await workflow.wait_condition(workflow.all_handlers_finished)
        return result

    @workflow.query
    def status(self) -> dict[str, Any]:
        return {
            "order_no": self.req.order_no,
            "issue_no": self.req.issue_no,
            "state": self.state,
            "dcn_no": self.dcn_no,
            "bom_revision": self.snapshot.revision if self.snapshot else None,
            "open_tasks": [t.model_dump(mode="json") for t in self.book.open_tasks()],
        }

    def rule_violation(self, task: TaskState, payload: p.Payload) -> str | None:
        if not isinstance(payload, p.DesignChange) or self.snapshot is None:
            return None
        problems = self.snapshot.check(payload.dcn_no, payload.bom_changes, None).problems
        return "; ".join(problems) or None

    async def _design_change(self, req: DesignChangeRequest) -> DesignChangeResult:
        self.snapshot = await self.activity(
            DesignChangeActivities.bom_snapshot,
            req.order_no,
            f"the BOM of {req.order_no} the DCN for {req.issue_no} changes",
        )
        first = task = await self._open(None)
        while True:
            self.state = "awaiting the DCN"
            await self.wait_tasks(task)
            issued = await self._issue(task, first)
            if issued.refused is None:
                break
            # Another DCN of the order came first: check this one again against its result.
            self.snapshot = issued.snapshot
            task = await self._open(issued.refused, first)
        assert task.payload is not None
        dcn = p.DesignChange.parse(task.payload)
        material = MrpDeltaResult()
        if issued.to_revision != issued.from_revision:
            self.state = "MRP on the change"
            material = await self.activity(
                DcnMrpActivities.mrp_delta,
                MrpDeltaRun(
                    order_no=req.order_no,
                    dcn_no=dcn.dcn_no,
                    old_revision=issued.from_revision,
                    new_revision=issued.to_revision,
                    by=task.completed_by or "engineering",
                    at=workflow.now(),
                ),
                f"MRP on {dcn.dcn_no}: BOM revision {issued.from_revision} → "
                f"{issued.to_revision}, surplus back to stock",
            )
        return DesignChangeResult(
            dcn_no=dcn.dcn_no,
            summary=dcn.summary,
            bom_revision=issued.to_revision,
            requisitions=material.requisitions,
            work_orders=material.work_orders,
            surplus=material.released,
            issued_by=task.completed_by or "engineering",
            issued_at=task.completed_at or workflow.now(),
            allocated=material.allocated,
        )

    async def _open(self, refused: str | None, first: TaskState | None = None) -> TaskState:
        """The DCN task; one opened again after a refusal keeps the first one's due time."""
        req, snapshot = self.req, self.snapshot
        assert snapshot is not None
        task = await self.book.open(
            "engineering.design_change",
            f"Issue a DCN for design problem {req.issue_no} of {req.order_no}",
            {
                "order_no": req.order_no,
                "issue_no": req.issue_no,
                "description": req.description,
                "items": req.items,
                "bom_revision": snapshot.revision,
                "dcn_nos": snapshot.dcn_nos,
                "confirmed_by": req.confirmed_by,
                **({"refused": refused} if refused else {}),
            },
            due_at=first.due_at if first is not None else None,
        )
        self._watchers.append(asyncio.create_task(self._warn_planner(task)))
        return task

    async def _issue(self, task: TaskState, first: TaskState) -> DcnIssued:
        assert task.payload is not None
        dcn = p.DesignChange.parse(task.payload)
        self.dcn_no = dcn.dcn_no
        self.state = f"issuing {dcn.dcn_no}"
        issued: DcnIssued = await self.activity(
            DesignChangeActivities.issue_dcn,
            DcnIssue(
                order_no=self.req.order_no,
                issue_no=self.req.issue_no,
                task_id=task.task_id,
                dcn_no=dcn.dcn_no,
                summary=dcn.summary,
                changes=dcn.bom_changes,
                requested_at=first.created_at,
                due_at=first.due_at,
                by=task.completed_by or "engineering",
                at=task.completed_at or workflow.now(),
            ),
            f"issue {dcn.dcn_no}: {dcn.summary}",
        )
        return issued

    async def _warn_planner(self, task: TaskState) -> None:
        """The planner hears of a DCN still not issued at its due time (PROCESS.md timers)."""
        done = await self.book.until_due(
            task,
            lambda: not task.is_open or self._planner_warned,
            lambda due: f"the planner is warned if the DCN is not issued by {due:%Y-%m-%d %H:%M}Z",
        )
        if done:
            return
        self._planner_warned = True
        await self.escalate(
            key=f"{self.workflow_id}:planning",
            kind="design_change_overdue",
            level=1,
            task_id=task.task_id,
            department="planning",
            role="planning",
            due_at=task.due_at,
            message=f"no DCN yet for design problem {self.req.issue_no} of "
            f"{self.req.order_no} ({self.req.description}); it was due "
            f"{task.due_at:%Y-%m-%d %H:%M}Z: assembly may wait on it",
        )
