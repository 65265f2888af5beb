"""Cancelling an order in production with a design change under way, end to end on the
time-skipping server: its work orders and the design change are cancelled and the labour so
far is priced."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, time

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import WorkflowFailureError
from temporalio.exceptions import CancelledError
from temporalio.testing import WorkflowEnvironment

from shared.settings import Settings
from tests.cancellation_drivers import (
    BOLTS,
    D,
    _assert_nothing_open,
    _cancel_ok,
    _charges,
    _escalations_resolved,
    _far_past,
    _get,
    _money,
    _open_work_orders,
    _production_order,
    _refused_again,
    _timers_stopped,
    _working_days_later,
)
from tests.conftest import THRESHOLD, Stack, run_stack, settings_for
from tests.drivers import (
    open_tasks_everywhere,
)
from tests.helpers import (
    MARGIN,
    advance_to,
    complete_ok,
    escalations,
    wait_escalation,
    wait_task,
)
from tests.material_drivers import (
    SETS,
    order_view,
    production_start,
    to_production,
)

# -- (4) in production, a design change under way -----------------------------------------------


LABOUR_PER_DAY = D("850")


@pytest.fixture
async def costed(base_settings: Settings, ts_env: WorkflowEnvironment) -> AsyncIterator[Stack]:
    """The `flow` stack, with production labour priced at 850 a day."""
    settings = settings_for(
        base_settings, approval_threshold=THRESHOLD, labour_cost_per_day=LABOUR_PER_DAY
    )
    async with run_stack(settings, ts_env.client) as stack:
        yield stack


async def test_cancel_in_production_cancels_the_work_orders_the_design_change_and_prices_labour(
    costed: Stack, ts_env: WorkflowEnvironment, engine: AsyncEngine
) -> None:
    flow = costed
    suffix = uuid.uuid4().hex[:6]
    bolt, breaker, frame = f"BOLT-{suffix}", f"VS1-{suffix}", f"FRAME-{suffix}"
    order_no, view = await to_production(flow, ts_env, suffix)
    start = production_start(view)
    await advance_to(ts_env, start + MARGIN)
    assembly = await wait_task(flow, "production.assembly", order_no)
    production = await _production_order(engine, order_no)
    assert production is not None and production.state == "in_progress"

    # A design problem in assembly: confirmed, so engineering owes a DCN within 4 hours.
    reported = await flow.http.post(
        f"/production/orders/{order_no}/issues",
        json={
            "kind": "design_problem",
            "description": "frame fouls the breaker truck",
            "items": [{"item": frame, "qty": SETS}],
            "severity": "normal",
        },
        headers=flow.token("zhou", "production"),
    )
    assert reported.status_code == 201, reported.text
    issue_no = reported.json()["issue_no"]
    await complete_ok(flow, "production.confirm_issue", order_no, {"confirmed": True})
    dcn = await wait_task(flow, "engineering.design_change", order_no)

    # Three working days into production the DCN is long overdue (engineering, planner,
    # division were told).
    cancel_day = _working_days_later(start.date(), 3)
    await advance_to(ts_env, datetime.combine(cancel_day, time(10), tzinfo=UTC))
    await wait_escalation(
        flow, order_no, lambda e: e["task_id"] == dcn["task_id"] and e["level"] == 2
    )
    before = await escalations(flow, order_no)
    assert {e["kind"] for e in before} >= {"task_overdue", "design_change_overdue"}
    open_before = {t["task_id"] for t in await open_tasks_everywhere(flow, order_no)}
    assert {assembly["task_id"], dcn["task_id"]} <= open_before
    work_orders = await _open_work_orders(flow, order_no)
    assert len(work_orders) == 2

    result = await _cancel_ok(flow, order_no)

    assert result["stage_at_cancel"] == "production"
    cost = result["cost"]
    # Three working days of production at 850; the material came on unpriced POs (listed,
    # flagged, counted at nothing); all of it was delivered, so nothing is still owed.
    assert _money(cost) == {
        "received_material": D("0.00"),
        "work_done": D("2550.00"),
        "open_commitments": D("0.00"),
        "total": D("2550.00"),
    }
    assert _charges(cost) == [
        ("labour", "", D(3), LABOUR_PER_DAY, D("2550.00"), ""),
        ("picked", bolt, D(BOLTS), None, D(0), f"PO-B-{suffix}"),
        ("picked", breaker, D(SETS), None, D(0), f"PO-V-{suffix}"),
        ("received", bolt, D(BOLTS), None, D(0), f"PO-B-{suffix}"),
        ("received", breaker, D(SETS), None, D(0), f"PO-V-{suffix}"),
    ]
    assert {e["kind"] for e in cost["detail"] if e["unpriced"]} == {"received", "picked"}
    unwound = result["unwound"]
    # The semi-finished work orders, then the production work order.
    assert unwound["work_orders"] == [*work_orders, production.wo_no]
    assert (unwound["requisitions"], unwound["purchase_orders"]) == ([], [])
    # Everything was picked: in the workshop, it stays with the order; nothing on the shelf.
    assert unwound["reservations"] == {}
    assert set(unwound["tasks"]) == open_before - {dcn["task_id"]}

    await _assert_nothing_open(flow, engine, order_no)
    production = await _production_order(engine, order_no)
    assert production is not None and production.state == "cancelled"
    # The design change is cancelled with the order, its DCN task withdrawn.
    with pytest.raises(WorkflowFailureError) as ended:
        await asyncio.wait_for(flow.client.get_workflow_handle(f"dcn-{issue_no}").result(), 15)
    assert isinstance(ended.value.cause, CancelledError)
    [dcn_row] = [
        t
        for t in await _get(flow, "/engineering/tasks", order_no=order_no)
        if t["task_id"] == dcn["task_id"]
    ]
    assert dcn_row["state"] == "withdrawn"
    view = await order_view(flow, order_no)
    by_dcn = [
        e
        for e in view["timeline"]
        if e["kind"] == "task_withdrawn" and e["detail"]["task_id"] == dcn["task_id"]
    ]
    assert len(by_dcn) == 1, by_dcn  # withdrawn by the design change itself, as it ended
    # Its assembly issue ends with the order.
    assert [(i["issue_no"], i["state"]) for i in view["issues"]] == [(issue_no, "closed")]

    listed = await _escalations_resolved(flow, order_no, result)
    assert {e["id"] for e in listed} == {e["id"] for e in before}
    await _timers_stopped(flow, ts_env, order_no, _far_past(view))
    await _refused_again(flow, order_no)
