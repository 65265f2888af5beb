"""AssemblyIssueWorkflow: one per issue reported from assembly that is not a design problem
(id `issue-<issue_no>`, §8.5), so an order's history does not grow with its issues.

* nonconforming material → quality judges it (`quality.ncr_judgement`); a serious one goes to
  the division at once. The judgement has the material effect an incoming one has: return and
  repair move the goods out on a release pass, scrap writes them off, and either way the order
  buys (or makes) them again at once and its planner is asked when it is short; concession
  keeps them;
* missing part → the planner's analysis: self-made → a sheet-metal work order; purchased →
  the buyer chases it; engineering cause → handed back to the order, which runs the design
  change (it owns the BOM revision and the purchases).

It records the issue open and closed, and tells its order by signal (`issue_settled`), so the
order can continue as new while it runs. A cancellation of the order cancels it: its tasks are
withdrawn and the order is told. Orders started before it existed handle the same steps on a
branch of their own, through the same functions.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from temporalio import workflow
from temporalio.exceptions import FailureError

with workflow.unsafe.imports_passed_through():
    from services.production.activities import ProductionActivities
    from services.quality.activities import QualityActivities
    from shared import payloads as p
    from shared.material_types import AssemblyNcrClosed, AssemblyNcrJudged, MaterialNotice
    from shared.production_types import (
        AssemblyIssue,
        IssueRecord,
        IssueSettled,
        ReportIssue,
        SheetMetalOrder,
    )
    from shared.types import RaiseEscalation
    from shared.workflow_ids import order_workflow_id
    from workflows.base import TaskWorkflow
    from workflows.common import notify_order
    from workflows.tasks import TaskHost, TaskState

# How a material effect reaches the order: a signal from an issue's own workflow, a direct
# call on the order's branch.
Tell = Callable[[MaterialNotice], Awaitable[None]]


# A missing part whose cause is engineering: the order runs the design change.
@dataclass
class NeedsDesignChange:
    by: str


async def judge_nonconforming(
    host: TaskHost, order_no: str, issue_no: str, cmd: ReportIssue, tell: Tell
) -> str:
    """Quality judges nonconforming material found in assembly; serious goes to the division.
    The judgement's material effect follows (`_carry_out`), the order told by `tell`."""
    if cmd.severity == "serious":
        await host.escalate(
            key=f"{issue_no}:serious",
            kind="serious_nonconformance",
            level=2,
            department="quality",
            role="division",
            message=f"{order_no}: serious nonconforming material in assembly: "
            f"{cmd.description} ({items_text(cmd.items)})",
        )
    judgement = await host.book.open(
        "quality.ncr_judgement",
        f"Judge nonconforming material of {order_no} ({issue_no})",
        {
            "ncr_no": f"NCR-{issue_no}",
            "issue_no": issue_no,
            "description": cmd.description,
            "items": cmd.items,
            "severity": cmd.severity,
            "found_in": "assembly",
        },
    )
    await host.wait_tasks(judgement)
    answer = p.NcrJudgement.parse(judgement.payload)
    if workflow.patched("assembly-ncr-material"):
        await _carry_out(host, order_no, issue_no, cmd, answer, judgement, tell)
    return f"NCR-{issue_no} judged {answer.disposition}" + (
        f": {answer.comment}" if answer.comment else ""
    )


async def _carry_out(
    host: TaskHost,
    order_no: str,
    issue_no: str,
    cmd: ReportIssue,
    answer: p.NcrJudgement,
    judgement: TaskState,
    tell: Tell,
) -> None:
    """The NCR's material effect (QualityActivities.judge_assembly_ncr), then the order hears
    of each replacement to buy and of each line that left it: its planner decides how to
    cover the shortage meanwhile (`planning.ncr_disposition`, when it is short)."""
    closed: AssemblyNcrClosed = await host.activity(
        QualityActivities.judge_assembly_ncr,
        AssemblyNcrJudged(
            order_no=order_no,
            issue_no=issue_no,
            description=cmd.description,
            items=cmd.items,
            disposition=answer.disposition,
            comment=answer.comment,
            by=judgement.completed_by or "quality",
            at=judgement.completed_at or workflow.now(),
        ),
        f"NCR-{issue_no} judged {answer.disposition}: its material effect on {order_no}",
    )
    for line in closed.lines:
        if line.requisition is not None:
            await tell(
                MaterialNotice(
                    kind="requisition",
                    item=line.item,
                    qty=line.qty,
                    ncr_no=line.ncr_no,
                    requisition=line.requisition,
                    message=f"{line.ncr_no}: {line.qty} {line.item} bought again",
                )
            )
        if answer.disposition != "concession":
            await tell(
                MaterialNotice(
                    kind="ncr",
                    item=line.item,
                    qty=line.qty,
                    ncr_no=line.ncr_no,
                    defect=cmd.description,
                    found_in="assembly",
                    message=f"{line.ncr_no}: {line.qty} {line.item} left assembly "
                    f"({answer.disposition})",
                )
            )


async def analyse_missing_part(
    host: TaskHost, order_no: str, issue_no: str, cmd: ReportIssue
) -> str | NeedsDesignChange:
    """The planner's analysis of a missing part, and what follows from its cause."""
    analysis = await host.book.open(
        "planning.missing_part_analysis",
        f"Analyse missing part(s) {items_text(cmd.items)} of {order_no}",
        {"issue_no": issue_no, "description": cmd.description, "items": cmd.items},
    )
    await host.wait_tasks(analysis)
    answer = p.MissingPartAnalysis.parse(analysis.payload)
    if answer.cause == "engineering":
        return NeedsDesignChange(by=analysis.completed_by or "planning")
    if answer.cause == "self_made":
        keys = [
            await host.activity(
                ProductionActivities.sheet_metal_order,
                SheetMetalOrder(
                    order_no=order_no,
                    issue_no=f"{issue_no}-{n}",
                    item=str(line["item"]),
                    qty=line["qty"],
                    required_date=workflow.now().date(),
                    at=workflow.now(),
                ),
                f"sheet-metal work order for {line['qty']} {line['item']}",
            )
            for n, line in enumerate(cmd.items, start=1)
        ]
        return f"sheet-metal work order(s) {', '.join(keys)}"
    chases = [
        await host.book.open(
            "procurement.chase_supply",
            f"Chase {line['qty']} {line['item']} missing in assembly of {order_no}",
            {"issue_no": issue_no, "item": line["item"], "missing": str(line["qty"])},
        )
        for line in cmd.items
    ]
    await host.wait_tasks(*chases)
    dates = [str(p.ChaseSupply.parse(c.payload).expected_date) for c in chases if c.payload]
    return f"buyer chased; expected {', '.join(dates)}"


async def record_issue(
    host: TaskHost,
    order_no: str,
    issue_no: str,
    cmd: ReportIssue,
    state: str,
    resolution: str | None,
    by: str,
) -> None:
    """The issue's row in production's table, as it opens and closes."""
    await host.activity(
        ProductionActivities.record_issue,
        IssueRecord(
            issue_no=issue_no,
            order_no=order_no,
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


def items_text(items: list[dict[str, Any]]) -> str:
    return ", ".join(f"{line.get('qty', '')} {line.get('item', '')}".strip() for line in items)


@workflow.defn
class AssemblyIssueWorkflow(TaskWorkflow):
    """One nonconformance or missing part from assembly, tracked to closure."""

    @workflow.init
    def __init__(self, issue: AssemblyIssue) -> None:
        self.issue = issue
        self._init_tasks(issue.order_no, issue.queue_prefix)
        self.outcome: IssueSettled | None = None

    @workflow.run
    async def run(self, issue: AssemblyIssue) -> IssueSettled:
        cmd = issue.report
        try:
            await record_issue(self, issue.order_no, issue.issue_no, cmd, "open", None, cmd.by)
            if cmd.kind == "nonconforming_material":
                found: str | NeedsDesignChange = await judge_nonconforming(
                    self, issue.order_no, issue.issue_no, cmd, self._notify_order
                )
            else:
                found = await analyse_missing_part(self, issue.order_no, issue.issue_no, cmd)
            if isinstance(found, NeedsDesignChange):
                outcome = IssueSettled(
                    issue_no=issue.issue_no, report=cmd, design_change_by=found.by
                )
            else:
                await record_issue(
                    self, issue.order_no, issue.issue_no, cmd, "closed", found, "orderflow"
                )
                outcome = IssueSettled(issue_no=issue.issue_no, report=cmd, resolution=found)
        except asyncio.CancelledError:
            # The order was cancelled: nothing of the issue is wanted any more.
            await self.book.withdraw_all()
            await self._tell_order(
                IssueSettled(issue_no=issue.issue_no, report=cmd, withdrawn=True)
            )
            self._finished = True
            await workflow.wait_condition(workflow.all_handlers_finished)
            raise
        self.outcome = outcome
        self.describe(f"{issue.issue_no}: {outcome.resolution or 'handed back for a DCN'}")
        await self._tell_order(outcome)
        self._finished = True
        await workflow.wait_condition(workflow.all_handlers_finished)
        return outcome

    @workflow.query
    def status(self) -> dict[str, Any]:
        """Where the issue stands (for operations and tests)."""
        return {
            "order_no": self.issue.order_no,
            "issue_no": self.issue.issue_no,
            "kind": self.issue.report.kind,
            "outcome": self.outcome.model_dump(mode="json") if self.outcome else None,
            "open_tasks": [t.model_dump(mode="json") for t in self.book.open_tasks()],
        }

    def headline(self) -> str:
        return f"**{self.issue.order_no}** · {self.issue.report.kind} {self.issue.issue_no}"

    def stage_of_update(self) -> str:
        return "production"

    def _on_escalated(self, esc: RaiseEscalation) -> None:
        """The order is marked escalated as when it raised the escalation itself."""
        handle = workflow.get_external_workflow_handle(order_workflow_id(self.issue.order_no))
        self.branch(_signal(handle, "escalation_raised", esc))

    async def _notify_order(self, notice: MaterialNotice) -> None:
        await notify_order(self.issue.order_no, notice)

    async def _tell_order(self, outcome: IssueSettled) -> None:
        handle = workflow.get_external_workflow_handle(order_workflow_id(self.issue.order_no))
        await _signal(handle, "issue_settled", outcome)


async def _signal(handle: workflow.ExternalWorkflowHandle[Any], name: str, arg: Any) -> None:
    """Signal the order; one that no longer runs has nothing left to hear."""
    try:
        await handle.signal(name, arg)
    except FailureError:
        workflow.logger.info("%s: the order no longer runs; %s not delivered", handle.id, name)
