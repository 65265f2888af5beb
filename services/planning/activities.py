"""Planning activities: policy, proposals from the workshop's load, plan revisions, milestones."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, update
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import col
from temporalio import activity

from services.planning.milestones import open_production_windows
from services.planning.models import Milestone, PlanRevision
from services.planning.reports import PlanReportActivities
from services.planning.scheduling import (
    MILESTONE_OWNERS,
    Booking,
    Capacity,
    calendar_exceptions,
    propose_milestones,
)
from services.production.capacity import family_of, production_days_of
from services.sales.service import active_order_nos
from shared.activities import DbActivities
from shared.db import session_scope
from shared.escalations.activities import EscalationActivities
from shared.tasks.activities import TaskActivities
from shared.timeline import add_event
from shared.types import (
    DeliveryProposal,
    DeliveryProposalInput,
    MilestoneActual,
    MilestoneForecast,
    PlanProposal,
    PlanProposalInput,
    Policy,
    TimelineEvent,
)
from shared.types import PlanRevision as PlanRevisionIn
from shared.working_time.activities import ClockActivities
from shared.working_time.calendar import FactoryCalendar


def plan_today(calendar: FactoryCalendar, given: date) -> date:
    """The plant's local date a proposal counts from.

    The workflow sends the UTC date of its clock; in the plant's zone that instant may
    already be the next day (Shanghai is UTC+8), so the date is taken from the instant the
    workflow scheduled this activity, unless `given` is another day (a caller's own date)."""
    try:
        scheduled = activity.info().current_attempt_scheduled_time
    except RuntimeError:  # called outside an activity: the caller's date is all there is
        return given
    if scheduled.astimezone(UTC).date() != given:
        return given
    return calendar.local_date(scheduled)


class PlanningActivities(DbActivities):
    """The planner's automatic work; the worker registers the bound methods."""

    async def _capacity(self, order_no: str, on: date) -> Capacity:
        """The workshop's figures for the order: its product family's production days in
        effect on `on` (§8.8), else the plant's standard."""
        s = self._settings
        async with session_scope(self._engine) as session:
            family = await family_of(session, order_no=order_no)
            days = family and await production_days_of(session, family=family, on=on)
        return Capacity(
            days or s.production_days, s.inspection_days, s.ship_days, s.workshop_capacity
        )

    @activity.defn
    async def load_policy(self) -> Policy:
        """The settings an order is run by, read once so that its history replays the same."""
        s = self._settings
        return Policy(
            approval_threshold=s.approval_threshold,
            production_days=s.production_days,
            inspection_days=s.inspection_days,
            ship_days=s.ship_days,
            escalation_factor=s.sla_escalation_second_level,
            material_check_lead=s.sla_material_check_lead,
            drawings_lead=s.sla_drawings_lead,
            picking_lead=s.sla_picking_lead,
            shift_start_hour=s.shift_start_hour,
            history_events=s.order_history_events,
        )

    async def _bookings(self, order_no: str) -> list[Booking]:
        """Production windows of the other active orders' current plans."""
        async with session_scope(self._engine) as session:
            windows = await open_production_windows(session, except_order=order_no)
            active = await active_order_nos(session, among={w.order_no for w in windows})
        return [Booking(start=w.start, end=w.end) for w in windows if w.order_no in active]

    async def _propose(
        self, calendar: FactoryCalendar, figures: DeliveryProposalInput | PlanProposalInput
    ) -> tuple[dict[str, date], Capacity]:
        today = plan_today(calendar, figures.today)
        capacity = await self._capacity(figures.order_no, today)
        plan = propose_milestones(
            calendar=calendar,
            today=today,
            design_days=figures.design_days,
            lead_days=figures.lead_days,
            capacity=capacity,
            bookings=await self._bookings(figures.order_no),
        )
        return plan, capacity

    @activity.defn
    async def propose_delivery(self, figures: DeliveryProposalInput) -> DeliveryProposal:
        """A feasible delivery date: design + material lead time + the workshop's queue."""
        calendar = await self.calendar.current()
        plan, capacity = await self._propose(calendar, figures)
        ready = max(plan["material_required"], plan["drawings_release"])
        queue = calendar.working_days_between(ready, plan["production_start"])
        return DeliveryProposal(
            delivery_date=plan["ship"],
            production_start=plan["production_start"],
            queue_days=queue,
            explanation=(
                f"design {figures.design_days} working days, material {figures.lead_days} days "
                f"after BOM release, workshop queue {queue} working days, production "
                f"{capacity.production_days}, inspection {self._settings.inspection_days}, "
                f"shipping {self._settings.ship_days}"
            ),
        )

    @activity.defn
    async def propose_plan(self, figures: PlanProposalInput) -> PlanProposal:
        """The master-plan proposal and whether it meets the confirmed delivery date."""
        calendar = await self.calendar.current()
        plan, capacity = await self._propose(calendar, figures)
        shortfall = (plan["ship"] - figures.due_date).days
        # The plan rules the planner's own dates are checked by count the working days of
        # the plan's horizon (and a year past its end) with the calendar's exceptions.
        # (Five years at most: a due date at the end of time needs no calendar to it.)
        last = min(max(plan["ship"], figures.due_date), figures.today + timedelta(days=5 * 366))
        horizon = last + timedelta(days=366)
        days_off, extra_days = calendar_exceptions(calendar, figures.today, horizon)
        return PlanProposal(
            milestones=plan,
            meets_due_date=shortfall <= 0,
            shortfall_days=max(shortfall, 0),
            standard_production_days=capacity.production_days,
            days_off=days_off,
            extra_days=extra_days,
        )

    @activity.defn
    async def publish_plan(self, plan: PlanRevisionIn) -> None:
        """Store a plan revision and make its dates the milestones every department tracks."""
        async with session_scope(self._engine) as session:
            await session.execute(
                insert(PlanRevision)
                .values(
                    order_no=plan.order_no,
                    revision=plan.revision,
                    milestones={k: v.isoformat() for k, v in plan.milestones.items()},
                    due_date=plan.due_date,
                    reason=plan.reason,
                    added_manpower=plan.added_manpower,
                    created_by=plan.by,
                    created_at=plan.at,
                )
                .on_conflict_do_nothing()
            )
            # Every milestone in one statement (its read-model trigger runs once, not per row).
            milestones = insert(Milestone).values(
                [
                    {
                        "order_no": plan.order_no,
                        "name": name,
                        "owner": MILESTONE_OWNERS[name],
                        "planned": planned,
                        "forecast": plan.forecast.get(name, planned),
                        "revision": plan.revision,
                        "updated_at": plan.at,
                    }
                    for name, planned in plan.milestones.items()
                ]
            )
            await session.execute(
                milestones.on_conflict_do_update(
                    index_elements=["order_no", "name"],
                    set_={
                        "planned": milestones.excluded.planned,
                        "forecast": milestones.excluded.forecast,
                        "revision": milestones.excluded.revision,
                    },
                )
            )
            await add_event(
                session,
                key=f"{plan.order_no}:plan:{plan.revision}",
                order_no=plan.order_no,
                at=plan.at,
                kind="plan_published",
                actor=plan.by,
                summary=f"master plan revision {plan.revision} published: {plan.reason}",
                detail={
                    "revision": plan.revision,
                    "ship": plan.milestones["ship"].isoformat(),
                    "due_date": plan.due_date.isoformat(),
                    "added_manpower": plan.added_manpower,
                },
            )

    @activity.defn
    async def record_actual(self, actual: MilestoneActual) -> None:
        """Record the actual date of a milestone (kept for plan achievement)."""
        async with session_scope(self._engine) as session:
            await session.execute(
                update(Milestone)
                .where(
                    Milestone.order_no == actual.order_no,  # type: ignore[arg-type]
                    Milestone.name == actual.milestone,  # type: ignore[arg-type]
                )
                .values(actual=actual.actual, updated_at=actual.at)
            )
            await add_event(
                session,
                key=f"{actual.order_no}:actual:{actual.milestone}",
                order_no=actual.order_no,
                at=actual.at,
                kind="milestone_actual",
                actor="orderflow",
                summary=f"milestone {actual.milestone} reached on {actual.actual.isoformat()}",
                detail={"milestone": actual.milestone, "actual": actual.actual.isoformat()},
            )

    @activity.defn
    async def record_forecast(self, forecast: MilestoneForecast) -> None:
        """Move the forecast dates of an order's milestones later, never earlier.

        A workflow's re-forecasts only ever move dates later, but two milestone clocks firing
        together send their writes concurrently: the one computed first may commit last, and
        must not undo the other's later dates."""
        async with session_scope(self._engine) as session:
            for name, day in forecast.forecast.items():
                await session.execute(
                    update(Milestone)
                    .where(
                        Milestone.order_no == forecast.order_no,  # type: ignore[arg-type]
                        Milestone.name == name,  # type: ignore[arg-type]
                    )
                    .values(
                        forecast=func.greatest(col(Milestone.forecast), day),
                        updated_at=datetime.now(UTC),
                    )
                )

    @activity.defn
    async def record_event(self, event: TimelineEvent) -> None:
        """Append a step to the order's timeline."""
        async with session_scope(self._engine) as session:
            await add_event(session, **event.model_dump())


ACTIVITIES: list[type] = [
    TaskActivities,
    ClockActivities,
    EscalationActivities,
    PlanningActivities,
    PlanReportActivities,
]
