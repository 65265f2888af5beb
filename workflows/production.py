"""P8 production (§8-§10): the work order starts on its planned date, the process card is
signed operation by operation, special and key operations are confirmed by quality, and
issues reported from assembly are each tracked to closure:

* design problem → the workshop's process engineer confirms it → a `DesignChangeWorkflow`
  (engineering's DCN within 4 h); its new requisitions are bought, the plan re-forecast;
* nonconforming material → quality judges it (`quality.ncr_judgement`); a serious one goes to
  the division at once;
* missing part → the planner's analysis: self-made → a sheet-metal work order; purchased →
  the buyer chases it; engineering cause → a design change. Assembly goes on meanwhile.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from temporalio import workflow
from temporalio.exceptions import FailureError

with workflow.unsafe.imports_passed_through():
    from services.production.activities import ProductionActivities
    from shared import payloads as p
    from shared.material_types import MaterialNotice
    from shared.production_types import (
        AssemblyIssue,
        DesignChangeRequest,
        DesignChangeResult,
        IssueReported,
        IssueSettled,
        ReportIssue,
        WorkOrderStep,
    )
    from shared.temporal import workflow_queue
    from shared.workflow_ids import issue_workflow_id
    from workflows.assembly_issue import (
        AssemblyIssueWorkflow,
        analyse_missing_part,
        judge_nonconforming,
        record_issue,
    )
    from workflows.clocks import due_by
    from workflows.common import days_after, end_of_day, notify_reserved
    from workflows.design_change import DesignChangeWorkflow
    from workflows.tasks import TaskState
    from workflows.workshop import WORKSHOP_CHECKS, WorkshopChecks

if TYPE_CHECKING:
    from shared.order_state import ProductionState
    from workflows.context import OrderContext

# Stages in which assembly issues can be reported.
ISSUE_STAGES = ("production", "final_inspection")


class ProductionPhase:
    """P8 on the order's `ProductionState`."""

    def __init__(self, state: ProductionState, ctx: OrderContext) -> None:
        self.state, self.ctx = state, ctx
        # The design changes under way, by workflow id, with their handles once started: a
        # cancellation cancels each through its handle and waits for it to end.
        self.design_change_handles: dict[
            str, workflow.ChildWorkflowHandle[DesignChangeWorkflow, DesignChangeResult] | None
        ] = {}
        # §8.1, §8.2, §8.4: the drawing check, the appearance check, the documents for quality.
        self.workshop = WorkshopChecks(state, ctx, self.report)

    # -- the phase ----------------------------------------------------------------------------

    async def run(self) -> None:
        order = self.ctx
        start = await order.production_start()
        if start > workflow.now():
            await order.sleep_until(start, f"production starts {start:%Y-%m-%d %H:%M}Z")
        await order.record_actual("production_start")
        await order.activity(
            ProductionActivities.work_order_step,
            WorkOrderStep(order_no=order.inp.order_no, state="in_progress", at=workflow.now()),
            f"start work order {order.state.materials.work_order}",
        )
        if workflow.patched(WORKSHOP_CHECKS):
            self.workshop.at_production_start()
        if "drawings_release" not in order.state.actuals:  # P8.1: no assembly without drawings
            await order.until(
                lambda: "drawings_release" in order.state.actuals,
                "waiting for the drawings to reach the teams",
            )
        await self._assemble()
        await order.record_actual("production_end")

    async def _assemble(self) -> None:
        """The process card until every operation is signed and every special or key
        operation confirmed by quality; an unconfirmed operation is done again."""
        order, rework = self.ctx, None
        while True:
            context: dict[str, Any] = {
                "work_order": order.state.materials.work_order,
                "special_operations": self.state.special_operations,
            }
            if rework:
                context["rework"] = rework
            card = await order.book.open(
                "production.assembly",
                f"Assemble {order.inp.order_no}" + (" (rework)" if rework else ""),
                context,
                **_end_of_production(order),
            )
            await order.wait_tasks(card)
            answer = p.Assembly.parse(card.payload)
            # The card's latest word on what is still missing (a rework card repeats it).
            self.state.missing_parts = [m.model_dump() for m in answer.missing_parts]
            checks = [
                op for op in answer.operations if op.key or op.name in self.state.special_operations
            ]
            confirmations = []
            for op in checks:
                task = await order.book.open(
                    "quality.process_confirmation",
                    f"Confirm {'key' if op.key else 'special'} operation {op.name} of "
                    f"{order.inp.order_no}",
                    {"operation": op.name, "signed_by": op.signed_by, "key": op.key},
                )
                self.state.confirming[task.task_id] = op.name
                confirmations.append(task)
            if confirmations:
                await order.wait_tasks(*confirmations)
            rework = [
                self.state.confirming[task.task_id]
                for task in confirmations
                if not p.ProcessConfirmation.parse(task.payload).confirmed
            ]
            if not rework:
                return

    def rule_violation(self, task: TaskState, payload: p.Payload) -> str | None:
        if isinstance(payload, p.ProcessConfirmation):
            expected = self.state.confirming.get(task.task_id)
            if expected and payload.operation != expected:
                return f"this task confirms operation {expected!r}, not {payload.operation!r}"
        if isinstance(payload, p.Assembly):
            names = [op.name for op in payload.operations]
            repeated = sorted({n for n in names if names.count(n) > 1})
            if repeated:
                return f"each operation once on the process card; repeated: {', '.join(repeated)}"
            unsigned = [n for n in self.state.special_operations if n not in names]
            if unsigned:
                return f"special operations need their operator's signature: {', '.join(unsigned)}"
        return None

    # -- assembly issues (§8.5) ---------------------------------------------------------------

    def design_change_ids(self) -> list[str]:
        """The DesignChangeWorkflows still running for this order."""
        return sorted(self.design_change_handles)

    def issue_refusal(self) -> str | None:
        """Why no issue can be reported now (the order is not in production), if so."""
        order = self.ctx
        if order.state.cancellation is not None:
            # Its branches are stopped and its tasks withdrawn: nothing would handle the issue.
            return f"{order.inp.order_no} is being cancelled; no issue can be reported"
        if order.state.status != "active" or order.state.stage not in ISSUE_STAGES:
            return (
                f"issues are reported in production; {order.inp.order_no} is in {order.state.stage}"
            )
        return None

    def issue_violation(self, cmd: ReportIssue) -> str | None:
        """What is wrong with an issue report, in a sentence."""
        if not cmd.description.strip():
            return "describe the issue"
        if cmd.kind in ("nonconforming_material", "missing_part") and not cmd.items:
            return f"{cmd.kind} needs the items concerned"
        return None

    def report(self, cmd: ReportIssue) -> IssueReported:
        self.state.issue_seq += 1
        issue_no = f"{self.ctx.inp.order_no}-I{self.state.issue_seq}"
        reported = IssueReported(
            issue_no=issue_no, order_no=self.ctx.inp.order_no, kind=cmd.kind, state="open"
        )
        self.state.issues[issue_no] = reported
        if cmd.kind != "design_problem" and workflow.patched("assembly-issue-workflows"):
            self.ctx.branch(self._hand_over(issue_no, cmd))
        else:
            self.ctx.branch(self._handle(issue_no, cmd))
        return reported

    async def _hand_over(self, issue_no: str, cmd: ReportIssue) -> None:
        """A nonconformance or missing part is tracked in its own workflow, which tells the
        order when it is settled (`settled`)."""
        order = self.ctx
        child_id = issue_workflow_id(issue_no)
        self.state.issue_workflows.append(child_id)
        await workflow.start_child_workflow(
            AssemblyIssueWorkflow.run,
            AssemblyIssue(
                order_no=order.inp.order_no,
                issue_no=issue_no,
                report=cmd,
                queue_prefix=order.inp.queue_prefix,
            ),
            id=child_id,
            task_queue=workflow_queue(order.inp.queue_prefix),
            parent_close_policy=workflow.ParentClosePolicy.ABANDON,
            static_summary=f"{cmd.kind.replace('_', ' ')} {issue_no}: {cmd.description}"[:200],
        )

    def settled(self, outcome: IssueSettled) -> None:
        """An issue's own workflow is done: closed, withdrawn, or handed back for a DCN."""
        child_id = issue_workflow_id(outcome.issue_no)
        if child_id in self.state.issue_workflows:
            self.state.issue_workflows.remove(child_id)
        issue = self.state.issues.get(outcome.issue_no)
        if outcome.withdrawn or issue is None or issue.state == "closed":
            return
        if outcome.resolution is not None:
            self.state.issues[outcome.issue_no] = issue.model_copy(update={"state": "closed"})
            self.ctx.describe(f"{outcome.issue_no} closed: {outcome.resolution}")
        elif outcome.design_change_by and self.issue_refusal() is None:
            self.ctx.branch(
                self._redesign(outcome.issue_no, outcome.report, outcome.design_change_by)
            )

    async def _redesign(self, issue_no: str, cmd: ReportIssue, by: str) -> None:
        """A missing part with an engineering cause: the design change, then the issue closes."""
        await self._close(issue_no, cmd, await self._design_change(issue_no, cmd, by))

    async def cancel_issues(self) -> None:
        """The order is cancelled: each issue's own workflow withdraws its tasks and says so."""
        for child_id in list(self.state.issue_workflows):
            try:
                await workflow.get_external_workflow_handle(child_id).cancel()
            except FailureError:  # never started, or already ended
                self.state.issue_workflows.remove(child_id)
        await self.ctx.until(
            lambda: not self.state.issue_workflows,
            "waiting for the issues' own workflows to withdraw their tasks",
        )

    async def _handle(self, issue_no: str, cmd: ReportIssue) -> None:
        """An issue on a branch of the order: every design problem, and every issue of an order
        started before issues had their own workflows."""
        order = self.ctx
        await record_issue(order, order.inp.order_no, issue_no, cmd, "open", None, cmd.by)
        if cmd.kind == "design_problem":
            resolution = await self._design_problem(issue_no, cmd)
        elif cmd.kind == "nonconforming_material":
            resolution = await judge_nonconforming(
                order, order.inp.order_no, issue_no, cmd, self._notice
            )
        else:
            found = await analyse_missing_part(order, order.inp.order_no, issue_no, cmd)
            resolution = (
                found
                if isinstance(found, str)
                else await self._design_change(issue_no, cmd, found.by)
            )
        await self._close(issue_no, cmd, resolution)

    async def _notice(self, notice: MaterialNotice) -> None:
        """An NCR's material effect on an issue handled on the order's own branch."""
        self.ctx.notice_material(notice)

    async def _design_problem(self, issue_no: str, cmd: ReportIssue) -> str:
        order = self.ctx
        check = await order.book.open(
            "production.confirm_issue",
            f"Confirm design problem {issue_no} of {order.inp.order_no}",
            {"issue_no": issue_no, "description": cmd.description, "items": cmd.items},
        )
        await order.wait_tasks(check)
        answer = p.ConfirmIssue.parse(check.payload)
        if not answer.confirmed:
            return f"not a design problem: {answer.comment or 'rejected by the process engineer'}"
        return await self._design_change(issue_no, cmd, check.completed_by or "production")

    async def _design_change(self, issue_no: str, cmd: ReportIssue, confirmed_by: str) -> str:
        """Engineering's DCN in its own workflow; its material is bought, the plan re-forecast."""
        order = self.ctx
        requested = workflow.now()
        self.design_change_handles[f"dcn-{issue_no}"] = None
        child = await workflow.start_child_workflow(
            DesignChangeWorkflow.run,
            DesignChangeRequest(
                order_no=order.inp.order_no,
                issue_no=issue_no,
                description=cmd.description,
                items=cmd.items,
                bom_revision=order.state.plan.bom_revision,
                confirmed_by=confirmed_by,
                queue_prefix=order.inp.queue_prefix,
            ),
            id=f"dcn-{issue_no}",
            task_queue=workflow_queue(order.inp.queue_prefix),
            static_summary=f"design change for {issue_no}: {cmd.description}"[:200],
        )
        self.design_change_handles[child.id] = child
        # Parked while engineering works, so completions elsewhere settle meanwhile.
        await order.until(child.done, f"waiting for engineering's DCN on {issue_no}")
        result: DesignChangeResult = child.result()
        del self.design_change_handles[child.id]
        self.state.design_changes.append(result)
        order.bom_revised(result.bom_revision)
        if result.requisitions:
            order.buy(result.requisitions)
        if (result.requisitions or result.work_orders) and workflow.patched("dcn-material-picked"):
            # What the DCN added is picked for production as it comes in.
            order.pick_supplement()
        await notify_reserved(result.allocated)
        took = workflow.now() - requested
        end = order.state.plan.forecast.get("production_end")
        if end and took > timedelta(hours=8):
            await order.reforecast("production_end", days_after(end, took.days + 1))
        return f"{result.dcn_no} issued: {result.summary} (BOM revision {result.bom_revision})"

    async def _close(self, issue_no: str, cmd: ReportIssue, resolution: str) -> None:
        self.state.issues[issue_no] = self.state.issues[issue_no].model_copy(
            update={"state": "closed"}
        )
        order = self.ctx
        await record_issue(
            order, order.inp.order_no, issue_no, cmd, "closed", resolution, "orderflow"
        )
        order.describe(f"{issue_no} closed: {resolution}")


def _end_of_production(order: OrderContext) -> dict[str, Any]:
    """The assembly's due time: the end of the planned production_end day, if still ahead
    (else its kind's SLA); `TaskBook.open`'s keyword arguments."""
    end = order.state.plan.milestones.get("production_end")
    if not end or end < order.today() or end_of_day(end) <= workflow.now():
        return {}
    return due_by(end)
