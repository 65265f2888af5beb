"""A customer change held for the customer's agreement meets an order that moved on meanwhile
("At any time", issue 4 item 6): agreed after the BOM release, MRP runs on the quantity MRP
actually planned (the extra sets' material is bought); once production starts, the held change
is withdrawn with its task, since quantity and scope are frozen there."""

from __future__ import annotations

import asyncio
import uuid

from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.testing import WorkflowEnvironment

from tests.cancellation_drivers import _assert_nothing_open, _cancel
from tests.change_drivers import D, change, change_ok, changes_of, requisitions
from tests.conftest import Stack
from tests.drivers import to_master_plan
from tests.helpers import complete_ok, create_order, wait_task
from tests.material_drivers import (
    buy_and_pick,
    order_view,
    to_materials,
    two_level_bom,
)


async def test_qty_agreed_after_the_bom_release_is_bought(flow: Stack) -> None:
    """Requested in engineering (no BOM yet: impact.order_qty_before is None), agreed after
    the BOM release ran MRP for the old quantity: the two extra sets' material must still be
    requisitioned."""
    suffix = uuid.uuid4().hex[:6]
    breaker = f"VS1-{suffix}"
    order_no = await create_order(flow)
    await to_master_plan(flow, order_no)
    await complete_ok(flow, "planning.master_plan", order_no, {"accept_proposal": True})
    await wait_task(flow, "engineering.release_bom", order_no)
    held = await change_ok(
        flow,
        order_no,
        {"kind": "qty", "detail": "two more sets", "customer_confirmation_ref": "R-1", "qty": 8},
        202,
    )
    await complete_ok(flow, "engineering.release_bom", order_no, {"lines": two_level_bom(suffix)})
    view = await complete_ok(
        flow,
        "engineering.release_drawings",
        order_no,
        {"drawings": [{"number": f"DWG-{suffix}", "title": "ga", "rev": "A"}]},
    )
    assert view["stage"] == "materials"
    view = await complete_ok(
        flow, "sales.change_agreement", order_no, {"agreed": True, "comment": "ok"}
    )
    assert changes_of(view)[held["change_no"]]["state"] == "applied"
    assert D(view["lines"][0]["qty"]) == 8
    bought = sum(D(r["qty"]) for r in await requisitions(flow, order_no) if r["item"] == breaker)
    assert bought == 8, f"the order is for 8 sets, breakers requisitioned: {bought}"


async def test_a_change_held_when_production_starts_is_withdrawn_with_its_task(
    flow: Stack, ts_env: WorkflowEnvironment
) -> None:
    """Quantity freezes once production starts (the validator refuses a new qty change
    then); a qty change held for agreement must not take effect in production either."""
    suffix = uuid.uuid4().hex[:6]
    order_no, view = await to_materials(flow, suffix)
    held = await change_ok(
        flow,
        order_no,
        {"kind": "qty", "detail": "two more sets", "customer_confirmation_ref": "R-2", "qty": 8},
        202,
    )
    await buy_and_pick(flow, ts_env, order_no, suffix, view)
    # A new qty change is refused now ...
    fresh = await flow.http.post(
        f"/sales/orders/{order_no}/changes",
        json={"kind": "qty", "detail": "x", "customer_confirmation_ref": "R-3", "qty": 9},
        headers=flow.token("sam", "sales"),
    )
    assert fresh.status_code == 409, fresh.text
    assert "frozen" in fresh.json()["detail"]
    # ... and the one held for agreement is withdrawn with its task: it can no longer apply.
    view = await order_view(flow, order_no)
    record = changes_of(view)[held["change_no"]]
    assert record["state"] == "withdrawn", record
    assert "production" in record["outcome"] and "before the customer agreed" in record["outcome"]
    assert D(view["lines"][0]["qty"]) == 6
    assert not [t for t in view["open_tasks"] if t["kind"] == "sales.change_agreement"]
    done = await flow.http.get(
        "/sales/tasks",
        params={"order_no": order_no, "kind": "sales.change_agreement"},
        headers=flow.token("ops-bot", "ops"),
    )
    assert [t["state"] for t in done.json()] == ["withdrawn"], done.text


async def test_a_change_and_a_cancellation_at_once_leave_nothing_open(
    flow: Stack, engine: AsyncEngine
) -> None:
    order_no, _ = await to_materials(flow, uuid.uuid4().hex[:6])
    body = {"kind": "qty", "detail": "two more sets", "customer_confirmation_ref": "R", "qty": 8}
    changed, cancelled = await asyncio.gather(change(flow, order_no, body), _cancel(flow, order_no))
    assert cancelled.status_code == 200, cancelled.text
    assert changed.status_code in (202, 409), changed.text
    await _assert_nothing_open(flow, engine, order_no)
    view = await order_view(flow, order_no)
    assert view["status"] == "cancelled" and D(view["lines"][0]["qty"]) == 6
    assert all(c["state"] == "withdrawn" for c in view["changes"]), view["changes"]
    assert len(view["changes"]) == (1 if changed.status_code == 202 else 0)
