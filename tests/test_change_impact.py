"""The pure rules of a customer change's impact (services/sales/change_impact.py): what the
added material costs, when it can be in, and whether the plan's ship date then slips."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal as D

from services.sales.change_impact import (
    AddedMaterial,
    cost_of,
    date_impact,
    material_impact,
    material_ready,
)
from shared.change_types import ChangeImpact

TODAY = date(2026, 11, 25)
PLAN = {
    "design_done": date(2026, 12, 4),
    "bom_release": date(2026, 12, 7),
    "drawings_release": date(2026, 12, 9),
    "material_required": date(2027, 1, 8),
    "production_start": date(2027, 1, 8),
    "production_end": date(2027, 1, 22),
    "final_inspection": date(2027, 1, 26),
    "ship": date(2027, 1, 28),
}
DUE = date(2027, 1, 31)


def _impact(
    added: list[AddedMaterial], *, bigger: bool = False, forecast: dict[str, date] | None = None
) -> ChangeImpact:
    return material_impact(
        today=TODAY,
        added=added,
        surplus={},
        prices={"VS1": D("1250"), "BOLT": D("0.35")},
        currency="CNY",
        milestones=PLAN,
        forecast=forecast or PLAN,
        due_date=DUE,
        bigger=bigger,
    )


def test_added_material_is_priced_at_its_last_price_and_unpriced_items_are_named() -> None:
    added = [
        AddedMaterial("VS1", D(2), "buy", 30),
        AddedMaterial("BOLT", D(96), "buy", 5),
        AddedMaterial("CT", D(18), "buy", 20),
        AddedMaterial("FRAME", D(2), "make", None),
    ]
    assert cost_of(added, {"VS1": D("1250"), "BOLT": D("0.35")}) == (D("2533.60"), ["CT"])
    assert material_ready(TODAY, added) == TODAY + timedelta(days=30)
    assert material_ready(TODAY, []) is None


def test_material_in_before_it_is_required_keeps_the_plan() -> None:
    impact = _impact([AddedMaterial("VS1", D(2), "buy", 30)], bigger=True)
    assert impact.cost_rises and not impact.date_slips and impact.needs_agreement
    assert impact.forecast == PLAN and impact.due_date == DUE
    assert impact.cost_estimate == D("2500.00")


def test_late_material_moves_every_later_milestone_and_slips_past_the_due_date() -> None:
    impact = _impact([AddedMaterial("CT", D(18), "buy", 60)])
    ready = TODAY + timedelta(days=60)  # 2027-01-24, 16 days after material_required
    assert impact.material_ready == ready
    assert impact.forecast["material_required"] == ready
    assert impact.forecast["ship"] == PLAN["ship"] + (ready - PLAN["material_required"])
    assert impact.forecast["design_done"] == PLAN["design_done"]
    assert impact.date_slips and impact.slip_days == (impact.forecast["ship"] - DUE).days
    assert impact.due_date == impact.forecast["ship"] and impact.unpriced == ["CT"]


def test_a_delay_already_forecast_is_not_the_changes_slip() -> None:
    late = dict(PLAN, ship=date(2027, 3, 1))
    impact = _impact([AddedMaterial("VS1", D(1), "buy", 10)], forecast=late)
    assert not impact.date_slips and impact.due_date == DUE


def test_a_smaller_order_neither_costs_more_nor_slips() -> None:
    impact = material_impact(
        today=TODAY,
        added=[],
        surplus={"VS1": D("2.000")},
        prices={},
        currency="CNY",
        milestones=PLAN,
        forecast=PLAN,
        due_date=DUE,
        bigger=False,
    )
    assert not impact.needs_agreement and impact.surplus == {"VS1": D(2)}
    assert "frees 2 VS1" in impact.explanation


def test_a_new_date_slips_only_when_the_plan_cannot_ship_by_it() -> None:
    later = date_impact(new_date=DUE + timedelta(days=30), forecast=PLAN, due_date=DUE, currency="")
    assert not later.needs_agreement and later.due_date == DUE + timedelta(days=30)
    earlier = date_impact(new_date=date(2027, 1, 20), forecast=PLAN, due_date=DUE, currency="")
    assert earlier.date_slips and earlier.slip_days == 8 and earlier.due_date == PLAN["ship"]
    unplanned = date_impact(new_date=date(2027, 1, 20), forecast={}, due_date=DUE, currency="")
    assert not unplanned.date_slips and unplanned.due_date == date(2027, 1, 20)
