"""P5 material control and P7 picking: the order's side of its material.

* Completeness (P5.1): at production start - MATERIAL_CHECK_LEAD the order checks every line it
  needs from stock; missing lines open `procurement.chase_supply` tasks and warn the planner;
  the check repeats daily (and whenever stock is reserved for the order) until complete or
  production start.
* Drawings (P8.1): at production start - DRAWINGS_LEAD the drawings must be released, else
  head:engineering is escalated to.
* NCRs (§5.4): goods rejected on the order's PO, or found nonconforming in assembly and
  taken from it, leave it short; the planner decides with `planning.ncr_disposition` (reuse
  stock, new arrival date, concession request). What replaces goods taken in assembly is
  picked for production as it comes in.
* Work order (§4.2): opened when the master plan is published (`open_work_order`); all
  picked (P7.1, `picking.py`, at production start - PICKING_LEAD) → it is `picked`, built to
  the released BOM. Orders from before then open it here, when all is picked.
* Drawing check (§8.1) at production start - DRAWINGS_LEAD: `workshop.py`.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
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
        MaterialQuery,
        MaterialSummary,
        OpenProductionOrder,
        ReserveFree,
        summarize,
    )
    from shared.production_types import WorkOrderStep
    from shared.working_time.clocks import ClockSpec, after, day_start
    from workflows import chasing
    from workflows.clocks import on_working_time
    from workflows.picking import Picking, line_context
    from workflows.tasks import wait_for
    from workflows.workshop import WORKSHOP_CHECKS

# Patch: the daily re-checks run at the start of each working day before production start,
# their clocks resolved once (runs from before resolved "a day on" for every re-check).
RECHECK_CLOCKS = "recheck-clocks"
DAY = timedelta(days=1)
# Patch: the order reads its material as a summary (`material_summary`: counts and the first
# `SAMPLE` lines of each kind) instead of every line (`completeness`), chases the lines past
# those on their own in one task, and picks a long list by reference (issue 17).
MATERIAL_SUMMARY = "material-summary"
SAMPLE = 20

if TYPE_CHECKING:
    from shared.order_state import MaterialsState
    from workflows.context import OrderContext


class MaterialsPhase:
    """P5-P7 on the order's `MaterialsState`."""

    def __init__(self, state: MaterialsState, ctx: OrderContext) -> None:
        self.state, self.ctx = state, ctx
        self.picking = Picking(self)
        # A supplementary picking round is queued for goods an assembly NCR took.
        self._pick_queued = False

    # -- signals ------------------------------------------------------------------------------

    def notice(self, notice: MaterialNotice) -> None:
        """A change in the order's material, signalled by inspection or the daily MRP run."""
        if notice.kind == "reserved":
            self.state.reservations += 1
        elif notice.kind == "ncr":
            self.ctx.branch(self._ncr(notice))
            if notice.found_in == "assembly" and self.state.picking_started:
                self._pick_again()
        elif notice.kind == "requisition" and notice.requisition is not None:
            self.ctx.buy([notice.requisition])

    def _pick_again(self) -> None:
        """Goods the order had picked left it: their replacement is picked as it comes in. A
        round under way is woken to re-check its lines (as a reservation wakes it); one more
        is queued otherwise."""
        if self.state.picking:
            self.state.reservations += 1
            return
        if self._pick_queued:
            return
        self._pick_queued = True
        self.ctx.branch(self._supplement())

    async def _supplement(self) -> None:
        try:
            await self.picking.supplement()
        finally:
            self._pick_queued = False

    def rule_violation(self, payload: p.Payload) -> str | None:
        today = self.ctx.today()
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

    async def run(self) -> None:
        """Watch completeness and drawings, pick at the picking lead, then open the work order."""
        order, policy = self.ctx, self.ctx.state.policy
        assert policy is not None
        if on_working_time():  # the phase's clocks, resolved at once
            day = order.state.plan.milestones["production_start"]
            leads = (policy.picking_lead, policy.material_check_lead, policy.drawings_lead)
            await order.clocks.resolve([day_start(day), *(self._before_start(x) for x in leads)])
        start = await self.ctx.production_start()
        self.ctx.watch(self._drawings_lead(start))
        self.ctx.watch(self._check_completeness(start))
        if workflow.patched(WORKSHOP_CHECKS):
            self.ctx.check_drawings()
        pick_at = start - policy.picking_lead
        if on_working_time():
            # The picking lead is working time: half a working day before an 08:00 start is
            # the previous working afternoon.
            await order.until_clock(
                lambda: False,
                self._before_start(policy.picking_lead),
                lambda at: (
                    f"material control until picking at {at:%Y-%m-%d %H:%M}Z "
                    f"(production starts {start:%Y-%m-%d %H:%M}Z)"
                ),
            )
        elif pick_at > workflow.now():
            await order.sleep_until(
                pick_at,
                f"material control until picking at {pick_at:%Y-%m-%d %H:%M}Z "
                f"(production starts {start:%Y-%m-%d %H:%M}Z)",
            )
        await self.picking.run(start)
        if workflow.patched("material-required-actual"):
            await order.record_actual("material_required")
        if self.state.work_order is None:  # started before the work order came with the plan
            await self.open_work_order()
            return
        plan = order.state.plan
        await order.activity(
            ProductionActivities.work_order_step,
            WorkOrderStep(
                order_no=order.inp.order_no,
                state="picked",
                at=workflow.now(),
                bom_revision=plan.bom_revision,
                planned_start=plan.milestones["production_start"],
                planned_end=plan.milestones["production_end"],
            ),
            f"material of work order {self.state.work_order} picked "
            f"(BOM revision {plan.bom_revision})",
        )

    async def open_work_order(self) -> None:
        """The order's production work order (§4.2), for the plan's production window."""
        order = self.ctx
        self.state.work_order = await order.activity(
            ProductionActivities.open_production_order,
            OpenProductionOrder(
                order_no=order.inp.order_no,
                bom_revision=order.state.plan.bom_revision,
                planned_start=order.state.plan.milestones["production_start"],
                planned_end=order.state.plan.milestones["production_end"],
                at=workflow.now(),
            ),
            f"open the production work order of {order.inp.order_no}",
        )

    async def completeness(self, item: str | None = None) -> MaterialSummary:
        """The order's material: counts and the first lines of each kind (or the line of
        `item`); a run from before the summary reads every line and sees all of them."""
        order_no = self.ctx.inp.order_no
        if workflow.patched(MATERIAL_SUMMARY):
            summary: MaterialSummary = await self.ctx.activity(
                WarehouseActivities.material_summary,
                MaterialQuery(order_no=order_no, item=item, sample=SAMPLE),
                f"material of {order_no}" + (f": {item}" if item else ", in counts"),
            )
            return summary
        status: Completeness = await self.ctx.activity(
            WarehouseActivities.completeness,
            order_no,
            f"material of {order_no}, line by line",
        )
        return summarize(status, None, item)

    def _before_start(self, lead: timedelta) -> ClockSpec:
        """The clock `lead` of working time before the planned production start."""
        return day_start(self.ctx.state.plan.milestones["production_start"], -lead)

    async def _a_day_on(self) -> datetime:
        """A day from now: the same time on the next working day (a wall-clock day for a run
        from before working time)."""
        if not on_working_time():
            return workflow.now() + timedelta(days=1)
        return await self.ctx.clocks.at(after(workflow.now(), timedelta(days=1)))

    # -- P5.1 completeness --------------------------------------------------------------------

    async def _check_completeness(self, start: datetime) -> None:
        order, policy = self.ctx, self.ctx.state.policy
        assert policy is not None
        await self.ctx.clocks.wait(
            lambda: self.state.picking_started,
            self._before_start(policy.material_check_lead),
            lambda at: f"completeness check at {at:%Y-%m-%d %H:%M}Z",
            legacy=start - policy.material_check_lead,
        )
        while workflow.now() < start and not self.state.picking_started:
            seen = self.state.reservations
            status = await self.completeness()
            await self.stop_chasing(status)
            if status.complete:
                self.state.complete = True
                await order.event(
                    "material_complete",
                    "orderflow",
                    f"material complete: {status.lines} line(s) reserved",
                )
                return
            await self.short(status)
            if on_working_time() and workflow.patched(RECHECK_CLOCKS):
                next_check = await self._next_check(start)
            else:
                next_check = min(await self._a_day_on(), start)
            await wait_for(
                lambda seen=seen: self.state.reservations != seen or self.state.picking_started,  # type: ignore[misc]
                next_check,
                f"re-check completeness at {next_check:%Y-%m-%d %H:%M}Z",
            )

    async def _next_check(self, start: datetime) -> datetime:
        """The next daily re-check: the start of each working day from the completeness check
        to production start, all resolved by the first re-check's one activity (later days
        read them from the clock book), so a waiting day costs its timer and its check."""
        policy = self.ctx.state.policy
        assert policy is not None
        lead, clocks = policy.material_check_lead, self.ctx.clocks
        specs = [self._before_start(lead - DAY * k) for k in range(1, math.ceil(lead / DAY))]
        unresolved = clocks.book.stale or any(s.key not in clocks.book.instants for s in specs)
        if specs and unresolved:
            await clocks.resolve(specs)
        now = workflow.now()
        later = [at for at in [await clocks.at(spec) for spec in specs] if at > now]
        return min([*later, start])

    async def stop_chasing(self, status: MaterialSummary | None) -> None:
        """Withdraw the chases of lines no longer missing (all of them with None)."""
        await chasing.stop_chasing(self, status)

    async def short(self, status: MaterialSummary) -> None:
        """Chase the missing lines with procurement; warn the planner of the shortage."""
        await chasing.short(self, status)

    # -- P8.1 drawings at the teams -----------------------------------------------------------

    async def _drawings_lead(self, start: datetime) -> None:
        order, policy = self.ctx, self.ctx.state.policy
        assert policy is not None
        lead = self._before_start(policy.drawings_lead)
        done = await order.clocks.wait(
            lambda: "drawings_release" in order.state.actuals,
            lead,
            lambda at: f"drawings due at the teams by {at:%Y-%m-%d %H:%M}Z",
            legacy=start - policy.drawings_lead,
        )
        if done:
            return
        legacy = start - policy.drawings_lead
        deadline = await order.clocks.at(lead) if on_working_time() else legacy
        await order.escalate(
            key=f"{order.inp.order_no}:drawings_lead",
            kind="drawings_late",
            level=1,
            department="engineering",
            role="head:engineering",
            due_at=deadline,
            message=f"drawings of {order.inp.order_no} are not released "
            f"{_span(start - deadline)} before its production start "
            f"{start:%Y-%m-%d %H:%M}Z",
        )

    # -- §5.4 nonconforming material ----------------------------------------------------------

    async def _ncr(self, notice: MaterialNotice) -> None:
        order = self.ctx
        line = (await self.completeness(notice.item)).line
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
        self.state.dispositions[line.item] = task.task_id
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
                self.state.reservations += 1
        elif answer.action == "new_arrival" and answer.expected_date:
            required = order.state.plan.forecast.get("material_required")
            if required is None or answer.expected_date > required:
                await order.reforecast("material_required", answer.expected_date)
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
