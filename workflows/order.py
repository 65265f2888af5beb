"""OrderWorkflow: one per customer order (id `order-<order_no>`), PROCESS.md phase by phase.

This file holds the workflow, owner of the order's one serializable `OrderState`: its updates,
signals and query (`state`), the run that strings the phases together (and continues as new
when the history grows long), and the `OrderContext` the phases ask it through. What the order
writes down (timeline, stage, actuals) is in `order_records.py`, when it may continue as
new in `order_rest.py`; the phases live beside it
(`review.py` P1, `plan.py` P2-P3, `purchasing.py` P4 with `requisition.py`, `materials.py` and
`picking.py` P5-P7, `production.py` P8 with `assembly_issue.py`, `closing.py` P9-P10,
`changes.py` for customer changes, `cancellation.py` for a cancellation at any stage).
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from datetime import UTC, date, datetime, time
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from services.engineering.bom import validate_bom
    from services.planning.activities import PlanningActivities
    from services.sales.activities import SalesActivities
    from shared import payloads as p
    from shared.actor import verify_actor
    from shared.change_types import ChangeAccepted, CustomerChange
    from shared.delay_types import DelayWarned, DelayWarning
    from shared.material_types import MaterialNotice
    from shared.order_state import OrderState
    from shared.payment_types import PaymentsTotal
    from shared.production_types import (
        CancellationResult,
        CancelOrder,
        IssueReported,
        IssueSettled,
        ReportIssue,
    )
    from shared.rejections import Rejection
    from shared.types import (
        CompleteTask,
        OrderInput,
        RaiseEscalation,
        RequisitionSettled,
        RequisitionSummary,
    )
    from shared.working_time.clocks import day_start
    from workflows.cancellation import NOT_CANCELLABLE, cancel_order
    from workflows.changes import CHANGE_REFUSED, ChangesPhase
    from workflows.clocks import on_working_time
    from workflows.closing import ClosingPhase
    from workflows.delay_warning import warn_delay, warning_refusal, warning_violation
    from workflows.materials import MaterialsPhase
    from workflows.money import MoneyPhase
    from workflows.order_rest import OrderRest
    from workflows.plan import PlanPhase
    from workflows.production import ProductionPhase
    from workflows.purchasing import PurchasingPhase
    from workflows.review import ReviewPhase
    from workflows.tasks import INVALID_PAYLOAD, TaskState, reject


# The patch behind which a new order's first activity writes its row (orders started before it
# replay without that activity: the gateway had written their row before starting them).
INTAKE_RECORDS_ORDER = "intake-records-order"
# The patch behind which the production work order opens when the master plan is published
# (orders started before it open theirs when their material is picked).
WORK_ORDER_WITH_PLAN = "work-order-with-plan"


@workflow.defn
class OrderWorkflow(OrderRest):
    """The life of one order, from intake to close; every human step is a task with a due time."""

    @workflow.init
    def __init__(self, inp: OrderInput) -> None:
        # A run continued from an earlier one starts from the state that one ended with.
        self.state = inp.resume or OrderState()
        self.inp = inp.model_copy(update={"resume": None})
        self._init_tasks(inp.order_no, inp.queue_prefix, self.state.tasks)
        self.change_lock = asyncio.Lock()
        self.material_lock = asyncio.Lock()
        self.money = MoneyPhase(self.state.money, self)
        self.review = ReviewPhase(self.state.review, self, self.money)
        self.plan = PlanPhase(self.state.plan, self)
        self.purchasing = PurchasingPhase(self.state.purchasing, self)
        self.materials = MaterialsPhase(self.state.materials, self)
        self.production = ProductionPhase(self.state.production, self)
        self.closing = ClosingPhase(self.state.closing, self, self.money)
        self.changes = ChangesPhase(self.state.changes, self)
        # Clocks beside the run (material control, picking due): cancelled with the order.
        self.watchers: list[asyncio.Task[None]] = []
        # The plan's milestone clocks: restarted from the state after continue-as-new.
        self.plan_watchers: list[asyncio.Task[None]] = []
        self.lifecycle: asyncio.Task[None] | None = None

    @workflow.run
    async def run(self, inp: OrderInput) -> str:
        self.lifecycle = asyncio.create_task(self._live(inp.resume is not None))
        try:
            await self.lifecycle
        except asyncio.CancelledError:
            if self.state.cancellation is None:  # Temporal cancelled the workflow itself
                raise
        if self.state.cancellation is not None:
            await workflow.wait_condition(lambda: self.state.cancelled is not None)
        self._finished = True
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.state.status

    async def _live(self, resumed: bool) -> None:
        """Every phase in order, from intake to close (or to a decline); a continued run
        starts at the stage the previous one had entered."""
        if resumed:
            self._resume()
        else:
            if workflow.patched(INTAKE_RECORDS_ORDER):
                # Intake starts this workflow before the gateway writes the order row: if the
                # gateway died in between, the row is written here (a no-op when it did not).
                await self.activity(SalesActivities.record_order, self.inp, "record the order")
            self.state.policy = await self.activity(
                PlanningActivities.load_policy, None, "read the order policy"
            )
            await self.event(
                "order_received", self.inp.received_by, f"order {self.inp.order_no} received"
            )
            await self.set_stage("review")
        if self.state.stage == "review":
            outcome = await self.review.run()
            if outcome.declined:
                await self.close_declined(outcome.reason)
                return
            self.state.due_date = outcome.delivery_date
            await self.money.deposit_gate()
            await self._enter("planning")
        if self.state.stage == "planning":
            await self.plan.run()
            # §4.2: with the master plan out, the production work order opens.
            if workflow.patched(WORK_ORDER_WITH_PLAN):
                await self.materials.open_work_order()
            await self._enter("engineering")
        if self.state.stage == "engineering":
            self.state.production.special_operations = await self.plan.release_engineering()
            await self._enter("materials")
        if self.state.stage == "materials":
            await self.materials.run()
            await self._enter(
                "production",
                reason=f"material picked; work order {self.state.materials.work_order}",
            )
            if not workflow.patched("production-to-close"):
                # Started before production was automated: it holds here, clocks running.
                await self.until(
                    lambda: False, f"in production on {self.state.materials.work_order}"
                )
        await self._produce_and_deliver()

    async def _produce_and_deliver(self) -> None:
        """P8-P10: production, final inspection, delivery, commissioning, settlement."""
        if self.state.stage == "production":
            await self.production.run()
            await self._enter("final_inspection")
        if self.state.stage == "final_inspection":
            await self.closing.final_inspection()
            # Checks of the workshop still open ask for nothing now (orders from before them
            # have none: no command).
            await self.production.workshop.checks_over()
            await self._enter("delivery", reason="passed final inspection: in finished goods")
        if self.state.stage == "delivery":
            await self.closing.deliver()
            await self._enter("commissioning")
        if self.state.stage == "commissioning":
            await self.closing.commission()
            await self._enter("closing")
        await self.closing.settle()
        await self.purchasing.bulk_settled()
        await self.until(
            lambda: (
                all(issue.state == "closed" for issue in self.state.production.issues.values())
                and not any(t.department == "procurement" for t in self.book.open_tasks())
                and self.purchasing.all_settled()
                and not self.state.materials.picking
            ),
            "waiting for open assembly issues, purchases and picking for the order to close",
        )
        await self.set_stage("closed", "closed", "settled and evaluated")

    # -- signals, updates, query ----------------------------------------------------------------

    @workflow.signal
    def material_notice(self, notice: MaterialNotice) -> None:
        """Stock reserved for the order, an NCR on its goods, or a requisition to buy."""
        if self.state.status == "active":
            self.materials.notice(notice)

    @workflow.signal
    def issue_settled(self, outcome: IssueSettled) -> None:
        """An issue from assembly tracked in its own workflow is closed, withdrawn, or handed
        back for a design change."""
        self.production.settled(outcome)

    @workflow.signal
    def requisition_settled(self, outcome: RequisitionSettled) -> None:
        """One of the order's requisitions was rejected, ordered or cancelled (§4.3-4.9)."""
        self.purchasing.settled(outcome)

    @workflow.signal
    def escalation_raised(self, esc: RaiseEscalation) -> None:
        """A workflow working for the order (an issue, a requisition) escalated."""
        self._on_escalated(esc)

    @workflow.signal
    def ship_date_due(self) -> None:
        """The weekly unshipped run (§2.6): sales gives the expected ship date."""
        if self.state.status == "active":
            self.closing.ship_date_due()

    @workflow.signal
    def payments_changed(self, total: PaymentsTotal) -> None:
        """Sales booked a payment: the ledger's total (why a signal: workflows/money.py)."""
        self.money.heard(total)

    @workflow.update
    async def report_issue(self, cmd: ReportIssue) -> IssueReported:
        """An issue reported from assembly (§8.5), tracked to closure on its own branch."""
        return self.production.report(cmd)

    @report_issue.validator
    def _validate_issue(self, cmd: ReportIssue) -> None:
        verify_actor(cmd, "report_issue")
        refusal = self.production.issue_refusal()
        if refusal:
            raise reject(Rejection.ISSUE_REFUSED, refusal)
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
        verify_actor(cmd, "change")
        problem = self.changes.violation(cmd)
        if problem:
            raise reject(INVALID_PAYLOAD, problem)
        refusal = self.changes.refusal(cmd)
        if refusal:
            raise reject(CHANGE_REFUSED, refusal)

    @workflow.update
    async def warn_delay(self, cmd: DelayWarning) -> DelayWarned:
        """The planner's delivery-delay warning with its countermeasure (§2.4)."""
        return await warn_delay(self, cmd)

    @warn_delay.validator
    def _validate_delay_warning(self, cmd: DelayWarning) -> None:
        verify_actor(cmd, "warn_delay")
        problem = warning_violation(cmd)
        if problem:
            raise reject(INVALID_PAYLOAD, problem)
        refusal = warning_refusal(self, cmd)
        if refusal:
            raise reject(Rejection.DELAY_WARNING_REFUSED, refusal)

    @workflow.update
    async def cancel(self, cmd: CancelOrder) -> CancellationResult:
        """Cancel the order at any stage: timers and branches stop, every open task is
        withdrawn, everything it holds elsewhere is unwound, and the cost comes back."""
        return await cancel_order(self, cmd)

    @cancel.validator
    def _validate_cancel(self, cmd: CancelOrder) -> None:
        verify_actor(cmd, "cancel")
        if self.state.status != "active" or self.state.cancellation is not None:
            state = "being cancelled" if self.state.cancellation else self.state.status
            raise reject(NOT_CANCELLABLE, f"{self.inp.order_no} is {state}; nothing to cancel")
        if not cmd.reason.strip():
            raise reject(NOT_CANCELLABLE, "give the reason for the cancellation")

    @workflow.query(name="state")
    def where(self) -> dict[str, Any]:
        """Where the order stands, as the workflow sees it (for operations and tests)."""
        return {
            "order_no": self.inp.order_no,
            "stage": self.state.stage,
            "status": self.state.status,
            "due_date": self.state.due_date,
            "open_tasks": [t.model_dump(mode="json") for t in self.book.open_tasks()],
            "plan_revision": self.state.plan.revision,
            "runs": self.state.runs,
            "escalated": self.state.escalated,
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
            or self.money.rule_violation(payload)
        )

    def _validate_completion(self, cmd: CompleteTask) -> None:
        """The task book's checks and the payload's rules, then the money's: who may not
        complete the task (the order audit's role, four eyes on management's approval)."""
        super()._validate_completion(cmd)
        refusal = self.money.completion_refusal(self.book.check(cmd)[0], cmd)
        if refusal:
            raise reject(*refusal)

    # -- what the phases ask of the order (OrderContext) -----------------------------------------

    def watch(self, work: Coroutine[Any, Any, None]) -> None:
        """A clock beside the run that nothing waits for (cancelled with the order)."""
        self.watchers.append(asyncio.create_task(work))

    def watch_plan(self, work: Coroutine[Any, Any, None]) -> None:
        """One of the plan's milestone clocks (restarted from the state after continue-as-new)."""
        self.plan_watchers.append(asyncio.create_task(work))

    def agree_due_date(self, day: date) -> None:
        self.state.due_date = day

    async def reforecast(self, milestone: str, new_date: date) -> None:
        await self.plan.reforecast(milestone, new_date)

    async def revise_plan(self, milestones: dict[str, date], reason: str, by: str) -> None:
        await self.plan.revise(milestones, reason, by)

    def bom_revised(self, revision: int) -> None:
        self.plan.bom_revised(revision)

    def buy(self, requisitions: list[RequisitionSummary]) -> None:
        self.purchasing.start(requisitions)

    def buy_released(self, bom_revision: int) -> None:
        self.purchasing.start_released(bom_revision)

    def notice_material(self, notice: MaterialNotice) -> None:
        self.materials.notice(notice)

    def pick_supplement(self) -> None:
        self.branch(self.materials.picking.supplement())

    def check_drawings(self) -> None:
        """The team leader's drawing check (§8.1), on its clock before the production start."""
        self.watch(self.production.workshop.drawing_check())

    def production_start_at(self) -> datetime:
        """The planned production start as runs from before working time count it: its date
        at the shift's first hour, UTC."""
        assert self.state.policy is not None
        day = self.state.plan.milestones["production_start"]
        return datetime.combine(day, time(hour=self.state.policy.shift_start_hour), tzinfo=UTC)

    async def production_start(self) -> datetime:
        """The planned production start: the first shift of its planned day in the plant's
        zone (`production_start_at` for a run from before working time)."""
        if not on_working_time():
            return self.production_start_at()
        return await self.clocks.at(day_start(self.state.plan.milestones["production_start"]))
