"""PromiseWatchWorkflow (§4.7, §4.9): one per PO line (id `promise-<requisition key>`), keeping
its promised date current. A configurable number of working days before the date
(`ORDERFLOW_PO_CONFIRM_DAYS`) it asks the buyer to confirm it with the supplier
(`procurement.confirm_promise`, due by the promised date); the buyer confirms it or gives the
new date. `move_promise` (`POST /procurement/purchase-orders/{po}/promise`) moves it at any
time and closes an open confirmation. A date moved past the date the material is required
warns the planner at once and moves the order's forecast, as a late promise on the PO did.

The RequisitionWorkflow has an activity start it once the line is on a PO (a child would
report its end to a requisition long closed); the API starts it again for a line whose watch
has ended (confirmed, or ordered before watches were kept) when its date moves. The watch ends
when its date is confirmed or nothing is owed on the line any more: a receipt that fills the
line tells it at once (signal `line_changed`), and while the buyer has not answered the line is
also looked at daily (a PO cancelled with its order), the question withdrawn once nothing is
owed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import date, datetime, timedelta

from temporalio import workflow
from temporalio.exceptions import FailureError

with workflow.unsafe.imports_passed_through():
    from services.procurement.promises import PromiseActivities
    from shared import payloads as p
    from shared import payloads_procurement as pp
    from shared.actor import verify_actor
    from shared.procurement_types import (
        LineWatch,
        MovePromise,
        PromiseMoved,
        PromiseWatchInput,
        RecordPromise,
    )
    from shared.task_state import TaskBookState
    from shared.types import RaiseEscalation, RequisitionSettled
    from shared.workflow_ids import order_workflow_id
    from shared.working_time.clocks import day_end, day_start
    from workflows.base import TaskWorkflow
    from workflows.requisition import (
        ESCALATION_RAISED,
        NO_ORDER,
        REQUISITION_SETTLED,
        late_supply,
    )
    from workflows.tasks import INVALID_PAYLOAD, TaskState, reject

CONFIRM_KIND = "procurement.confirm_promise"
# How long a watch the API started for a move waits for it (the API sends it at once).
MOVE_WAIT = timedelta(minutes=10)
# While the buyer has not answered, the line is looked at again each day: a question about
# goods received (or a PO cancelled with its order) meanwhile is withdrawn.
RECHECK = timedelta(days=1)


def promise_problem(promised: date, today: date) -> str | None:
    """A promised date must lie after today."""
    if promised <= today:
        return f"promised_date must be after today ({today})"
    return None


@workflow.defn
class PromiseWatchWorkflow(TaskWorkflow):
    """Ask the buyer to confirm one PO line's promised date; take its moves."""

    @workflow.init
    def __init__(self, inp: PromiseWatchInput) -> None:
        self.inp = inp
        self._init_tasks(
            inp.order_no or NO_ORDER, inp.queue_prefix, TaskBookState(seq=inp.tasks_before)
        )
        self.promised = inp.promised_date
        self.state = "watching"
        self._moving = asyncio.Lock()
        self._told_escalated = False
        self.moves = 0
        # Bumped by `line_changed` (goods received on the line): the watch looks at it again.
        self.rechecks = 0

    @workflow.run
    async def run(self, inp: PromiseWatchInput) -> str:
        if inp.for_move:
            await self.until(
                lambda: self.moves > 0,
                "waiting for the move it was started for",
                deadline=workflow.now() + MOVE_WAIT,
                timer_summary="the API sends the move this watch was started for",
            )
        # `seen` is taken before each look at the line: goods received while it is read wake
        # the watch to look again, never pass unnoticed.
        seen = self.rechecks
        line = await self._read()
        if line.promised_date is not None and not self.moves:
            self.promised = line.promised_date
        while line.open and line.confirm_days > 0:
            promised = self.promised
            asked_at = day_start(promised, -timedelta(days=line.confirm_days))
            if await self.until_clock(
                self._changed(promised, seen), asked_at, self._asking_at(promised)
            ):
                if self.rechecks != seen:  # goods came in: is anything still owed?
                    seen = self.rechecks
                    line = await self._read()
                continue  # or moved before it was time to ask: ask about the new date
            seen = self.rechecks
            line = await self._read()
            if line.open and await self._ask(promised, seen):
                break  # confirmed, or nothing is owed any more
        else:
            self.state = "closed"
        self.describe(f"promise {self.state}")
        self._finished = True
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.state

    @staticmethod
    def _asking_at(promised: date) -> Callable[[datetime], str]:
        return lambda at: f"until {at:%Y-%m-%d %H:%M}Z: {promised} to confirm"

    def _moved_from(self, promised: date) -> Callable[[], bool]:
        return lambda: self.promised != promised

    def _changed(self, promised: date, seen: int) -> Callable[[], bool]:
        """The date moved from `promised`, or goods came in since the `seen`th recheck."""
        return lambda: self.promised != promised or self.rechecks != seen

    def _answered_or_changed(
        self, task: TaskState, promised: date, seen: int
    ) -> Callable[[], bool]:
        changed = self._changed(promised, seen)
        return lambda: not task.is_open or changed()

    async def _read(self) -> LineWatch:
        line: LineWatch = await self.activity(
            PromiseActivities.watch_line,
            self.inp.requisition_key,
            f"{self.inp.po_no}: is {self.inp.item} still owed?",
        )
        return line

    async def _ask(self, promised: date, seen: int) -> bool:
        """Ask the buyer to confirm `promised` (the line was last read at the `seen`th
        recheck); True once confirmed (or once nothing is owed on the line any more: the
        question is withdrawn), False when the date moved."""
        inp = self.inp
        task = await self.book.open(
            CONFIRM_KIND,
            f"Confirm {inp.po_no}: {inp.qty} {inp.item} promised {promised}",
            {
                "po_no": inp.po_no,
                "requisition_key": inp.requisition_key,
                "item": inp.item,
                "qty": str(inp.qty),
                "order_no": inp.order_no,
                "promised_date": str(promised),
                "required_date": inp.required_date.isoformat() if inp.required_date else None,
            },
            due_clock=day_end(self.promised),
        )
        moved = self._moved_from(promised)
        while True:
            woke = await self.until(
                self._answered_or_changed(task, promised, seen),
                f"waiting for {CONFIRM_KIND}",
                deadline=workflow.now() + RECHECK,
                timer_summary=f"is {inp.item} on {inp.po_no} still owed a day on?",
            )
            if woke and (not task.is_open or moved()):
                break
            seen = self.rechecks
            if not (await self._read()).open:  # received, or the PO was cancelled
                await self.book.withdraw(task)
                self.state = "closed"
                return True
        if task.is_open:  # moved through the API meanwhile: this question is answered
            await self.book.withdraw(task)
            return False
        answer = pp.ConfirmPromise.parse(task.payload)
        by = task.completed_by or "procurement"
        if answer.promised_date != self.promised:
            await self._move(answer.promised_date, by=by, reason=answer.comment)
            return False
        await self.activity(
            PromiseActivities.record_promise,
            RecordPromise(
                requisition_key=inp.requisition_key,
                promised_date=self.promised,
                previous=self.promised,
                confirmed=True,
                reason=answer.comment,
                by=by,
                at=workflow.now(),
            ),
            f"{inp.po_no}: {inp.item} promised {self.promised}, confirmed",
        )
        self.state = "confirmed"
        return True

    @workflow.signal
    def line_changed(self) -> None:
        """Goods were received on the line: the watch looks at it again now, not a day on."""
        self.rechecks += 1

    # -- moving the date ------------------------------------------------------------------------

    @workflow.update
    async def move_promise(self, cmd: MovePromise) -> PromiseMoved:
        """Move the line's promised date; a date past the required one warns and re-forecasts."""
        return await self._move(cmd.promised_date, by=cmd.by, reason=cmd.reason)

    @move_promise.validator
    def _validate_move(self, cmd: MovePromise) -> None:
        verify_actor(cmd, "move_promise")
        problem = promise_problem(cmd.promised_date, self.today())
        if problem:
            raise reject(INVALID_PAYLOAD, problem)

    async def _move(self, new: date, *, by: str, reason: str) -> PromiseMoved:
        inp = self.inp
        async with self._moving:
            previous = self.promised
            await self.activity(
                PromiseActivities.record_promise,
                RecordPromise(
                    requisition_key=inp.requisition_key,
                    promised_date=new,
                    previous=previous,
                    reason=reason,
                    by=by,
                    at=workflow.now(),
                ),
                f"{inp.po_no}: {inp.item} now promised {new} (was {previous})",
            )
            self.promised = new
            self.moves += 1
            required = inp.required_date
            late = required is not None and self.promised > required
            if late and required is not None:
                await self._late(required)
            return PromiseMoved(
                po_no=inp.po_no,
                requisition_key=inp.requisition_key,
                item=inp.item,
                promised_date=self.promised,
                previous=previous,
                required_date=required,
                late=late,
            )

    async def _late(self, required: date) -> None:
        """Warn the planner (§4.8-4.9) and have the order move its forecast to the new date."""
        inp, promised = self.inp, self.promised
        await self.escalate(
            key=f"{inp.requisition_key}:late_supply:{promised}",
            **late_supply(inp.po_no, inp.item, promised, required, moved=True),
        )
        # The order takes a late promise into its forecast as when the PO was placed late.
        await self._tell_order(
            REQUISITION_SETTLED,
            RequisitionSettled(
                key=inp.requisition_key,
                state="ordered",
                po_no=inp.po_no,
                promised_date=promised,
                late=True,
            ),
        )

    # -- the workflow's frame -------------------------------------------------------------------

    @workflow.query
    def status(self) -> dict[str, object]:
        """Where the line's promise stands (for operations and tests)."""
        return {
            "po_no": self.inp.po_no,
            "requisition": self.inp.requisition_key,
            "promised_date": self.promised.isoformat(),
            "state": self.state,
            "open_tasks": [t.model_dump(mode="json") for t in self.book.open_tasks()],
        }

    def headline(self) -> str:
        inp = self.inp
        owner = inp.order_no or "safety stock"
        return f"**{owner}** · {inp.po_no} · {inp.qty} {inp.item} promised {self.promised}"

    def stage_of_update(self) -> str:
        return self.state

    def rule_violation(self, task: TaskState, payload: p.Payload) -> str | None:
        if isinstance(payload, pp.ConfirmPromise):
            return promise_problem(payload.promised_date, self.today())
        return None

    def _on_escalated(self, esc: RaiseEscalation) -> None:
        # The order is marked Escalated as when it raised the escalation itself; once is enough.
        if self.inp.order_no and not self._told_escalated:
            self._told_escalated = True
            self.branch(self._tell_escalated(esc))

    async def _tell_escalated(self, esc: RaiseEscalation) -> None:
        await self._tell_order(ESCALATION_RAISED, esc)

    async def _tell_order(self, signal: str, arg: object) -> None:
        """Signal the order, if it has one still running."""
        if not self.inp.order_no:
            return
        handle = workflow.get_external_workflow_handle(order_workflow_id(self.inp.order_no))
        try:
            await handle.signal(signal, arg)
        except FailureError:  # the order has ended (closed, cancelled)
            workflow.logger.info("order-%s not told %s: it has ended", self.inp.order_no, signal)
