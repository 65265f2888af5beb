"""The KPIs (PROCESS "KPIs the factory reads") over hand-made rows on the real database
(`GET /kpis` over HTTP is tests/test_kpis_api.py).

The rows lie in March 2025. Open escalations are counted as of 10 January 2025: the March
rows' escalations are not breached yet then, so only those made around that moment count.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from services.engineering.models import DesignChangeNotice
from services.orders.kpis import kpis
from services.planning.models import Milestone
from services.production.models import ProductionIssue
from services.quality.models import FinalInspection, Inspection, Ncr
from services.sales.models import Order
from shared.db import session_scope
from shared.escalations.models import Escalation
from shared.periods import InvalidPeriod, month_of, parse_month, parse_week, previous_month, week_of
from tests.kpi_drivers import milestone

WEEK, MONTH = "2025-W10", "2025-03"  # week 10 of 2025: Monday 3 to Sunday 9 March
AS_OF = datetime(2025, 1, 10, 12, 0, tzinfo=UTC)


def _tag() -> str:
    return f"KPI-{uuid.uuid4().hex[:8]}"


def _at(month: int, day: int, hour: int = 8, year: int = 2025) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


def _d(month: int, day: int, year: int = 2025) -> date:
    return date(year, month, day)


def _order(order_no: str, *, due: date | None, status: str = "active") -> Order:
    now = _at(1, 1)
    return Order(
        order_no=order_no,
        workflow_id=f"order-{order_no}",
        customer="KPI Works",
        project_name="kpis",
        contract_no="C-1",
        drawing_refs=[],
        requested_date=due or now.date(),
        due_date=due,
        amount=Decimal(1),
        currency="CNY",
        status=status,
        created_by="test",
        created_at=now,
        updated_at=now,
    )


def _milestone(order_no: str, name: str, planned: date, actual: date | None) -> Milestone:
    return milestone(order_no, name, planned, actual)


def _escalation(key: str, kind: str, order_no: str, breached: datetime, **more: Any) -> Escalation:
    fields: dict[str, Any] = {
        "level": 1,
        "department": "planning",
        "role": "planning",
        "message": kind,
        "created_at": breached,
        **more,
    }
    return Escalation(key=key, kind=kind, order_no=order_no, breached_at=breached, **fields)


def _inspection(lot_no: str, requested: datetime, hours: float | None, ok: bool) -> Inspection:
    done = None if hours is None else requested + timedelta(hours=hours)
    return Inspection(
        lot_no=lot_no,
        receipt_no=lot_no,
        po_no="PO-1",
        supplier="S",
        workflow_id=f"inspection-{lot_no}",
        state="pending" if done is None else "done",
        requested_at=requested,
        inspected_at=done,
        within_sla=None if done is None else ok,
    )


def _dcn(order_no: str, n: int, issue_no: str, hours: float, ok: bool) -> DesignChangeNotice:
    asked = _at(3, 10 + n)
    return DesignChangeNotice(
        order_no=order_no,
        dcn_no=f"DCN-{n}",
        issue_no=issue_no,
        summary="s",
        changes=[],
        from_revision=1,
        to_revision=2,
        requested_at=asked,
        issued_by="eng",
        issued_at=asked + timedelta(hours=hours),
        within_sla=ok,
    )


def _ncr(ncr_no: str, order_no: str | None, at: datetime) -> Ncr:
    return Ncr(
        ncr_no=ncr_no,
        lot_no="L",
        receipt_no="R",
        po_no="PO",
        supplier="S",
        order_no=order_no,
        item="I",
        qty=Decimal(1),
        defect="d",
        created_at=at,
    )


def _issue(issue_no: str, order_no: str, kind: str, at: datetime) -> ProductionIssue:
    return ProductionIssue(
        issue_no=issue_no,
        order_no=order_no,
        kind=kind,
        description="d",
        items=[],
        severity="normal",
        reported_by="p",
        reported_at=at,
    )


def _final(order_no: str, round_: int, passed: bool, at: datetime) -> FinalInspection:
    return FinalInspection(
        order_no=order_no,
        round=round_,
        passed=passed,
        defects=[],
        inspected_by="q",
        inspected_at=at,
    )


async def _insert(engine: AsyncEngine, *rows: Any) -> None:
    async with session_scope(engine) as session:
        for row in rows:
            session.add(row)
            await session.flush()  # orders before the rows that refer to them


def _march_rows(t: str) -> list[Any]:
    a, b, c, d, x, e = (f"{t}-{s}" for s in "ABCDXE")
    return [
        _order(a, due=_d(3, 10)),
        _order(b, due=_d(3, 3)),
        _order(c, due=_d(3, 31)),
        _order(d, due=_d(4, 30)),
        _order(x, due=_d(4, 30), status="cancelled"),
        _order(e, due=_d(4, 30)),
        # week 10: engineering 5 due (X's reached one counts), 3 met; procurement 1 of 1
        _milestone(a, "design_done", _d(3, 4), _d(3, 4)),
        _milestone(a, "bom_release", _d(3, 5), _d(3, 6)),
        _milestone(b, "design_done", _d(3, 6), _d(3, 1)),
        _milestone(b, "drawings_release", _d(3, 7), None),
        _milestone(x, "design_done", _d(3, 4), _d(3, 4)),
        _milestone(x, "production_start", _d(3, 5), None),  # cancelled, never reached: not due
        _milestone(a, "material_required", _d(3, 3), _d(3, 3)),
        # the rest of March: production 1 of 3, quality 1 of 1, sales 0 of 1
        _milestone(c, "production_start", _d(3, 20), _d(3, 19)),
        _milestone(c, "production_end", _d(3, 25), _d(3, 28)),
        _milestone(d, "production_start", _d(3, 31), None),
        _milestone(c, "final_inspection", _d(3, 24), _d(3, 24)),
        _milestone(c, "ship", _d(3, 26), _d(3, 27)),  # shipped on time for its due date
        _milestone(e, "material_required", _d(4, 1), _d(3, 30)),  # planned in April
        _milestone(d, "design_done", _d(2, 28), _d(3, 2)),  # planned in February
        # shipped in March: A late (due 3-10), B on its due date; E ships in April
        _milestone(a, "ship", _d(4, 10), _d(3, 15)),
        _milestone(b, "ship", _d(2, 20), _d(3, 3)),
        _milestone(e, "ship", _d(4, 1), _d(4, 1)),
        # incoming inspection: 2, 6, 12 (late) and 4 hours; one in April, one pending
        _inspection(f"{t}-L1", _at(3, 3), 2, True),
        _inspection(f"{t}-L2", _at(3, 4), 6, True),
        _inspection(f"{t}-L3", _at(3, 5), 12, False),
        _inspection(f"{t}-L4", _at(3, 6), 4, True),
        _inspection(f"{t}-L5", _at(3, 31, 20), 4, True),
        _inspection(f"{t}-L6", _at(3, 7), None, False),
        # DCNs: 1, 2, 3 and 5 (late) hours; a customer scope change (CHG-) is left out
        _dcn(a, 1, f"{t}-ISS-1", 1, True),
        _dcn(a, 2, f"{t}-ISS-2", 2, True),
        _dcn(b, 3, f"{t}-ISS-3", 3, True),
        _dcn(b, 4, f"{t}-ISS-4", 5, False),
        _dcn(c, 5, f"CHG-{t}-C-1", 10, False),
        # shortages: A late supply twice, B short three days running and short at picking
        # (raised to two roles), C refused at receipt and an NCR, D a missing part
        _escalation(f"{t}-r1:late_supply", "late_supply", a, _at(3, 5)),
        _escalation(f"{t}-r2:late_supply", "late_supply", a, _at(3, 6)),
        *(
            _escalation(f"{t}:shortage:{n}", "material_shortage", b, _at(3, n))
            for n in (10, 11, 12)
        ),
        *(
            _escalation(f"{t}-T1:short_pick:{role}", "short_pick", b, _at(3, 14), task_id="T1")
            for role in ("planning", "procurement")
        ),
        _escalation(f"{t}-R1:refused", "delivery_refused", c, _at(3, 8)),
        _escalation(f"{t}-R2:refused", "delivery_refused", "", _at(3, 8)),  # a stock delivery
        _escalation(f"{t}-r3:late_supply", "late_supply", c, _at(4, 2)),  # April
        _escalation(f"{t}-m:overdue", "milestone_overdue", c, _at(3, 9)),  # not a shortage
        _ncr(f"{t}-NCR-1", c, _at(3, 9)),
        _ncr(f"{t}-NCR-2", None, _at(3, 9)),
        _issue(f"{t}-I-1", d, "missing_part", _at(3, 21)),
        _issue(f"{t}-I-2", d, "design_problem", _at(3, 21)),
        # final inspection: A fails round 1 (passes round 2), B and C pass; D inspects in April
        _final(a, 1, False, _at(3, 20)),
        _final(a, 2, True, _at(3, 22)),
        _final(b, 1, True, _at(3, 21)),
        _final(c, 1, True, _at(3, 23)),
        _final(d, 1, True, _at(4, 2)),
    ]


def _old_escalations(t: str) -> list[Escalation]:
    """Around AS_OF: open 12 h, 2 d (level 2), exactly 3 d, 21 d (level 2), 16 d but
    acknowledged only after AS_OF; acknowledged before AS_OF; breached after AS_OF."""
    rows = [
        ("e1", AS_OF - timedelta(hours=12), 1, None),
        ("e2", AS_OF - timedelta(days=2), 2, None),
        ("e3", AS_OF - timedelta(days=3), 1, None),
        ("e4", AS_OF - timedelta(days=21), 2, None),
        ("e6", AS_OF - timedelta(days=16), 1, AS_OF + timedelta(days=5)),
        ("e5", AS_OF - timedelta(days=16), 1, AS_OF - timedelta(days=5)),
        ("e7", AS_OF + timedelta(hours=1), 1, None),
    ]
    return [
        _escalation(
            f"{t}:{name}",
            "task_overdue",
            f"{t}-OLD",
            breached,
            level=level,
            state="acked" if acked else "open",
            acked_at=acked,
            acked_by="head" if acked else None,
        )
        for name, breached, level, acked in rows
    ]


def _rates(rows: list[Any]) -> dict[str, tuple[int, int, float | None]]:
    return {r.department: (r.due, r.met, r.rate) for r in rows}


async def test_every_kpi_of_a_month_from_hand_made_rows(engine: AsyncEngine) -> None:
    t = _tag()
    await _insert(engine, *_march_rows(t), *_old_escalations(t))

    async with session_scope(engine) as session:
        got = await kpis(session, week=parse_week(WEEK), month=parse_month(MONTH), as_of=AS_OF)

    assert (got.week, got.month) == (WEEK, MONTH)
    assert _rates(got.plan_achievement.week) == {
        "engineering": (5, 3, 0.6),
        "procurement": (1, 1, 1.0),
        "production": (0, 0, None),
        "quality": (0, 0, None),
        "sales": (0, 0, None),
    }
    assert _rates(got.plan_achievement.month) == {
        "engineering": (5, 3, 0.6),
        "procurement": (1, 1, 1.0),
        "production": (3, 1, 0.3333),
        "quality": (1, 1, 1.0),
        "sales": (1, 0, 0.0),
    }
    assert got.on_time_delivery.model_dump() == {"shipped": 3, "on_time": 2, "rate": 0.6667}
    assert got.incoming_inspection.model_dump() == {
        "inspected": 4,
        "within_sla": 3,
        "compliance": 0.75,
        "median_hours": 5.0,
    }
    # percentile_cont over 1, 2, 3, 5 hours: median 2.5, p90 3 + 0.7 * (5 - 3)
    assert got.design_change.model_dump() == {
        "issued": 4,
        "within_sla": 3,
        "median_hours": 2.5,
        "p90_hours": 4.4,
    }
    assert got.shortages.model_dump() == {
        "orders": 4,
        "total": 7,
        "per_order": 1.75,
        "by_cause": {
            "late_supply": 2,
            "material_shortage": 1,
            "short_pick": 1,
            "delivery_refused": 1,
            "nonconforming_material": 1,
            "missing_part": 1,
        },
    }
    assert got.first_pass_yield.model_dump() == {"inspected": 3, "passed_first": 2, "rate": 0.6667}
    escalations = got.open_escalations
    assert escalations.total == 5
    assert escalations.by_age == {"under_1d": 1, "1_to_3d": 1, "3_to_7d": 1, "over_7d": 2}
    assert escalations.by_level == {"1": 3, "2": 2}


async def test_a_period_with_nothing_in_it_has_null_rates(engine: AsyncEngine) -> None:
    async with session_scope(engine) as session:
        got = await kpis(session, week=parse_week(WEEK), month=parse_month(MONTH), as_of=AS_OF)
    assert {r.rate for r in got.plan_achievement.week} == {None}
    assert {r.rate for r in got.plan_achievement.month} == {None}
    assert got.on_time_delivery.rate is None
    assert got.incoming_inspection.median_hours is None
    assert got.design_change.p90_hours is None
    assert got.shortages.per_order is None and set(got.shortages.by_cause.values()) == {0}
    assert got.first_pass_yield.rate is None
    assert got.open_escalations.total == 0


async def test_a_month_is_cut_at_the_plants_local_midnights(engine: AsyncEngine) -> None:
    t = _tag()
    a, b = f"{t}-A", f"{t}-B"
    # 17:00 UTC on the last day of a month is 01:00 on the 1st of the next in Shanghai.
    await _insert(
        engine,
        _order(a, due=None),
        _order(b, due=None),
        _escalation(f"{t}-r1:late_supply", "late_supply", a, _at(2, 28, hour=17)),
        _escalation(f"{t}-r2:late_supply", "late_supply", a, _at(2, 28, hour=18)),
        _escalation(f"{t}-r3:late_supply", "late_supply", b, _at(3, 31, hour=17)),
    )
    async with session_scope(engine) as session:
        week = parse_week(WEEK)
        shanghai = await kpis(
            session, week=week, month=parse_month(MONTH, "Asia/Shanghai"), as_of=AS_OF
        )
        utc = await kpis(session, week=week, month=parse_month(MONTH), as_of=AS_OF)
    assert shanghai.shortages.by_cause["late_supply"] == 2  # A's two, on 1 March local
    assert utc.shortages.by_cause["late_supply"] == 1  # B's, on 31 March UTC


def test_periods_are_iso_weeks_and_calendar_months() -> None:
    week = parse_week("2026-W48")
    assert (week.start, week.end) == (date(2026, 11, 23), date(2026, 11, 30))
    assert week_of(date(2027, 1, 3)).label == "2026-W53"
    assert parse_month("2026-12").end == date(2027, 1, 1)
    assert month_of(date(2026, 2, 28)).label == "2026-02"
    assert previous_month(date(2026, 1, 31)).label == "2025-12"
    for bad in ("2026-48", "2026-W5", "2027-W53", "2026-W00"):
        with pytest.raises(InvalidPeriod):
            parse_week(bad)
    for bad in ("2026-13", "2026-1", "2026-00", "November"):
        with pytest.raises(InvalidPeriod):
            parse_month(bad)
