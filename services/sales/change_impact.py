"""What a customer change means for the order's cost and date ("At any time", 订单变更): the
pure rules, apart from the activity that gathers the figures (`changes.py`).

* cost rises when the order gets bigger (a quantity increase) or the change adds material;
  the estimate prices added material at each item's last purchase price;
* the date slips when added material cannot be here by the plan's `material_required`: every
  later milestone keeps its planned distance behind it (`shift_forecast`), and a ship forecast
  past the due date (and past today's forecast) is a slip;
* a new delivery date slips when the plan cannot ship by it.

Either one needs the customer's agreement through sales before the change takes effect.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from services.planning.scheduling import shift_forecast
from shared.change_types import ChangeImpact

ZERO = Decimal(0)
CENT = Decimal("0.01")


# Material a change adds, as MRP proposes it: how much, made or bought, and its lead time.
@dataclass(frozen=True)
class AddedMaterial:
    item: str
    qty: Decimal
    make_or_buy: str
    lead_days: int | None


def material_ready(today: date, added: Sequence[AddedMaterial]) -> date | None:
    """When the added material can be in at the earliest: today plus the longest lead time
    (an item with none is taken as at hand today); None when nothing is added."""
    if not added:
        return None
    return today + timedelta(days=max(line.lead_days or 0 for line in added))


def cost_of(
    added: Sequence[AddedMaterial], prices: Mapping[str, Decimal]
) -> tuple[Decimal, list[str]]:
    """The added material at its last purchase price, and the bought items with no price yet."""
    total, unpriced = ZERO, []
    for line in added:
        if line.make_or_buy != "buy":
            continue
        if line.item in prices:
            total += line.qty * prices[line.item]
        else:
            unpriced.append(line.item)
    return total, sorted(set(unpriced))


def material_impact(
    *,
    today: date,
    added: Sequence[AddedMaterial],
    surplus: Mapping[str, Decimal],
    prices: Mapping[str, Decimal],
    currency: str,
    milestones: Mapping[str, date],
    forecast: Mapping[str, date],
    due_date: date | None,
    bigger: bool,
) -> ChangeImpact:
    """A quantity or scope change: the added material's cost and when the order can ship."""
    cost, unpriced = cost_of(added, prices)
    cost = cost.quantize(CENT)
    ready = material_ready(today, added)
    new_forecast = dict(forecast)
    needed = forecast.get("material_required")
    if ready is not None and needed is not None and milestones and ready > needed:
        new_forecast = shift_forecast(dict(milestones), dict(forecast), "material_required", ready)
    ship = new_forecast.get("ship")
    was = forecast.get("ship")
    slips = bool(ship and due_date and was and ship > due_date and ship > was)
    notes = []
    if added:
        listed = ", ".join(f"{_n(line.qty)} {line.item}" for line in added)
        notes.append(f"adds {listed}, in by {ready} at the earliest")
    if surplus:
        listed = ", ".join(f"{_n(qty)} {item}" for item, qty in sorted(surplus.items()))
        notes.append(f"frees {listed}")
    if bigger and not added:
        notes.append("the order grows: more product to build and deliver")
    if slips and ship and due_date:
        notes.append(
            f"the plan then ships {ship}, {(ship - due_date).days} day(s) after {due_date}"
        )
    return ChangeImpact(
        cost_rises=bigger or any(line.qty > 0 for line in added),
        cost_estimate=cost,
        currency=currency,
        unpriced=unpriced,
        extra={line.item: line.qty.normalize() for line in added},
        surplus={item: qty.normalize() for item, qty in surplus.items()},
        material_ready=ready,
        forecast=new_forecast,
        ship_forecast=ship,
        date_slips=slips,
        slip_days=(ship - due_date).days if slips and ship and due_date else 0,
        due_date=ship if slips else due_date,
        explanation="; ".join(notes) or "no material changes",
    )


def date_impact(
    *, new_date: date, forecast: Mapping[str, date], due_date: date | None, currency: str
) -> ChangeImpact:
    """A new delivery date: it takes effect as asked when the plan ships by then; earlier than
    the plan can ship, it slips to the plan's ship forecast unless the customer agrees."""
    ship = forecast.get("ship")
    slips = bool(ship and new_date < ship)
    if slips and ship:
        text = (
            f"the plan ships {ship} at the earliest, {(ship - new_date).days} day(s) after the "
            f"{new_date} asked for"
        )
    elif due_date is not None and new_date > due_date:
        text = (
            f"delivery moves later, {due_date} → {new_date}; the plan ships {ship or 'as planned'}"
        )
    else:
        text = f"delivery moves to {new_date}; the plan ships {ship or 'as planned'}"
    return ChangeImpact(
        cost_rises=False,
        currency=currency,
        forecast=dict(forecast),
        ship_forecast=ship,
        date_slips=slips,
        slip_days=(ship - new_date).days if slips and ship else 0,
        due_date=ship if slips else new_date,
        explanation=text,
    )


def _n(qty: Decimal) -> str:
    return format(qty.normalize(), "f")
