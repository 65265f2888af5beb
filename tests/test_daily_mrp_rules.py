"""The pure rules the daily MRP run (P4.2, §4.3, §4.5) nets by, and its time of day setting."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from pydantic import ValidationError

from services.procurement.mrp.daily import Projection, daily_key, project, safety_topup
from shared.schedule_times import hour_minute
from shared.settings import Settings
from shared.types import RequisitionSummary
from workflows.daily_mrp import notices_for

D = Decimal


# -- the rules, without a database -------------------------------------------------------------


def test_orders_draw_on_stock_then_supply_earliest_first() -> None:
    shortages = [("SO-1", D(30)), ("SO-2", D(50)), ("SO-3", D(20))]
    projection = project(D(10), D(60), shortages)
    assert projection == Projection(uncovered={"SO-2": D(10), "SO-3": D(20)}, left=D(0))
    assert project(D(0), D(0), []) == Projection(uncovered={}, left=D(0))


def test_what_orders_leave_decides_the_safety_stock_top_up() -> None:
    assert safety_topup(D(50), project(D(10), D(0), [])) == 40
    assert safety_topup(D(50), project(D(10), D(40), [])) == 0
    # An order takes the stock PO's goods first: safety stock needs all of its level again.
    busy = project(D(0), D(40), [("SO-1", D(40))])
    assert safety_topup(D(50), busy) == 50
    # A surplus of supply over every order's need counts for stock.
    assert safety_topup(D(50), project(D(0), D(70), [("SO-1", D(40))])) == 20
    assert safety_topup(D("2.5"), project(D("0.5"), D(0), [])) == D(2)


def test_daily_keys_are_stable_per_day_and_distinct_otherwise() -> None:
    today, tomorrow = date(2026, 3, 2), date(2026, 3, 3)
    key = daily_key("safety_stock", "BOLT", today)
    assert key == daily_key("safety_stock", "BOLT", today)
    assert key.startswith("ss-") and len(key) <= 64
    others = {
        daily_key("safety_stock", "BOLT", tomorrow),
        daily_key("safety_stock", "NUT", today),
        daily_key("order", "BOLT", today, "SO-1"),
        daily_key("order", "BOLT", today, "SO-2"),
    }
    assert key not in others and len(others) == 4
    assert daily_key("order", "BOLT", today, "SO-1").startswith("mrpd-")
    # A separator in a name cannot make two keys collide.
    assert daily_key("order", "B", today, "SO-1-A") != daily_key("order", "A-B", today, "SO-1")


def test_notices_tell_reservations_then_requisitions() -> None:
    requisition = RequisitionSummary(
        key="mrpd-x", item="VS1", qty=D(6), supplier="Chint", special=True, reason="order"
    )
    notices = notices_for({"NUT": D(5), "BOLT": D(100)}, [requisition])
    assert [(n.kind, n.item, n.qty) for n in notices] == [
        ("reserved", "BOLT", D(100)),
        ("reserved", "NUT", D(5)),
        ("requisition", "VS1", D(6)),
    ]
    assert notices[2].requisition == requisition
    assert all(n.message for n in notices)


@pytest.mark.parametrize(("text", "expected"), [("06:00", (6, 0)), ("23:59", (23, 59))])
def test_daily_time_reads_hours_and_minutes(text: str, expected: tuple[int, int]) -> None:
    assert hour_minute(text) == expected
    assert Settings(mrp_daily_at=text).mrp_daily_at == text


@pytest.mark.parametrize("text", ["24:00", "6:00", "06:60", "0600", "06:0", "noon", ""])
def test_daily_time_refuses_what_is_not_a_time_of_day(text: str) -> None:
    with pytest.raises(ValidationError):
        Settings(mrp_daily_at=text)
    with pytest.raises(ValueError):  # settings copied without validation are checked again
        hour_minute(text)


def test_env_sets_the_daily_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ORDERFLOW_MRP_DAILY_AT", "05:30")
    assert Settings().mrp_daily_at == "05:30"
    assert Settings.model_fields["mrp_daily_at"].default == "06:00"
