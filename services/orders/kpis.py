"""The KPIs the factory reads (PROCESS "KPIs the factory reads"), each computed in SQL over the
tables the departments already keep.

Definitions (the README's "KPIs and plan reports" says the same for readers):
- plan achievement: a milestone of an order's current plan is due in a period when its planned
  date falls in it, and met when its actual date is on or before the planned one; per owning
  department (`MILESTONE_OWNERS`), every owner listed even with nothing due. A cancelled or
  declined order's milestones that were never reached are not due any more.
- on-time delivery: orders whose `ship` actual falls in the month; on time when that actual is
  on or before the order's due date.
- incoming inspection: lots whose result was recorded in the month; within SLA as the
  inspection recorded it; hours from the request to the result.
- design change: DCNs issued in the month, except the `CHG-` ones (customer scope changes, not
  design problems); hours from the confirmed design problem to the DCN.
- shortages: see `SHORTAGE_CAUSES`.
- first-pass yield: round 1 of final inspection, inspected in the month.
- open escalations: open at `as_of` (breached by then, not yet acknowledged), by age since the
  breach and by level.
Rates are rounded to four places, hours to two; over nothing they are null.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    DateTime,
    Float,
    Numeric,
    String,
    Table,
    and_,
    distinct,
    func,
    literal,
    or_,
    select,
    union,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from services.engineering.models import DesignChangeNotice
from services.orders.kpi_rows import Single, together
from services.orders.kpi_schemas import (
    DesignChangeKpi,
    FirstPassYield,
    IncomingInspectionKpi,
    Kpis,
    OnTimeDelivery,
    OpenEscalations,
    PlanAchievement,
    ShortagesKpi,
)
from services.planning.models import Milestone
from services.planning.report_schemas import DepartmentAchievement
from services.planning.scheduling import MILESTONE_OWNERS
from services.production.models import ProductionIssue
from services.quality.models import FinalInspection, Inspection, Ncr
from services.sales.models import Order
from shared.escalations.models import OPEN, Escalation
from shared.periods import Period


def _table(model: Any) -> Table:
    return cast(Table, model.__table__)


MILESTONES = _table(Milestone)
ORDERS = _table(Order)
INSPECTIONS = _table(Inspection)
NCRS = _table(Ncr)
FINAL_INSPECTIONS = _table(FinalInspection)
DESIGN_CHANGES = _table(DesignChangeNotice)
ISSUES = _table(ProductionIssue)
ESCALATIONS = _table(Escalation)

# Orders whose unreached milestones are no longer due.
ENDED_UNFINISHED = ("cancelled", "declined")
# DCN issue numbers of customer scope changes (workflows/changes.py), not design problems.
CUSTOMER_CHANGE_PREFIX = "CHG-"

# A shortage event of an order in the month, by cause; each counted once:
# - late_supply: a PO promised after the material is required (escalation, one per requisition)
# - material_shortage: the material check found the order short (escalation; it repeats daily
#   while the shortage lasts, so it counts once per order and month)
# - short_pick: picking came up short (escalation to planning and procurement: once per pick)
# - delivery_refused: goods refused at receipt (escalation, one per receipt; stock deliveries
#   of no order are left out)
# - nonconforming_material: an NCR on goods bought for the order
# - missing_part: a missing part reported from assembly (production issue)
SHORTAGE_CAUSES: tuple[str, ...] = (
    "late_supply",
    "material_shortage",
    "short_pick",
    "delivery_refused",
    "nonconforming_material",
    "missing_part",
)

# Age buckets of open escalations: name and upper bound (the last has none).
AGE_BUCKETS: tuple[tuple[str, timedelta | None], ...] = (
    ("under_1d", timedelta(days=1)),
    ("1_to_3d", timedelta(days=3)),
    ("3_to_7d", timedelta(days=7)),
    ("over_7d", None),
)
LEVELS: tuple[int, ...] = (1, 2)

# -- SQL building blocks ----------------------------------------------------------------------


def _rate(
    part: ColumnElement[Any], whole: ColumnElement[Any], places: int = 4
) -> ColumnElement[Any]:
    """part / whole rounded to `places`; NULL when whole is 0."""
    return func.round(part.cast(Numeric) / func.nullif(whole, 0), places)


def _hours(start: ColumnElement[Any], end: ColumnElement[Any]) -> ColumnElement[Any]:
    return (func.extract("epoch", end - start) / 3600).cast(Float)


def _percentile(fraction: float, hours: ColumnElement[Any]) -> ColumnElement[Any]:
    """The continuous percentile of `hours`, rounded to two places."""
    return func.round(func.percentile_cont(fraction).within_group(hours).cast(Numeric), 2)


def _within(stamp: ColumnElement[Any], period: Period) -> ColumnElement[bool]:
    return and_(stamp >= period.start_at, stamp < period.end_at)


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


# -- the KPIs ---------------------------------------------------------------------------------


async def plan_achievement(session: AsyncSession, *, period: Period) -> list[DepartmentAchievement]:
    """Milestones due and met in `period` per owning department, every owner listed."""
    return (await plan_achievements(session, periods=(period,)))[0]


async def plan_achievements(
    session: AsyncSession, *, periods: Sequence[Period]
) -> list[list[DepartmentAchievement]]:
    """`plan_achievement` of each of `periods`, in one statement (one pass over milestones)."""
    m, o = MILESTONES, ORDERS
    # The owners as two bound arrays (unnest), not a VALUES list: a statement with VALUES data
    # has no cache key and is compiled again on every call.
    names, departments = zip(*sorted(MILESTONE_OWNERS.items()), strict=True)
    owners = (
        func.unnest(literal(list(names), ARRAY(String)), literal(list(departments), ARRAY(String)))
        .table_valued("name", "department")
        .render_derived(name="owners")
    )
    # An unreached milestone of a cancelled or declined order is not due; one of no order (or
    # of any other) is. Asked only for the milestones without an actual, by the status index,
    # instead of joining every order.
    ended = (
        select(o.c.order_no)
        .where(o.c.order_no == m.c.order_no, o.c.status.in_(ENDED_UNFINISHED))
        .exists()
    )
    due_here = (
        select(m.c.name, m.c.planned, m.c.actual)
        .where(
            or_(*(and_(m.c.planned >= p.start, m.c.planned < p.end) for p in periods)),
            or_(m.c.actual.is_not(None), ~ended),
        )
        .subquery("due_here")
    )
    columns: list[ColumnElement[Any]] = []
    for p in periods:
        within = and_(due_here.c.planned >= p.start, due_here.c.planned < p.end)
        due = func.count(due_here.c.name).filter(within)
        met = func.count(due_here.c.name).filter(within, due_here.c.actual <= due_here.c.planned)
        columns += [due, met, _rate(met, due)]
    rows = (
        await session.execute(
            select(owners.c.department, *columns)
            .select_from(owners.outerjoin(due_here, due_here.c.name == owners.c.name))
            .group_by(owners.c.department)
            .order_by(owners.c.department)
        )
    ).all()
    return [
        [
            DepartmentAchievement(
                department=row[0],
                due=row[at + 1],
                met=row[at + 2],
                rate=_float(row[at + 3]),
            )
            for row in rows
        ]
        for at in range(0, 3 * len(periods), 3)
    ]


def _on_time_delivery(period: Period) -> Single[OnTimeDelivery]:
    m, o = MILESTONES, ORDERS
    shipped = func.count()
    on_time = func.count().filter(o.c.due_date.is_not(None), m.c.actual <= o.c.due_date)
    query = (
        select(shipped, on_time, _rate(on_time, shipped))
        .select_from(m.join(o, o.c.order_no == m.c.order_no))
        .where(m.c.name == "ship", m.c.actual >= period.start, m.c.actual < period.end)
    )
    return Single(
        query, lambda row: OnTimeDelivery(shipped=row[0], on_time=row[1], rate=_float(row[2]))
    )


async def on_time_delivery(session: AsyncSession, *, period: Period) -> OnTimeDelivery:
    """Orders shipped in `period` and how many of them by their due date."""
    return await _on_time_delivery(period).run(session)


def _incoming_inspection(period: Period) -> Single[IncomingInspectionKpi]:
    i = INSPECTIONS
    inspected = func.count()
    within = func.count().filter(i.c.within_sla.is_(True))
    hours = _hours(i.c.requested_at, i.c.inspected_at)
    query = select(inspected, within, _rate(within, inspected), _percentile(0.5, hours)).where(
        _within(i.c.inspected_at, period)
    )
    return Single(
        query,
        lambda row: IncomingInspectionKpi(
            inspected=row[0],
            within_sla=row[1],
            compliance=_float(row[2]),
            median_hours=_float(row[3]),
        ),
    )


async def incoming_inspection(session: AsyncSession, *, period: Period) -> IncomingInspectionKpi:
    """Lots inspected in `period`: SLA compliance and median hours from request to result."""
    return await _incoming_inspection(period).run(session)


def _design_change(period: Period) -> Single[DesignChangeKpi]:
    d = DESIGN_CHANGES
    hours = _hours(d.c.requested_at, d.c.issued_at)
    query = select(
        func.count(),
        func.count().filter(d.c.within_sla.is_(True)),
        _percentile(0.5, hours),
        _percentile(0.9, hours),
    ).where(
        _within(d.c.issued_at, period),
        d.c.issue_no.not_like(f"{CUSTOMER_CHANGE_PREFIX}%"),
    )
    return Single(
        query,
        lambda row: DesignChangeKpi(
            issued=row[0], within_sla=row[1], median_hours=_float(row[2]), p90_hours=_float(row[3])
        ),
    )


async def design_change(session: AsyncSession, *, period: Period) -> DesignChangeKpi:
    """DCNs issued in `period` for design problems: within SLA, median and p90 hours."""
    return await _design_change(period).run(session)


def _shortage_events(period: Period) -> Any:
    """One row (order_no, cause, event) per shortage event of `period` (see SHORTAGE_CAUSES)."""
    e, n, p = ESCALATIONS, NCRS, ISSUES

    def escalated(cause: str, event: ColumnElement[Any]) -> Any:
        return select(
            e.c.order_no, literal(cause, String).label("cause"), event.label("event")
        ).where(e.c.kind == cause, e.c.order_no != "", _within(e.c.breached_at, period))

    return union(
        escalated("late_supply", e.c.key),
        escalated("material_shortage", e.c.order_no),
        escalated("short_pick", func.coalesce(e.c.task_id, e.c.key)),
        escalated("delivery_refused", e.c.key),
        select(n.c.order_no, literal("nonconforming_material", String), n.c.ncr_no).where(
            n.c.order_no.is_not(None), n.c.order_no != "", _within(n.c.created_at, period)
        ),
        select(p.c.order_no, literal("missing_part", String), p.c.issue_no).where(
            p.c.kind == "missing_part", _within(p.c.reported_at, period)
        ),
    ).subquery("events")


def _shortages(period: Period) -> Single[ShortagesKpi]:
    events = _shortage_events(period)
    total, orders = func.count(), func.count(distinct(events.c.order_no))
    # One pass over the events: the totals and a count per cause.
    per_cause = [func.count().filter(events.c.cause == cause) for cause in SHORTAGE_CAUSES]
    query = select(total, orders, _rate(total, orders, 2), *per_cause)
    return Single(
        query,
        lambda row: ShortagesKpi(
            total=row[0],
            orders=row[1],
            per_order=_float(row[2]),
            by_cause=dict(zip(SHORTAGE_CAUSES, row[3:], strict=True)),
        ),
    )


async def shortages(session: AsyncSession, *, period: Period) -> ShortagesKpi:
    """Shortage events of `period`: the orders hit, the events, per order, and by cause."""
    return await _shortages(period).run(session)


def _first_pass_yield(period: Period) -> Single[FirstPassYield]:
    f = FINAL_INSPECTIONS
    inspected, passed = func.count(), func.count().filter(f.c.passed.is_(True))
    query = select(inspected, passed, _rate(passed, inspected)).where(
        f.c.round == 1, _within(f.c.inspected_at, period)
    )
    return Single(
        query,
        lambda row: FirstPassYield(inspected=row[0], passed_first=row[1], rate=_float(row[2])),
    )


async def first_pass_yield(session: AsyncSession, *, period: Period) -> FirstPassYield:
    """Round 1 of final inspection in `period`: inspected, passed the first time, the yield."""
    return await _first_pass_yield(period).run(session)


def _open_escalations(as_of: datetime) -> Single[OpenEscalations]:
    e = ESCALATIONS
    age = literal(as_of, DateTime(timezone=True)) - e.c.breached_at
    is_open = and_(
        e.c.breached_at <= as_of,
        or_(and_(e.c.state == OPEN, e.c.acked_at.is_(None)), e.c.acked_at > as_of),
    )
    counts: list[ColumnElement[Any]] = [func.count()]
    lower: timedelta | None = None
    for _, upper in AGE_BUCKETS:
        bounds = [age >= lower] if lower is not None else []
        bounds += [age < upper] if upper is not None else []
        counts.append(func.count().filter(*bounds) if bounds else func.count())
        lower = upper
    counts += [func.count().filter(e.c.level == level) for level in LEVELS]
    return Single(
        select(*counts).where(is_open),
        lambda row: OpenEscalations(
            as_of=as_of,
            total=row[0],
            by_age={name: row[1 + k] for k, (name, _) in enumerate(AGE_BUCKETS)},
            by_level={str(level): row[1 + len(AGE_BUCKETS) + k] for k, level in enumerate(LEVELS)},
        ),
    )


async def open_escalations(session: AsyncSession, *, as_of: datetime) -> OpenEscalations:
    """Escalations open at `as_of`, by age since the breach and by level."""
    return await _open_escalations(as_of).run(session)


async def kpis(
    session: AsyncSession, *, week: Period, month: Period, as_of: datetime | None = None
) -> Kpis:
    """Every KPI: plan achievement for `week` and `month`, the rest for `month`, escalations
    open at `as_of` (now)."""
    weekly, monthly = await plan_achievements(session, periods=(week, month))
    on_time, incoming, design, short, first_pass, escalations = await together(
        session,
        [
            _on_time_delivery(month),
            _incoming_inspection(month),
            _design_change(month),
            _shortages(month),
            _first_pass_yield(month),
            _open_escalations(as_of or datetime.now(UTC)),
        ],
    )
    return Kpis(
        week=week.label,
        month=month.label,
        plan_achievement=PlanAchievement(week=weekly, month=monthly),
        on_time_delivery=on_time,
        incoming_inspection=incoming,
        design_change=design,
        shortages=short,
        first_pass_yield=first_pass,
        open_escalations=escalations,
    )
