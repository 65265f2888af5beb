"""Cancelling an order at any stage ("At any time", issue 4 item 7), end to end on the
time-skipping server: during review and after its purchase orders are placed. After a receipt,
in production, and what the unwinding closes beside the order's own tables: see
test_cancellation_after_receipt.py, test_cancellation_in_production.py and
test_cancellation_late_inbox_rows.py.

Each cancellation answers 200 with the cost so far and what it unwound, and leaves nothing of
the order open anywhere: no task in any inbox, no requisition, purchase order or work order, no
reservation, no clock (time runs far past every due date and no escalation of the order comes),
and the escalations it had are closed as resolved by the cancellation. Goods still waiting for
quality carry on for stock. A second cancel, or one of an order that has ended, is a 409.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.testing import WorkflowEnvironment

from tests.cancellation_drivers import (
    BOLT_PRICE,
    BOLTS,
    BREAKER_PRICE,
    D,
    _about,
    _assert_nothing_open,
    _cancel,
    _cancel_ok,
    _charges,
    _escalations_resolved,
    _far_past,
    _get,
    _money,
    _open_work_orders,
    _place_priced_pos,
    _refused_again,
    _timers_stopped,
)
from tests.conftest import Stack
from tests.drivers import (
    open_tasks_everywhere,
    propose_and_plan_date,
    technical_and_lead_time,
)
from tests.helpers import (
    MARGIN,
    advance_to,
    complete_ok,
    create_order,
    wait_escalation,
    wait_task,
)
from tests.material_drivers import (
    SETS,
    order_view,
    receive,
    to_materials,
)

# -- (1) during review ---------------------------------------------------------------------------


async def test_cancel_during_review_withdraws_its_tasks_and_resolves_its_escalations(
    flow: Stack, ts_env: WorkflowEnvironment, engine: AsyncEngine
) -> None:
    order_no = await create_order(flow)
    reviews = {
        (await wait_task(flow, kind, order_no))["task_id"]
        for kind in ("engineering.contract_review", "procurement.lead_time_review")
    }
    # A day on, both reviews are overdue: their heads are escalated to.
    await advance_to(ts_env, await ts_env.get_current_time() + timedelta(days=1) + MARGIN)
    for task_id in reviews:
        await wait_escalation(flow, order_no, _about(task_id))

    # Two cancels at once: one cancels, the other is refused.
    first, second = await asyncio.gather(_cancel(flow, order_no), _cancel(flow, order_no))
    assert sorted((first.status_code, second.status_code)) == [200, 409], (first, second)
    result = (first if first.status_code == 200 else second).json()
    refused = (second if first.status_code == 200 else first).json()
    assert refused["error"] == "order_not_cancellable"

    assert (result["order_no"], result["stage_at_cancel"]) == (order_no, "review")
    assert result["reason"] == "the utility withdrew the project"
    assert result["cost"]["currency"] == "CNY"
    assert _money(result["cost"]) == dict.fromkeys(
        ("received_material", "work_done", "open_commitments", "total"), D(0)
    )
    assert result["cost"]["detail"] == []
    assert set(result["unwound"]["tasks"]) == reviews
    assert {k: v for k, v in result["unwound"].items() if k != "tasks"} == {
        "requisitions": [],
        "purchase_orders": [],
        "work_orders": [],
        "reservations": {},
    }
    assert result["allocated"] == {}

    await _assert_nothing_open(flow, engine, order_no)
    for task in await _get(flow, "/engineering/tasks", order_no=order_no) + await _get(
        flow, "/procurement/tasks", order_no=order_no
    ):
        assert task["state"] == "withdrawn", task
    listed = await _escalations_resolved(flow, order_no, result)
    assert {e["task_id"] for e in listed} == reviews and len(listed) == 2
    view = await order_view(flow, order_no)
    assert view["status_reason"] == "the utility withdrew the project"
    [event] = [e for e in view["timeline"] if e["kind"] == "cancelled"]
    assert event["actor"] == "sam" and "stage review" in event["summary"]

    # The level-2 clocks (two days) and beyond pass: nothing more is raised.
    await _timers_stopped(
        flow, ts_env, order_no, await ts_env.get_current_time() + timedelta(days=10)
    )
    await _refused_again(flow, order_no)


async def test_a_declined_order_cannot_be_cancelled(flow: Stack) -> None:
    order_no = await create_order(flow)
    await technical_and_lead_time(flow, order_no)
    await propose_and_plan_date(flow, order_no)
    view = await complete_ok(
        flow,
        "sales.confirm_delivery",
        order_no,
        {"accepted": False, "decline": True, "reason": "project postponed"},
    )
    assert view["status"] == "declined"
    refused = await _cancel(flow, order_no)
    assert refused.status_code == 409, refused.text
    assert refused.json()["error"] == "order_not_cancellable"
    assert "declined" in refused.json()["detail"]
    assert (await order_view(flow, order_no))["status"] == "declined"


# -- (2) after its purchase orders are placed ----------------------------------------------------


async def test_cancel_after_po_placement_cancels_the_pos_and_counts_the_open_commitments(
    flow: Stack, ts_env: WorkflowEnvironment, engine: AsyncEngine
) -> None:
    suffix = uuid.uuid4().hex[:6]
    bolt, breaker = f"BOLT-{suffix}", f"VS1-{suffix}"
    order_no, view = await to_materials(flow, suffix)
    bolts_po, breakers_po = await _place_priced_pos(flow, order_no, suffix)
    placed = await _get(flow, "/procurement/purchase-orders", order_no=order_no, state="open")
    assert sorted(po["po_no"] for po in placed) == [bolts_po, breakers_po]
    work_orders = await _open_work_orders(flow, order_no)
    assert len(work_orders) == 2  # the set and its frame, made in house
    open_before = {t["task_id"] for t in await open_tasks_everywhere(flow, order_no)}

    # The cost before confirming: the cancellation's own figures, and nothing changed by it.
    quoted = await flow.http.get(
        f"/sales/orders/{order_no}/cancellation-cost", headers=flow.token("sam", "sales")
    )
    assert quoted.status_code == 200, quoted.text
    still = await _get(flow, "/procurement/purchase-orders", order_no=order_no, state="open")
    assert sorted(po["po_no"] for po in still) == [bolts_po, breakers_po]
    assert {t["task_id"] for t in await open_tasks_everywhere(flow, order_no)} == open_before

    result = await _cancel_ok(flow, order_no)

    assert result["stage_at_cancel"] == "materials"
    cost = result["cost"]
    assert quoted.json()["cost"] == cost
    assert quoted.json()["unwound"]["purchase_orders"] == result["unwound"]["purchase_orders"]
    # Nothing has come in; all of both POs is still owed: 288 x 0.35 + 6 x 1250.
    assert _money(cost) == {
        "received_material": D("0.00"),
        "work_done": D("0.00"),
        "open_commitments": D("7600.80"),
        "total": D("7600.80"),
    }
    assert _charges(cost) == [
        ("open_commitment", bolt, D(BOLTS), BOLT_PRICE, D("100.80"), bolts_po),
        ("open_commitment", breaker, D(SETS), BREAKER_PRICE, D("7500.00"), breakers_po),
    ]
    assert result["unwound"] == {
        "requisitions": [],  # both became purchase orders
        "purchase_orders": [bolts_po, breakers_po],
        # MRP's work orders, and the production work order opened with the master plan.
        "work_orders": [*work_orders, f"PWO-{order_no}"],
        "reservations": {},
        "tasks": result["unwound"]["tasks"],
    }
    assert set(result["unwound"]["tasks"]) == open_before

    await _assert_nothing_open(flow, engine, order_no)
    pos = await _get(flow, "/procurement/purchase-orders", order_no=order_no)
    assert {po["po_no"]: po["state"] for po in pos} == {
        bolts_po: "cancelled",
        breakers_po: "cancelled",
    }
    states = {
        w["key"]: w["state"]
        for w in await _get(flow, "/procurement/work-orders", order_no=order_no)
    }
    assert states == dict.fromkeys(work_orders, "cancelled")
    # The supplier's delivery on a cancelled PO is refused at the door.
    late = await receive(
        flow, bolts_po, "Fastenal", [{"item": bolt, "qty_noted": BOLTS, "qty_counted": BOLTS}]
    )
    assert late.status_code == 409 and late.json()["error"] == "po_not_open", late.text

    await _escalations_resolved(flow, order_no, result)
    await _timers_stopped(flow, ts_env, order_no, _far_past(view))
    await _refused_again(flow, order_no)
