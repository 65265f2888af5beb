"""ServiceCaseWorkflow: one per after-sales service case (售后), id `service-case-<case_id>`.

A complaint, repair, exchange or visit on a delivered order runs through three human steps in
the aftersales inbox, each due on its SLA clock counted in working time from the case's
opening: the first response to the customer, the engineer on site (always for a repair or a
visit; for a complaint or an exchange when the first response says so), and the resolution.
A clock that runs out escalates like any task's: to head:aftersales at the due time, to the
division at the second level. Each step is recorded on the case and its order's timeline.
Parts issued and returns booked against the case go through the API meanwhile.
"""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from services.aftersales.activities import AftersalesActivities
    from shared import payloads_aftersales as pa
    from shared.aftersales_types import (
        ON_SITE_KINDS,
        CaseResult,
        CaseStep,
        CaseStepName,
        ServiceCaseInput,
    )
    from shared.working_time.clocks import ClockSpec, after
    from workflows.base import TaskWorkflow
    from workflows.tasks import TaskState


@workflow.defn
class ServiceCaseWorkflow(TaskWorkflow):
    """One service case from its opening to its resolution."""

    # A failed step of a case is the aftersales ops' to finish by hand.
    ops_department = "aftersales"

    @workflow.init
    def __init__(self, inp: ServiceCaseInput) -> None:
        self.inp = inp
        self._init_tasks(inp.order_no, inp.queue_prefix)
        self.state = "open"

    def headline(self) -> str:
        inp = self.inp
        return f"**{inp.order_no}** · service case {inp.case_id} ({inp.kind}) · {self.state}"

    @workflow.query
    def status(self) -> dict[str, str]:
        return {"case_id": self.inp.case_id, "order_no": self.inp.order_no, "state": self.state}

    @workflow.run
    async def run(self, inp: ServiceCaseInput) -> CaseResult:
        opened = workflow.now()
        context = {"case_id": inp.case_id, "kind": inp.kind, "description": inp.description}
        what = f"service case {inp.case_id} ({inp.kind}) of {inp.order_no}"

        task = await self._step(
            "aftersales.case_response",
            f"First response to {what}",
            context,
            after(opened, inp.first_response),
        )
        response = pa.CaseResponse.parse(task.payload)
        on_site = inp.kind in ON_SITE_KINDS or response.on_site
        await self._record(
            task,
            "responded",
            f"{inp.case_id} answered: {response.response}"
            + (" (engineer to go on site)" if on_site else ""),
            {"on_site": on_site},
        )

        if on_site:
            task = await self._step(
                "aftersales.case_on_site",
                f"Go on site for {what}",
                context,
                after(opened, inp.on_site),
            )
            visit = pa.CaseOnSite.parse(task.payload)
            await self._record(
                task, "on_site", f"{inp.case_id} on site ({visit.engineer}): {visit.findings}"
            )

        task = await self._step(
            "aftersales.case_resolve", f"Resolve {what}", context, after(opened, inp.resolved)
        )
        resolution = pa.CaseResolution.parse(task.payload)
        await self._record(
            task,
            "resolved",
            f"{inp.case_id} resolved ({resolution.outcome}): {resolution.resolution}",
            {"outcome": resolution.outcome},
        )
        self.state = "resolved"
        self.describe(f"resolved ({resolution.outcome})")
        self._finished = True
        await workflow.wait_condition(workflow.all_handlers_finished)
        return CaseResult(
            case_id=inp.case_id,
            outcome=resolution.outcome,
            resolved_by=task.completed_by or "aftersales",
            resolved_at=task.completed_at or workflow.now(),
        )

    async def _step(
        self, kind: str, title: str, context: dict[str, str], clock: ClockSpec
    ) -> TaskState:
        """Open the step's task, due on its SLA clock, and wait for it."""
        task = await self.book.open(kind, title, context, due_clock=clock)
        await self.wait_tasks(task)
        assert task.payload is not None
        return task

    async def _record(
        self,
        task: TaskState,
        step: CaseStepName,
        summary: str,
        detail: dict[str, object] | None = None,
    ) -> None:
        self.state = step
        await self.activity(
            AftersalesActivities.case_step,
            CaseStep(
                case_id=self.inp.case_id,
                order_no=self.inp.order_no,
                step=step,
                task_id=task.task_id,
                by=task.completed_by or "aftersales",
                at=task.completed_at or workflow.now(),
                summary=summary,
                detail=detail or {},
            ),
            f"service case {self.inp.case_id}: {step}",
        )
