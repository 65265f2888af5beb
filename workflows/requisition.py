"""RequisitionWorkflow (P4, §4.3-4.9): one per requisition (id `requisition-<key>`), for an
order or for safety stock. Approved where it must be (special items by the division, safety
stock by the procurement head), put on a purchase order, and a promise later than the
material-required date warns the planner at once. It tells its order by signal, so the order's
history does not grow with its BOM and the order never waits on a child's handle; one started
in bulk by procurement (issue 17) tells it only of a late promise.

`Buying` is that flow, written once: the StockReplenishmentWorkflows of earlier daily MRP runs
and the in-order branches of orders started before requisitions became children run it too.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.exceptions import FailureError

with workflow.unsafe.imports_passed_through():
    from services.procurement.activities import ProcurementActivities
    from services.procurement.promises import PromiseActivities
    from services.procurement.requisition_starts import RequisitionStartActivities
    from shared import payloads as p
    from shared.procurement_types import PromiseWatchInput
    from shared.types import (
        PlacePoInput,
        PoPlaced,
        RaiseEscalation,
        RequisitionDecision,
        RequisitionInput,
        RequisitionSettled,
        RequisitionSummary,
    )
    from shared.workflow_ids import order_workflow_id
    from workflows.base import TaskWorkflow
    from workflows.common import end_of_day
    from workflows.tasks import TaskHost, TaskState

A = TypeVar("A")
R = TypeVar("R")

# Stock bought for no order: the inbox column is NOT NULL, so its tasks carry "".
NO_ORDER = ""

# The order workflow's signals for its requisitions (see OrderWorkflow).
REQUISITION_SETTLED = "requisition_settled"
ESCALATION_RAISED = "escalation_raised"
# How long a requisition with a late promise waits for its order to move the forecast.
FORECAST_WAIT = timedelta(hours=1)
# Requisitions raised by hand (§4.4, §4.10): bought before the BOM (pre-purchase) or a
# temporary addition; like special items, the division approves them. What task titles call
# one for no order.
BY_HAND = {"pre_purchase": "as a pre-purchase", "temporary": "as a temporary addition"}
# Patch: a placed PO line gets its PromiseWatchWorkflow (histories from before start none).
PROMISE_WATCH = "promise-watch"


def promise_violation(payload: p.Payload, today: date) -> str | None:
    """A purchase order must promise a date after today."""
    if isinstance(payload, p.PlacePo) and payload.promised_date <= today:
        return f"promised_date must be after today ({today})"
    return None


def approval_kind(requisition: RequisitionSummary, order_no: str | None) -> str | None:
    """Who approves a requisition before it is bought, None when nobody need.

    Safety stock is the daily run's (§4.3, §4.5): its requisitions belong to no order and go to
    the procurement head (`procurement.stock_approval`), special or not. An order's own
    requisitions need the division leader only when special (§4.4, engineering changes
    included). An order's MRP run nets no safety stock, so no order requisition is ever a
    safety-stock one; should one come, it is bought for its order like any other, not sent to
    the stock approval (which no order's path takes). A requisition raised by hand
    (pre-purchase, temporary addition: `BY_HAND`) goes to the division as a special item does,
    with or without an order (§4.4, §4.10).
    """
    if requisition.reason in BY_HAND:
        return "procurement.special_approval"
    if order_no is None:
        return "procurement.stock_approval"
    return "procurement.special_approval" if requisition.special else None


class Buying:
    """One requisition's approval (where needed), purchase order and promised-date check,
    run by the workflow `host` that owns its tasks."""

    def __init__(
        self, host: TaskHost, requisition: RequisitionSummary, order_no: str | None
    ) -> None:
        self.host = host
        self.requisition = requisition
        self.order_no = order_no
        self.state = "open"
        self.placed: PoPlaced | None = None
        self.promised: date | None = None

    def outcome(self, *, late: bool = False) -> RequisitionSettled:
        """Where the requisition stands, as its order hears it."""
        return RequisitionSettled(
            key=self.requisition.key,
            state=self.state,
            po_no=self.placed.po_no if self.placed else None,
            promised_date=self.promised,
            late=late,
        )

    async def run(self, required: Callable[[], date | None]) -> RequisitionSettled:
        """Approve where needed, then buy; `required` is read when the PO task opens."""
        kind = approval_kind(self.requisition, self.order_no)
        if kind is not None and not await self.approved(kind):
            return self.outcome()
        return await self.place(required())

    def _for(self) -> str:
        if self.order_no:
            return f"for {self.order_no}"
        return BY_HAND.get(self.requisition.reason, "for safety stock")

    async def approved(self, kind: str) -> bool:
        """The approval task of `kind` (see `approval_kind`) and its decision, recorded."""
        host, r = self.host, self.requisition
        task = await host.book.open(
            kind, f"Approve buying {r.qty} {r.item} {self._for()}", r.model_dump(mode="json")
        )
        await host.wait_tasks(task)
        decision = p.Approval.parse(task.payload)
        self.state = "approved" if decision.approved else "rejected"
        by_hand = r.reason in BY_HAND
        what = "requisition" if self.order_no or by_hand else "safety-stock requisition"
        await host.activity(
            ProcurementActivities.decide_requisition,
            RequisitionDecision(
                requisition_key=r.key,
                state=self.state,
                by=task.completed_by or "procurement",
                comment=decision.comment,
                at=workflow.now(),
            ),
            f"{what} {r.item} {self.state}",
        )
        return decision.approved

    async def place(self, required: date | None) -> RequisitionSettled:
        """The buyer's purchase order; a promise after `required` warns the planner."""
        host, r = self.host, self.requisition
        task = await host.book.open(
            "procurement.place_po",
            f"Order {r.qty} {r.item} {self._for()}",
            {
                **r.model_dump(mode="json"),
                "required_date": required.isoformat() if required else None,
            },
        )
        await host.wait_tasks(task)
        answer = p.PlacePo.parse(task.payload)
        po = "PO" if self.order_no else "stock PO"
        self.placed = await host.activity(
            ProcurementActivities.place_po,
            PlacePoInput(
                order_no=self.order_no,
                requisition_key=r.key,
                po_no=answer.po_no,
                supplier=answer.supplier,
                promised_date=answer.promised_date,
                by=task.completed_by or "procurement",
                at=workflow.now(),
                unit_price=answer.unit_price,
            ),
            f"place {po} for {r.qty} {r.item} with {answer.supplier}",
        )
        self.state, self.promised = "ordered", answer.promised_date
        late = required is not None and answer.promised_date > required
        if late and required is not None:
            await self._late_supply(answer.promised_date, required)
        return self.outcome(late=late)

    async def _late_supply(self, promised: date, required: date) -> None:
        """A promise after the required date warns the planner at once (§4.8-4.9)."""
        assert self.placed is not None
        await self.host.escalate(
            key=f"{self.requisition.key}:late_supply",
            **late_supply(self.placed.po_no, self.requisition.item, promised, required),
        )


def late_supply(
    po_no: str, item: str, promised: date, required: date, *, moved: bool = False
) -> dict[str, Any]:
    """The planner's `late_supply` warning (§4.8-4.9) of a PO line promised after the material
    is required, as placed or (`moved`) as its buyer moved the date; the caller keys it."""
    now = "now " if moved else ""
    return {
        "kind": "late_supply",
        "level": 1,
        "department": "planning",
        "role": "planning",
        "due_at": end_of_day(required),
        "message": f"{po_no}: {item} {now}promised {promised}, "
        f"{(promised - required).days} day(s) after it is required ({required})",
    }


@workflow.defn
class RequisitionWorkflow(TaskWorkflow):
    """Approve, buy and check the promise of one requisition; returns what it came to."""

    @workflow.init
    def __init__(self, inp: RequisitionInput) -> None:
        self.inp = inp
        self._init_tasks(inp.order_no or NO_ORDER, inp.queue_prefix)
        self.buying = Buying(self, inp.requisition, inp.order_no)
        self._told_escalated = False
        self._forecast_moved = False
        self._telling: list[asyncio.Task[bool]] = []

    @workflow.run
    async def run(self, inp: RequisitionInput) -> RequisitionSettled:
        try:
            settled = await self.buying.run(lambda: inp.required_date)
            if settled.state == "ordered" and workflow.patched(PROMISE_WATCH):
                await self._watch_promise()
        except asyncio.CancelledError:
            # The order was cancelled: nothing is bought, and no inbox keeps asking for it.
            withdrawn = [task.task_id for task in self.book.open_tasks()]
            await self.book.withdraw_all()
            self.buying.state = "cancelled"
            await self._end(self.buying.outcome().model_copy(update={"withdrawn": withdrawn}))
            raise
        await self._end(settled)
        return settled

    async def _end(self, settled: RequisitionSettled) -> None:
        self.describe(f"requisition {settled.state}")
        await asyncio.gather(*self._telling)
        # Started in bulk (`tell_settled` False), the order does not count this one: it hears
        # only a late promise, which moves its forecast; its row says how it settled.
        told = (self.inp.tell_settled or settled.late) and await self._tell_order(
            REQUISITION_SETTLED, settled
        )
        if told and settled.late:
            # The buyer's completion answers once the order's forecast has moved, as it did
            # when the order placed the PO itself; the order's answer cannot be lost, the
            # timer only keeps a stuck order from holding this one.
            with contextlib.suppress(TimeoutError):
                await workflow.wait_condition(
                    lambda: self._forecast_moved,
                    timeout=FORECAST_WAIT,
                    timeout_summary=f"the order moves its forecast to {settled.promised_date}",
                )
        self._finished = True
        await workflow.wait_condition(workflow.all_handlers_finished)

    async def _watch_promise(self) -> None:
        """Start the PO line's PromiseWatchWorkflow. It outlives this one and belongs to no
        workflow (an activity starts it): its end is no event of a requisition long closed."""
        placed, promised, r = self.buying.placed, self.buying.promised, self.inp.requisition
        assert placed is not None and promised is not None
        await self.activity(
            PromiseActivities.start_watch,
            PromiseWatchInput(
                requisition_key=r.key,
                po_no=placed.po_no,
                item=placed.item,
                qty=placed.qty,
                promised_date=promised,
                order_no=self.inp.order_no,
                required_date=self.inp.required_date,
                queue_prefix=self.inp.queue_prefix,
            ),
            f"watch the promise of {placed.po_no}: {r.qty} {r.item}",
        )

    @workflow.signal
    def forecast_moved(self) -> None:
        """The order has taken a late promise into its forecast."""
        self._forecast_moved = True

    @workflow.query
    def status(self) -> dict[str, object]:
        """Where the requisition stands (for operations and tests)."""
        return {
            "requisition": self.inp.requisition.key,
            "order_no": self.inp.order_no,
            "state": self.buying.state,
            "po_no": self.buying.placed.po_no if self.buying.placed else None,
            "open_tasks": [t.model_dump(mode="json") for t in self.book.open_tasks()],
        }

    def headline(self) -> str:
        r = self.inp.requisition
        owner = self.inp.order_no or ("by hand" if r.reason in BY_HAND else "safety stock")
        return f"**{owner}** · requisition {r.qty} {r.item} · `{r.key}`"

    def stage_of_update(self) -> str:
        return self.buying.state

    def rule_violation(self, task: TaskState, payload: p.Payload) -> str | None:
        return promise_violation(payload, self.today())

    def _on_escalated(self, esc: RaiseEscalation) -> None:
        # The order is marked Escalated as when it raised the escalation itself; once is enough.
        if self.inp.order_no and not self._told_escalated:
            self._told_escalated = True
            tell = (
                self._tell_order(ESCALATION_RAISED, esc)
                if self.inp.tell_settled
                else self._tell_escalated(esc)
            )
            self._telling.append(asyncio.create_task(tell))

    async def _tell_escalated(self, esc: RaiseEscalation) -> bool:
        """Started in bulk: procurement tells the order, once for all its requisitions."""
        told: bool = await self.activity(
            RequisitionStartActivities.tell_order_escalated,
            esc,
            f"mark {self.inp.order_no} escalated unless it is already",
        )
        return told

    async def _tell_order(self, signal: str, arg: Any) -> bool:
        """Signal the order; False when there is none, or it has ended."""
        if not self.inp.order_no:
            return False
        handle = workflow.get_external_workflow_handle(order_workflow_id(self.inp.order_no))
        try:
            await handle.signal(signal, arg)
        except FailureError:  # the order has ended (closed, cancelled): nothing waits for this
            workflow.logger.info("order-%s not told %s: it has ended", self.inp.order_no, signal)
            return False
        return True
