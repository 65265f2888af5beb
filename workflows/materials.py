"""P5 material control and P7 picking: the order's side of its material.

* Completeness (P5.1): at production start - MATERIAL_CHECK_LEAD the order checks every line it
  needs from stock; missing lines open `procurement.chase_supply` tasks and warn the planner;
  the check repeats daily (and whenever stock is reserved for the order) until complete or
  production start.
* Drawings (P8.1): at production start - DRAWINGS_LEAD the drawings must be released, else
  head:engineering is escalated to.
* NCRs (§5.4): goods rejected on the order's PO leave it short; the planner decides with
  `planning.ncr_disposition` (reuse stock, new arrival date, concession request).
* Picking (P7.1) follows at production start - PICKING_LEAD (`picking.py`); all picked →
  the production work order opens.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from services.production.activities import ProductionActivities
    from services.quality.activities import QualityActivities
    from services.warehouse.activities import WarehouseActivities
    from shared import payloads as p
    from shared.material_types import (
        Completeness,
        ConcessionRequest,
        MaterialNotice,
        OpenProductionOrder,
        ReserveFree,
    )
    from shared.types import RaiseEscalation
    from workflows.picking import Picking, describe, line_context
    from workflows.tasks import TaskState, wait_until_or_deadline

if TYPE_CHECKING:
    from workflows.order import OrderWorkflow


class MaterialsPhase:
    def __init__(self, order: OrderWorkflow) -> None:
        self.order = order
        # Bumped by every reservation notice: waits for material re-check when it changes.
        self.reservations = 0
        self.status: Completeness | None = None
        self.complete = False
        self.picking_started = False
        self.picking = Picking(self)
        self.work_order: str | None = None
        self._chases: dict[str, TaskState] = {}
        self._dispositions: dict[str, TaskState] = {}
        self._warned_on: date | None = None
        self.watchers: list[asyncio.Task[None]] = []

    # -- signals ------------------------------------------------------------------------------

    def notice(self, notice: MaterialNotice) -> None:
        """A change in the order's material, signalled by inspection or the daily MRP run."""
        if notice.kind == "reserved":
            self.reservations += 1
        elif notice.kind == "ncr":
            self.order.branch(self._ncr(notice))
        elif notice.kind == "requisition" and notice.requisition is not None:
            self.order.purchasing.start([notice.requisition])

    def rule_violation(self, payload: p.Payload) -> str | None:
        today = self.order.today()
        if isinstance(payload, p.Picking):
            return self.picking.rule_violation(payload)
        if (
            isinstance(payload, p.NcrDisposition)
            and payload.action == "new_arrival"
            and (payload.expected_date is None or payload.expected_date <= today)
        ):
            return f"new_arrival needs an expected_date after today ({today})"
        if isinstance(payload, p.ChaseSupply) and payload.expected_date < today:
            return f"expected_date must not lie before today ({today})"
        return None

    # -- the phase ----------------------------------------------------------------------------

    def production_start_at(self) -> datetime:
        """The planned production start: its date at the shift's first hour."""
        assert self.order.policy is not None
        day = self.order.plan.milestones["production_start"]
        return datetime.combine(day, time(hour=self.order.policy.shift_start_hour), tzinfo=UTC)

    async def run(self) -> None:
        """Watch completeness and drawings, pick at the picking lead, then open the work order."""
        order, policy = self.order, self.order.policy
        assert policy is not None
        start = self.production_start_at()
        self.watchers.append(asyncio.create_task(self._drawings_lead(start)))
        self.watchers.append(asyncio.create_task(self._check_completeness(start)))
        pick_at = start - policy.picking_lead
        if pick_at > workflow.now():
            await order.sleep_until(
                pick_at,
                f"material control until picking at {pick_at:%Y-%m-%d %H:%M}Z "
                f"(production starts {start:%Y-%m-%d %H:%M}Z)",
            )
        await self.picking.run(start)
        if workflow.patched("material-required-actual"):
            await order.record_actual("material_required")
        self.work_order = await order.activity(
            ProductionActivities.open_production_order,
            OpenProductionOrder(
                order_no=order.inp.order_no,
                bom_revision=order.plan.bom_revision,
                planned_start=order.plan.milestones["production_start"],
                planned_end=order.plan.milestones["production_end"],
                at=workflow.now(),
            ),
            f"open the production work order of {order.inp.order_no}",
        )

    async def completeness(self) -> Completeness:
        self.status = await self.order.activity(
            WarehouseActivities.completeness,
            self.order.inp.order_no,
            f"material of {self.order.inp.order_no}, line by line",
        )
        return self.status

    # -- P5.1 completeness --------------------------------------------------------------------

    async def _check_completeness(self, start: datetime) -> None:
        order, policy = self.order, self.order.policy
        assert policy is not None
        check_at = start - policy.material_check_lead
        await wait_until_or_deadline(
            lambda: self.picking_started,
            check_at,
            f"completeness check at {check_at:%Y-%m-%d %H:%M}Z",
        )
        while workflow.now() < start and not self.picking_started:
            seen = self.reservations
            status = await self.completeness()
            await self.stop_chasing(exclude={line.item for line in status.missing})
            if status.complete:
                self.complete = True
                await order.event(
                    "material_complete",
                    "orderflow",
                    f"material complete: {len(status.lines)} line(s) reserved",
                )
                return
            await self.short(status)
            next_check = min(workflow.now() + timedelta(days=1), start)
            await wait_until_or_deadline(
                lambda seen=seen: self.reservations != seen or self.picking_started,  # type: ignore[misc]
                next_check,
                f"re-check completeness at {next_check:%Y-%m-%d %H:%M}Z",
            )

    async def stop_chasing(self, exclude: set[str]) -> None:
        """Withdraw the chases and NCR dispositions of every line no longer missing (all of
        them once everything is picked): its material is reserved."""
        for tasks in (self._chases, self._dispositions):
            for item, task in tasks.items():
                if item not in exclude:
                    await self.order.book.withdraw(task)

    async def short(self, status: Completeness) -> None:
        """Chase every missing line with procurement; warn the planner once a day."""
        order = self.order
        missing = status.missing
        for line in missing:
            chase = self._chases.get(line.item)
            if chase is None or not chase.is_open:
                task = await order.book.open(
                    "procurement.chase_supply",
                    f"Chase {line.missing} {line.item} for {order.inp.order_no}",
                    {**line_context(line), "production_start": str(self.production_start_at())},
                )
                self._chases[line.item] = task
                order.branch(self._chase(task))
        today = order.today()
        if self._warned_on == today:
            return
        self._warned_on = today
        await order.book.escalator.raise_(
            RaiseEscalation(
                key=f"{order.inp.order_no}:shortage:{today}",
                kind="material_shortage",
                level=1,
                order_no=order.inp.order_no,
                department="planning",
                role="planning",
                due_at=self.production_start_at(),
                breached_at=workflow.now(),
                message=f"{order.inp.order_no} is short of "
                + "; ".join(describe(line) for line in missing)
                + f" for its production start {self.production_start_at():%Y-%m-%d %H:%M}Z",
            )
        )

    async def _chase(self, task: TaskState) -> None:
        """The buyer's answer moves the material forecast when it comes later than planned."""
        order = self.order
        await order.until(lambda: not task.is_open, f"waiting for {task.kind}")
        if task.payload is None:  # withdrawn: the material came
            return
        answer = p.ChaseSupply.parse(task.payload)
        required = order.plan.forecast.get("material_required")
        if required and answer.expected_date > required:
            await order.plan.reforecast("material_required", answer.expected_date)

    # -- P8.1 drawings at the teams -----------------------------------------------------------

    async def _drawings_lead(self, start: datetime) -> None:
        order, policy = self.order, self.order.policy
        assert policy is not None
        deadline = start - policy.drawings_lead
        breached = await wait_until_or_deadline(
            lambda: "drawings_release" in order.actuals,
            deadline,
            f"drawings due at the teams by {deadline:%Y-%m-%d %H:%M}Z",
        )
        if not breached:
            return
        await order.book.escalator.raise_(
            RaiseEscalation(
                key=f"{order.inp.order_no}:drawings_lead",
                kind="drawings_late",
                level=1,
                order_no=order.inp.order_no,
                department="engineering",
                role="head:engineering",
                due_at=deadline,
                breached_at=workflow.now(),
                message=f"drawings of {order.inp.order_no} are not released "
                f"{_span(start - deadline)} before its production start "
                f"{start:%Y-%m-%d %H:%M}Z",
            )
        )

    # -- §5.4 nonconforming material ----------------------------------------------------------

    async def _ncr(self, notice: MaterialNotice) -> None:
        order = self.order
        status = await self.completeness()
        line = next((x for x in status.lines if x.item == notice.item), None)
        if line is None or line.missing <= 0:
            return  # covered from other stock: the order is not short because of it
        task = await order.book.open(
            "planning.ncr_disposition",
            f"{notice.ncr_no}: {order.inp.order_no} is short of {line.missing} {line.item}",
            {
                "ncr_no": notice.ncr_no,
                "defect": notice.defect,
                "rejected_qty": str(notice.qty),
                **line_context(line),
            },
        )
        self._dispositions[line.item] = task
        await order.until(lambda: not task.is_open, f"waiting for {task.kind}")
        if task.payload is None:  # withdrawn: the line was covered meanwhile
            return
        answer = p.NcrDisposition.parse(task.payload)
        by = task.completed_by or "planning"
        if answer.action == "reuse_stock":
            got: Decimal = await order.activity(
                WarehouseActivities.reserve_free,
                ReserveFree(order_no=order.inp.order_no, item=line.item, by=by, at=workflow.now()),
                f"reuse free stock of {line.item} for {order.inp.order_no}",
            )
            if got > 0:
                self.reservations += 1
        elif answer.action == "new_arrival" and answer.expected_date:
            required = order.plan.forecast.get("material_required")
            if required is None or answer.expected_date > required:
                await order.plan.reforecast("material_required", answer.expected_date)
        elif answer.action == "concession" and notice.ncr_no:
            await order.activity(
                QualityActivities.request_concession,
                ConcessionRequest(
                    ncr_no=notice.ncr_no, order_no=order.inp.order_no, by=by, at=workflow.now()
                ),
                f"ask quality for a concession on {notice.ncr_no}",
            )


def _span(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours:.0f} h" if hours < 48 else f"{hours / 24:.0f} days"
