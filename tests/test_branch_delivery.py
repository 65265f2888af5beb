"""Branches of the order's own clocks no other test walks, on the time-skipping server through
the public API: the weekly unshipped run's `sales.ship_date` on the order side (P2.6) and
`picking_late` when the pick list is not done by the production start (P7.1, the timer table's
picking row: warn the planner and the warehouse; a breach never blocks the process)."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

from temporalio.testing import WorkflowEnvironment

from tests.branch_drivers import to_delivery, weekly_unshipped
from tests.conftest import Stack
from tests.drivers import inbox
from tests.helpers import (
    MARGIN,
    advance_to,
    complete,
    complete_ok,
    escalations,
    parse_time,
    settled,
    wait_escalation,
    wait_task,
)
from tests.material_drivers import (
    SETS,
    inbox_tasks,
    milestones,
    order_view,
    place_orders,
    production_start,
    receive_in_full,
    ship,
    to_materials,
    wait_view,
)


def _ship(view: dict[str, Any]) -> dict[str, Any]:
    (ship,) = [m for m in view["milestones"] if m["name"] == "ship"]
    return dict(ship)


async def test_weekly_run_asks_a_stocked_order_for_a_ship_date_that_moves_its_ship_forecast(
    flow: Stack, ts_env: WorkflowEnvironment
) -> None:
    view = await to_delivery(flow, ts_env, uuid.uuid4().hex[:6])
    order_no = view["order_no"]
    planned_ship = date.fromisoformat(_ship(view)["planned"])
    # Picked in time (half a day ahead), so the production start passed without a warning.
    assert not [e for e in await escalations(flow, order_no) if e["kind"] == "picking_late"]

    # The weekly run lists the order in finished goods and it asks sales for a ship date.
    result = await weekly_unshipped(flow, ts_env)
    assert (result.asked, result.unreachable) == ([order_no], [])
    asked = await wait_task(flow, "sales.ship_date", order_no)
    assert asked["context"]["planned_ship"] == planned_ship.isoformat()

    # A second run while the question is open asks again without a second task.
    again = await weekly_unshipped(flow, ts_env)
    assert again.asked == [order_no]
    await settled(flow, f"order-{order_no}")
    assert len(await inbox_tasks(flow, "sales", order_no, "sales.ship_date")) == 1

    # Sales expects to ship three days after the later of the plan and today: the ship
    # milestone's forecast moves there, its planned date stays.
    today = (await ts_env.get_current_time()).date()
    past = await complete(
        flow,
        "sales.ship_date",
        order_no,
        {"expected_ship": (today - timedelta(days=1)).isoformat()},
    )
    assert past.status_code == 422 and "before today" in past.json()["detail"], past.text
    expected = max(planned_ship, today) + timedelta(days=3)
    await complete_ok(flow, "sales.ship_date", order_no, {"expected_ship": expected.isoformat()})
    view = await wait_view(
        flow,
        order_no,
        lambda v: _ship(v)["forecast"] == expected.isoformat(),
        f"ship forecast {expected}",
    )
    assert _ship(view)["planned"] == planned_ship.isoformat() and _ship(view)["actual"] is None
    assert view["stage"] == "delivery"
    late = [e for e in view["escalations"] if e["kind"] == "delivery_delay"]
    assert bool(late) == (expected > date.fromisoformat(view["due_date"])), late

    # Asked again the next week, and then it ships: the open question is withdrawn, the ship
    # actual recorded, and the next run lists the order no more.
    assert (await weekly_unshipped(flow, ts_env)).asked == [order_no]
    await wait_task(flow, "sales.ship_date", order_no)
    view = await ship(flow, order_no, "DP-9")
    assert _ship(view)["actual"] == (await ts_env.get_current_time()).date().isoformat()
    await wait_task(flow, "sales.delivery_confirmed", order_no)
    assert not await inbox_tasks(flow, "sales", order_no, "sales.ship_date")
    states = [t["state"] for t in await inbox(flow, "sales.ship_date", order_no)]
    assert sorted(states) == ["done", "withdrawn"], states
    assert (await weekly_unshipped(flow, ts_env)).asked == []


async def test_picking_not_done_by_the_production_start_warns_without_blocking_the_order(
    flow: Stack, ts_env: WorkflowEnvironment
) -> None:
    suffix = uuid.uuid4().hex[:6]
    bolt, breaker = f"BOLT-{suffix}", f"VS1-{suffix}"
    order_no, view = await to_materials(flow, suffix)
    start = production_start(view)
    bolts_po, breakers_po = await place_orders(
        flow, order_no, suffix, breaker_promised=milestones(view)["material_required"]
    )
    await receive_in_full(flow, order_no, suffix, bolts_po, breakers_po)

    # The pick list opens half a day ahead, due at the production start; no warning before.
    await advance_to(ts_env, start - timedelta(hours=4) + MARGIN)
    picking = await wait_task(flow, "warehouse.picking", order_no)
    assert parse_time(picking["due_at"]) == start
    await advance_to(ts_env, start - MARGIN)
    await settled(flow, f"order-{order_no}")
    assert not [e for e in await escalations(flow, order_no) if e["kind"] == "picking_late"]

    # At the production start the planner is warned; the task's own clock tells the head of
    # the warehouse that the picking is overdue.
    await advance_to(ts_env, start + MARGIN)
    late = await wait_escalation(flow, order_no, lambda e: e["kind"] == "picking_late")
    assert (late["role"], late["department"], late["level"]) == ("planning", "planning", 1)
    assert late["task_id"] == picking["task_id"]
    assert parse_time(late["due_at"]) == start
    assert order_no in late["message"] and "not picked" in late["message"]
    overdue = await wait_escalation(
        flow,
        order_no,
        lambda e: e["kind"] == "task_overdue" and e.get("task_id") == picking["task_id"],
    )
    assert overdue["role"] == "head:warehouse", overdue

    # Not blocked: the same pick list is still open, picking it late opens the work order.
    assert (await order_view(flow, order_no))["stage"] == "materials"
    (still,) = await inbox_tasks(flow, "warehouse", order_no, "warehouse.picking")
    assert still["task_id"] == picking["task_id"]
    view = await complete_ok(
        flow,
        "warehouse.picking",
        order_no,
        {"lines": [{"item": bolt, "qty_picked": 288}, {"item": breaker, "qty_picked": SETS}]},
    )
    assert view["stage"] == "production"
    assert any(e["kind"] == "work_order" for e in view["timeline"])
    # One warning per pick list: nothing more once it is done.
    await settled(flow, f"order-{order_no}")
    kinds = [e["kind"] for e in await escalations(flow, order_no)]
    assert kinds.count("picking_late") == 1, kinds
