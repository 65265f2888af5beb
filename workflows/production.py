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

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from services.production.activities import ProductionActivities
    from shared import payloads as p
    from shared.material_types import MaterialNotice
    from shared.production_types import (
        DesignChangeRequest,
        DesignChangeResult,
        IssueRecord,
        IssueReported,
        ReportIssue,
        SheetMetalOrder,
        WorkOrderStep,
    )
    from shared.temporal import workflow_queue
    from shared.types import RaiseEscalation
    from workflows.common import end_of_day, notify_order
    from workflows.design_change import DesignChangeWorkflow
    from workflows.tasks import TaskState

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

    # -- the phase ----------------------------------------------------------------------------

    async def run(self) -> None:
        order = self.ctx
        start = order.production_start_at()
        if start > workflow.now():
            await order.sleep_until(start, f"production starts {start:%Y-%m-%d %H:%M}Z")
        await order.record_actual("production_start")
        await order.activity(
            ProductionActivities.work_order_step,
            WorkOrderStep(order_no=order.inp.order_no, state="in_progress", at=workflow.now()),
            f"start work order {order.state.materials.work_order}",
        )
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
                due_at=_end_of_production(order),
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
        self.ctx.branch(self._handle(issue_no, cmd))
        return reported

    async def _handle(self, issue_no: str, cmd: ReportIssue) -> None:
        order = self.ctx
        await self._record(issue_no, cmd, "open", None, cmd.by)
        if cmd.kind == "design_problem":
            resolution = await self._design_problem(issue_no, cmd)
        elif cmd.kind == "nonconforming_material":
            resolution = await self._nonconforming(issue_no, cmd)
        else:
            resolution = await self._missing_part(issue_no, cmd)
        self.state.issues[issue_no] = self.state.issues[issue_no].model_copy(
            update={"state": "closed"}
        )
        await self._record(issue_no, cmd, "closed", resolution, "orderflow")
        order.describe(f"{issue_no} closed: {resolution}")

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
        for order_no, items in getattr(result, "allocated", {}).items():
            for item, qty in items.items():
                await notify_order(order_no, MaterialNotice(kind="reserved", item=item, qty=qty))
        took = workflow.now() - requested
        end = order.state.plan.forecast.get("production_end")
        if end and took > timedelta(hours=8):
            await order.reforecast("production_end", end + timedelta(days=took.days + 1))
        return f"{result.dcn_no} issued: {result.summary} (BOM revision {result.bom_revision})"

    async def _nonconforming(self, issue_no: str, cmd: ReportIssue) -> str:
        order = self.ctx
        if cmd.severity == "serious":
            await order.escalate(
                RaiseEscalation(
                    key=f"{issue_no}:serious",
                    kind="serious_nonconformance",
                    level=2,
                    order_no=order.inp.order_no,
                    department="quality",
                    role="division",
                    breached_at=workflow.now(),
                    message=f"{order.inp.order_no}: serious nonconforming material in assembly: "
                    f"{cmd.description} ({_items(cmd.items)})",
                )
            )
        judgement = await order.book.open(
            "quality.ncr_judgement",
            f"Judge nonconforming material of {order.inp.order_no} ({issue_no})",
            {
                "ncr_no": f"NCR-{issue_no}",
                "issue_no": issue_no,
                "description": cmd.description,
                "items": cmd.items,
                "severity": cmd.severity,
                "found_in": "assembly",
            },
        )
        await order.wait_tasks(judgement)
        answer = p.NcrJudgement.parse(judgement.payload)
        return f"NCR-{issue_no} judged {answer.disposition}" + (
            f": {answer.comment}" if answer.comment else ""
        )

    async def _missing_part(self, issue_no: str, cmd: ReportIssue) -> str:
        order = self.ctx
        analysis = await order.book.open(
            "planning.missing_part_analysis",
            f"Analyse missing part(s) {_items(cmd.items)} of {order.inp.order_no}",
            {"issue_no": issue_no, "description": cmd.description, "items": cmd.items},
        )
        await order.wait_tasks(analysis)
        answer = p.MissingPartAnalysis.parse(analysis.payload)
        if answer.cause == "engineering":
            return await self._design_change(issue_no, cmd, analysis.completed_by or "planning")
        if answer.cause == "self_made":
            keys = [
                await order.activity(
                    ProductionActivities.sheet_metal_order,
                    SheetMetalOrder(
                        order_no=order.inp.order_no,
                        issue_no=f"{issue_no}-{n}",
                        item=str(line["item"]),
                        qty=line["qty"],
                        required_date=order.today(),
                        at=workflow.now(),
                    ),
                    f"sheet-metal work order for {line['qty']} {line['item']}",
                )
                for n, line in enumerate(cmd.items, start=1)
            ]
            return f"sheet-metal work order(s) {', '.join(keys)}"
        chases = [
            await order.book.open(
                "procurement.chase_supply",
                f"Chase {line['qty']} {line['item']} missing in assembly of {order.inp.order_no}",
                {"issue_no": issue_no, "item": line["item"], "missing": str(line["qty"])},
            )
            for line in cmd.items
        ]
        await order.wait_tasks(*chases)
        dates = [str(p.ChaseSupply.parse(c.payload).expected_date) for c in chases if c.payload]
        return f"buyer chased; expected {', '.join(dates)}"

    async def _record(
        self, issue_no: str, cmd: ReportIssue, state: str, resolution: str | None, by: str
    ) -> None:
        await self.ctx.activity(
            ProductionActivities.record_issue,
            IssueRecord(
                issue_no=issue_no,
                order_no=self.ctx.inp.order_no,
                kind=cmd.kind,
                description=cmd.description,
                items=cmd.items,
                severity=cmd.severity,
                state=state,
                resolution=resolution,
                by=by,
                at=workflow.now(),
            ),
            f"issue {issue_no} {state}",
        )


def _items(items: list[dict[str, Any]]) -> str:
    return ", ".join(f"{line.get('qty', '')} {line.get('item', '')}".strip() for line in items)


def _end_of_production(order: OrderContext) -> datetime | None:
    """The assembly's due time: the end of the planned production_end day, if still ahead."""
    end = order.state.plan.milestones.get("production_end")
    return end_of_day(end) if end and end_of_day(end) > workflow.now() else None
