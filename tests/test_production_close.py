"""Production to close (P8-P10) on the time-skipping server: the work order starts on its
planned date, the process card with special and key operations confirmed by quality, final
inspection failing twice before it passes, delivery, commissioning, settlement, `closed`."""

from __future__ import annotations

import uuid
from typing import Any

from temporalio.testing import WorkflowEnvironment

from tests.conftest import Stack
from tests.drivers import open_tasks_everywhere
from tests.helpers import MARGIN, advance_to, complete, complete_ok, wait_task
from tests.material_drivers import (
    DOCUMENTS,
    inbox_tasks,
    order_view,
    production_start,
    ship,
    to_production,
)


async def _confirm(stack: Stack, order_no: str, confirmed: dict[str, bool]) -> None:
    """Answer every open process confirmation of the order, by operation."""
    tasks = await inbox_tasks(stack, "quality", order_no, "quality.process_confirmation")
    assert sorted(t["context"]["operation"] for t in tasks) == sorted(confirmed), tasks
    for task in tasks:
        operation = task["context"]["operation"]
        response = await stack.http.post(
            f"/quality/tasks/{task['task_id']}/complete",
            json={"operation": operation, "confirmed": confirmed[operation]},
            headers=stack.token("qa-li", "quality"),
        )
        assert response.status_code == 200, response.text


async def test_production_final_inspection_twice_failed_delivery_and_close(
    flow: Stack, ts_env: WorkflowEnvironment
) -> None:
    suffix = uuid.uuid4().hex[:6]
    order_no, view = await to_production(flow, ts_env, suffix, special_operations=["welding"])
    assert not await inbox_tasks(flow, "production", order_no, "production.assembly")

    # The work order starts on its planned date (the production_start actual).
    start = production_start(view)
    await advance_to(ts_env, start + MARGIN)
    await wait_task(flow, "production.assembly", order_no)
    view = await order_view(flow, order_no)
    actual = {m["name"]: m["actual"] for m in view["milestones"]}
    assert actual["production_start"] == start.date().isoformat()

    # The special operation must be on the card, signed.
    unsigned = await complete(
        flow,
        "production.assembly",
        order_no,
        {"operations": [{"name": "frame assembly", "signed_by": "op-1"}]},
    )
    assert unsigned.status_code == 422 and "welding" in unsigned.json()["detail"]
    card: dict[str, Any] = {
        "operations": [
            {"name": "welding", "signed_by": "op-2"},
            {"name": "busbar torque", "signed_by": "op-3", "key": True},
            {"name": "frame assembly", "signed_by": "op-1"},
        ],
        "missing_parts": [{"item": "nameplate", "qty": 1}],
    }
    await complete_ok(flow, "production.assembly", order_no, card)
    # Quality refuses the key operation: it is done again and confirmed again.
    await _confirm(flow, order_no, {"welding": True, "busbar torque": False})
    rework = await wait_task(flow, "production.assembly", order_no)
    assert rework["context"]["rework"] == ["busbar torque"]
    await complete_ok(flow, "production.assembly", order_no, card)
    await _confirm(flow, order_no, {"welding": True, "busbar torque": True})

    # Final inspection: two rounds of defects, each corrected and signed, then a pass.
    await complete_ok(flow, "production.hand_over_documents", order_no, DOCUMENTS)
    submit = await wait_task(flow, "production.submit_inspection", order_no)
    assert submit["context"]["missing_parts"] == [{"item": "nameplate", "qty": 1.0}]
    view = await complete_ok(flow, "production.submit_inspection", order_no, {"missing_parts": []})
    assert view["stage"] == "final_inspection"
    for round_no, defects in ((1, ["scratched door", "loose earth bar"]), (2, ["door gap"])):
        await complete_ok(
            flow,
            "quality.final_inspection",
            order_no,
            {"passed": False, "defects": [{"description": d} for d in defects]},
        )
        correction = await wait_task(flow, "production.correct_defects", order_no)
        ids = [d["id"] for d in correction["context"]["defects"]]
        assert ids == [f"D{round_no}-{n}" for n in range(1, len(defects) + 1)]
        partial = await complete(
            flow,
            "production.correct_defects",
            order_no,
            {"defects": [{"id": ids[0], "signed_by": "leader-zhou"}]} if len(ids) > 1 else {},
        )
        assert partial.status_code == 422
        await complete_ok(
            flow,
            "production.correct_defects",
            order_no,
            {"defects": [{"id": i, "signed_by": "leader-zhou"} for i in ids]},
        )
    failed = await complete(flow, "quality.final_inspection", order_no, {"passed": False})
    assert failed.status_code == 422 and "defects" in failed.json()["detail"]
    view = await complete_ok(flow, "quality.final_inspection", order_no, {"passed": True})
    assert view["stage"] == "delivery"
    rounds = [e for e in view["timeline"] if e["kind"] == "final_inspection"]
    assert [e["detail"]["round"] for e in rounds] == [1, 2, 3]

    # Delivery, commissioning (the first power-on fails), settlement, evaluation: closed.
    await ship(flow, order_no, "DP-778812")
    today = (await ts_env.get_current_time()).date().isoformat()
    view = await complete_ok(flow, "sales.delivery_confirmed", order_no, {"received_on": today})
    assert view["stage"] == "commissioning"
    await complete_ok(
        flow,
        "aftersales.commissioning",
        order_no,
        {"installed": True, "trained": True, "power_on_ok": False, "notes": "phase sequence"},
    )
    again = await wait_task(flow, "aftersales.commissioning", order_no)
    assert again["context"]["previous_notes"] == "phase sequence"
    await complete_ok(
        flow,
        "aftersales.commissioning",
        order_no,
        {"installed": True, "trained": True, "power_on_ok": True, "notes": "accepted"},
    )
    await complete_ok(
        flow, "sales.settlement", order_no, {"invoice_no": "INV-2026-88", "amount_paid": 480000}
    )
    view = await complete_ok(
        flow, "sales.evaluation", order_no, {"satisfaction": 4, "lessons": "torque checks"}
    )
    assert (view["stage"], view["status"]) == ("closed", "closed")
    assert await open_tasks_everywhere(flow, order_no) == []
    actuals = {m["name"]: m["actual"] for m in view["milestones"]}
    assert all(actuals.values()), actuals
    kinds = {e["kind"] for e in view["timeline"]}
    assert {"final_inspection", "work_order", "picking", "receipt", "stage"} <= kinds
