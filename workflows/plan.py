"""P2 Master plan (§2): proposal, the planner's plan, renegotiation when it misses the date,
numbered revisions, milestone timers and the delivery-delay warning."""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from services.engineering.activities import EngineeringActivities
    from services.planning.activities import PlanningActivities
    from services.planning.scheduling import (
        MILESTONE_OWNERS,
        shift_forecast,
        weekdays_between,
    )
    from services.procurement.activities import ProcurementActivities
    from shared import payloads as p
    from shared.notices import PLAN_REVISED
    from shared.types import (
        BomRelease,
        BomReleased,
        DrawingsRelease,
        MilestoneForecast,
        MrpRun,
        MrpRunResult,
        PlanProposalInput,
        PlanRevision,
    )
    from shared.working_time.clocks import day_end
    from workflows.clocks import due_by, on_working_time
    from workflows.common import end_of_day
    from workflows.purchasing import REQUISITIONS_IN_BULK
    from workflows.tasks import TaskState

if TYPE_CHECKING:
    from shared.order_state import PlanState
    from workflows.context import OrderContext


class PlanPhase:
    """P2-P3 on the order's `PlanState`; the only writer of the plan, its forecast and the
    order's BOM revision."""

    def __init__(self, state: PlanState, ctx: OrderContext) -> None:
        self.state, self.ctx = state, ctx

    async def run(self) -> None:
        """Propose, let the planner accept or edit, renegotiate if it misses, then publish."""
        order, inp, figures = self.ctx, self.ctx.inp, self.ctx.state.review
        assert order.state.due_date is not None
        self.state.proposal = await order.activity(
            PlanningActivities.propose_plan,
            PlanProposalInput(
                order_no=inp.order_no,
                today=order.today(),
                design_days=figures.design_days,
                lead_days=figures.lead_days,
                due_date=order.state.due_date,
            ),
            "propose the master plan from review figures and workshop load",
        )
        task = await order.book.open(
            "planning.master_plan",
            f"Master plan of {inp.order_no}",
            {
                "proposal": {k: v.isoformat() for k, v in self.state.proposal.milestones.items()},
                "due_date": order.state.due_date.isoformat(),
                "meets_due_date": self.state.proposal.meets_due_date,
                "shortfall_days": self.state.proposal.shortfall_days,
                "standard_production_days": self.state.proposal.standard_production_days,
            },
        )
        await order.wait_tasks(task)
        answer = p.MasterPlan.parse(task.payload)
        plan = self.state.proposal.milestones if answer.accept_proposal else answer.milestones
        assert plan is not None
        milestones = plan if isinstance(plan, dict) else plan.as_dict()
        reason = answer.reason or (
            "proposal accepted" if answer.accept_proposal else "planner's plan"
        )
        if answer.added_manpower:
            reason += f", {answer.added_manpower} added to the crew"
        await self.publish(
            milestones, reason, task.completed_by or "planning", answer.added_manpower
        )
        if milestones["ship"] > order.state.due_date:
            await self._renegotiate(milestones["ship"])
        await self._resolve_milestones()
        self._start_watchers()

    async def _renegotiate(self, plan_ship: date) -> None:
        """The plan cannot meet the confirmed date: sales agrees a new one with the customer."""
        order = self.ctx
        task = await order.book.open(
            "sales.renegotiate_delivery",
            f"Renegotiate delivery of {order.inp.order_no}: plan ships {plan_ship}",
            {"plan_ship": plan_ship.isoformat(), "due_date": str(order.state.due_date)},
        )
        await order.wait_tasks(task)
        answer = p.RenegotiateDelivery.parse(task.payload)
        order.agree_due_date(answer.new_date)
        await order.set_stage("planning", reason=f"delivery renegotiated to {answer.new_date}")
        ref = (
            f" (customer ref {answer.customer_confirmation_ref})"
            if answer.customer_confirmation_ref
            else ""
        )
        await self.publish(
            self.state.milestones,
            f"delivery date renegotiated to {answer.new_date}{ref}",
            task.completed_by or "sales",
            None,
        )

    def rule_violation(self, payload: p.Payload) -> str | None:
        """Rules of the plan's payloads that need the order's figures."""
        today = self.ctx.today()
        if isinstance(payload, p.MasterPlan) and payload.milestones is not None:
            dates = payload.milestones.as_dict()
            if min(dates.values()) < today:
                return f"milestones must not lie before today ({today})"
            proposal = self.state.proposal
            window = weekdays_between(
                dates["production_start"],
                dates["production_end"],
                set(proposal.days_off) if proposal else set(),
                set(proposal.extra_days) if proposal else set(),
            )
            standard = proposal.standard_production_days if proposal else 0
            if window < standard and not payload.added_manpower:
                return (
                    f"production takes {standard} working days with the standard crew; this plan "
                    f"gives {window}: record added_manpower or widen the window"
                )
        if isinstance(payload, p.RenegotiateDelivery):
            ship = self.state.milestones.get("ship")
            if ship and payload.new_date < ship:
                return f"new_date must not fall before the plan's ship date {ship}"
        return None

    async def publish(
        self, milestones: dict[str, date], reason: str, by: str, added_manpower: int | None
    ) -> None:
        """Publish the next numbered revision to every department (§2.5)."""
        order = self.ctx
        assert order.state.due_date is not None
        self.state.revision += 1
        self.state.milestones = dict(milestones)
        self.state.forecast = {k: order.state.actuals.get(k, v) for k, v in milestones.items()}
        await order.activity(
            PlanningActivities.publish_plan,
            PlanRevision(
                order_no=order.inp.order_no,
                revision=self.state.revision,
                milestones=self.state.milestones,
                forecast=self.state.forecast,
                due_date=order.state.due_date,
                reason=reason,
                added_manpower=added_manpower,
                by=by,
                at=workflow.now(),
            ),
            f"publish plan revision {self.state.revision}: {reason}",
        )
        await order.notify_customer(
            PLAN_REVISED,
            f"r{self.state.revision}",
            revision=self.state.revision,
            reason=reason,
            milestones=self.state.milestones,
            forecast_ship=self.state.forecast.get("ship"),
            due_date=order.state.due_date,
        )

    async def revise(self, milestones: dict[str, date], reason: str, by: str) -> None:
        """A new revision after the plan is running (a customer change): published, with the
        forecast kept where it already ran later, and the milestone clocks on the new dates."""
        before = dict(self.state.forecast)
        await self.publish(milestones, reason, by, None)
        kept = {k: max(v, before.get(k, v)) for k, v in self.state.forecast.items()}
        if kept != self.state.forecast:
            self.state.forecast = kept
            await self.ctx.activity(
                PlanningActivities.record_forecast,
                MilestoneForecast(order_no=self.ctx.inp.order_no, forecast=self.state.forecast),
                f"forecast kept on revision {self.state.revision}: "
                f"ship {self.state.forecast.get('ship')}",
            )
        if self.state.watching:  # the plan's clocks run already: they follow the new revision
            await self._resolve_milestones()
            self._start_watchers()
        await self._warn_if_late()

    async def release_engineering(self) -> list[str]:
        """Open BOM and drawings release, due at the plan's dates; record their actuals.
        Returns the special operations the released BOM names (production's to sign)."""
        order = self.ctx
        bom = await order.book.open(
            "engineering.release_bom",
            f"Release the BOM of {order.inp.order_no}",
            {"plan_date": self.state.milestones["bom_release"].isoformat()},
            **due_by(self.state.milestones["bom_release"]),
        )
        drawings = await order.book.open(
            "engineering.release_drawings",
            f"Release the drawings of {order.inp.order_no}",
            {"plan_date": self.state.milestones["drawings_release"].isoformat()},
            **due_by(self.state.milestones["drawings_release"]),
        )
        # Drawings follow on their own clock (P3.2), released before or after the BOM.
        order.branch(self._store_drawings(drawings))
        await order.until(lambda: not bom.is_open, "waiting for the BOM release")
        assert bom.payload is not None
        special_operations = list(bom.payload.get("special_operations", []))
        if order.change_lock.locked():  # a customer change being taken in finishes first
            await workflow.wait_condition(lambda: not order.change_lock.locked())
        # A change taken in meanwhile waits for this MRP run.
        async with order.material_lock:
            mrp = await self._release_and_plan(bom)
        if workflow.patched(REQUISITIONS_IN_BULK):
            # Procurement starts the requisitions MRP stored, read from the database (issue
            # 17): no list that grows with the BOM passes through the order.
            if mrp.requisition_count:
                order.buy_released(self.state.bom_revision)
        else:
            order.buy(mrp.requisitions)
        await order.record_actual("design_done")
        await order.record_actual("bom_release")
        return special_operations

    async def _release_and_plan(self, bom: TaskState) -> MrpRunResult:
        """Store the released BOM and run MRP on it."""
        order = self.ctx
        assert bom.payload is not None
        released: BomReleased = await order.activity(
            EngineeringActivities.release_bom,
            BomRelease(
                order_no=order.inp.order_no,
                task_id=bom.task_id,
                # A draft's lines stay in the database: only its id travels.
                lines=bom.payload.get("lines") or [],
                draft_id=bom.payload.get("draft_id"),
                by=bom.completed_by or "engineering",
                at=workflow.now(),
            ),
            f"store the BOM of {order.inp.order_no} and add new items to the item master",
        )
        self.state.bom_revision = released.revision
        return await order.activity(
            ProcurementActivities.run_mrp,
            MrpRun(
                order_no=order.inp.order_no,
                bom_revision=released.revision,
                required_date=self.state.milestones.get("material_required"),
                at=workflow.now(),
            ),
            f"MRP on BOM revision {released.revision} of {order.inp.order_no}",
        )

    async def _store_drawings(self, drawings: TaskState) -> None:
        order = self.ctx
        await order.until(lambda: not drawings.is_open, "waiting for the drawings release")
        assert drawings.payload is not None
        await order.activity(
            EngineeringActivities.release_drawings,
            DrawingsRelease(
                order_no=order.inp.order_no,
                task_id=drawings.task_id,
                drawings=drawings.payload["drawings"],
                by=drawings.completed_by or "engineering",
                at=workflow.now(),
            ),
            f"store the drawing set of {order.inp.order_no}",
        )
        released_on = (drawings.completed_at or workflow.now()).date()
        await order.record_actual("drawings_release", released_on)

    # -- milestone tracking (§2.3, §2.4) ---------------------------------------------------

    async def _resolve_milestones(self) -> None:
        """The ends of the plan's working days, resolved at once for its milestone clocks."""
        if on_working_time():
            days = sorted(set(self.state.milestones.values()))
            await self.ctx.clocks.resolve([day_end(day) for day in days])

    def _start_watchers(self) -> None:
        self.state.watching = True
        for name, planned in self.state.milestones.items():
            if name not in self.ctx.state.actuals:
                self.ctx.watch_plan(self._watch_milestone(name, planned, self.state.revision))

    def bom_revised(self, revision: int) -> None:
        """A design or customer change made the order's BOM this revision."""
        self.state.bom_revision = revision

    def resume(self) -> None:
        """After continue-as-new: the milestone clocks of the running plan watch again."""
        if self.state.watching:
            self._start_watchers()

    async def _watch_milestone(self, name: str, planned: date, revision: int) -> None:
        order = self.ctx
        done = await order.clocks.wait(
            lambda: name in order.state.actuals or self.state.revision != revision,
            day_end(planned),
            lambda at: f"milestone {name} planned {planned}",
            legacy=end_of_day(planned),
        )
        if done:
            return
        deadline = (
            await order.clocks.at(day_end(planned)) if on_working_time() else end_of_day(planned)
        )
        owner = MILESTONE_OWNERS[name]
        await order.escalate(
            key=f"{order.inp.order_no}:milestone:{name}:r{revision}",
            kind="milestone_overdue",
            level=1,
            department=owner,
            role=f"head:{owner}",
            due_at=deadline,
            message=f"milestone {name} of {order.inp.order_no} was planned for {planned} "
            "and has no actual date",
        )
        await self.reforecast(name, order.today() + timedelta(days=1))

    async def reforecast(self, name: str, new_date: date) -> None:
        order = self.ctx
        self.state.forecast = shift_forecast(
            self.state.milestones, self.state.forecast, name, new_date
        )
        await order.activity(
            PlanningActivities.record_forecast,
            MilestoneForecast(order_no=order.inp.order_no, forecast=self.state.forecast),
            f"re-forecast from {name}: ship {self.state.forecast['ship']}",
        )
        await self._warn_if_late()

    async def _warn_if_late(self) -> None:
        """Delay warning (§2.4): forecast finish past the due date warns sales and division."""
        order, ship = self.ctx, self.state.forecast.get("ship")
        if not ship or not order.state.due_date or ship <= order.state.due_date:
            return
        if self.state.delay_warned and ship <= self.state.delay_warned:
            return
        self.state.delay_warned = ship
        late = (ship - order.state.due_date).days
        for level, role, department in ((1, "sales", "sales"), (2, "division", "planning")):
            await order.escalate(
                key=f"{order.inp.order_no}:delay:{ship}:{role}",
                kind="delivery_delay",
                level=level,
                department=department,
                role=role,
                due_at=end_of_day(order.state.due_date),
                message=f"{order.inp.order_no} now forecast to ship {ship}, {late} day(s) "
                f"after its due date {order.state.due_date}",
            )
