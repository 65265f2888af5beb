"""Customer changes of delivery date and scope ("At any time", issue 4 item 6), over HTTP on
the time-skipping server: a later date takes effect at once with a new plan revision; a date
earlier than the plan can ship waits for the customer to agree the plan's date; a scope change
becomes BOM revision N+1, and when its new material cannot be here in time, the re-forecast
plan and its later delivery date wait for the customer's agreement."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

from tests.change_drivers import D, change_ok, changes_of, plan_revisions, requisitions
from tests.conftest import Stack
from tests.helpers import complete, complete_ok, wait_task
from tests.material_drivers import milestones, order_view, to_materials


def _planned(revision: dict[str, Any]) -> dict[str, str]:
    return {name: m["planned"] for name, m in revision["milestones"].items()}


def _due(view: dict[str, Any]) -> date:
    return date.fromisoformat(view["due_date"])


async def test_a_later_date_takes_effect_at_once_with_a_new_plan_revision(flow: Stack) -> None:
    order_no, view = await to_materials(flow, uuid.uuid4().hex[:6])
    before, revisions_before = _due(view), await plan_revisions(flow, order_no)
    later = before + timedelta(days=30)
    applied = await change_ok(
        flow,
        order_no,
        {
            "kind": "date",
            "detail": "site not ready until spring",
            "customer_confirmation_ref": "HD-LTR-2211",
            "new_date": later.isoformat(),
        },
        200,
    )
    assert applied["state"] == "applied" and applied["agreement_task_id"] is None
    assert applied["impact"]["date_slips"] is False and applied["impact"]["cost_rises"] is False
    view = await order_view(flow, order_no)
    assert _due(view) == later
    revisions = await plan_revisions(flow, order_no)
    assert len(revisions) == len(revisions_before) + 1
    assert revisions[-1]["due_date"] == later.isoformat()
    assert _planned(revisions[-1]) == _planned(revisions_before[-1])
    assert "HD-LTR-2211" in revisions[-1]["reason"]
    assert changes_of(view)[applied["change_no"]]["plan_revision"] == revisions[-1]["revision"]
    assert not [t for t in view["open_tasks"] if t["kind"] == "sales.change_agreement"]


async def test_a_date_the_plan_cannot_make_waits_for_the_customer_to_agree_the_plans(
    flow: Stack,
) -> None:
    order_no, view = await to_materials(flow, uuid.uuid4().hex[:6])
    ship = milestones(view)["ship"]
    asked = ship - timedelta(days=10)
    held = await change_ok(
        flow,
        order_no,
        {
            "kind": "date",
            "detail": "the customer wants it ten days before the plan ships",
            "customer_confirmation_ref": "HD-LTR-2212",
            "new_date": asked.isoformat(),
        },
        202,
    )
    impact = held["impact"]
    assert impact["date_slips"] is True and impact["slip_days"] == 10
    assert impact["ship_forecast"] == ship.isoformat() == impact["due_date"]
    await wait_task(flow, "sales.change_agreement", order_no)
    too_early = await complete(
        flow,
        "sales.change_agreement",
        order_no,
        {"agreed": True, "agreed_date": asked.isoformat()},
    )
    assert too_early.status_code == 422 and str(ship) in too_early.json()["detail"]
    view = await complete_ok(
        flow, "sales.change_agreement", order_no, {"agreed": True, "comment": "plan date"}
    )
    assert _due(view) == ship
    assert changes_of(view)[held["change_no"]]["state"] == "applied"


async def test_a_scope_change_is_the_next_bom_revision_and_its_delay_needs_agreement(
    flow: Stack,
) -> None:
    suffix = uuid.uuid4().hex[:6]
    order_no, view = await to_materials(flow, suffix)
    planned, due = milestones(view), _due(view)
    ct, bolt = f"CT-{suffix}", f"BOLT-{suffix}"
    held = await change_ok(
        flow,
        order_no,
        {
            "kind": "scope",
            "detail": "current transformers in every set; 40 bolts per frame suffice",
            "customer_confirmation_ref": "HD-TA-0412-A1",
            "bom_changes": [
                {
                    "item": ct,
                    "parent": "KYN28-12",
                    "qty_per": 3,
                    "make_or_buy": "buy",
                    "supplier": "Dalian CT",
                    "lead_days": 90,
                },
                {"item": bolt, "qty_per": 40, "make_or_buy": "buy"},
            ],
        },
        202,
    )
    impact = held["impact"]
    assert impact["extra"] == {ct: "18"} and impact["surplus"] == {bolt: "48"}
    assert impact["unpriced"] == [ct] and impact["cost_rises"] is True
    ready = date.fromisoformat(impact["material_ready"])
    assert ready > planned["material_required"] and impact["date_slips"] is True
    new_ship = date.fromisoformat(impact["ship_forecast"])
    assert new_ship == planned["ship"] + (ready - planned["material_required"])
    assert new_ship > due

    view = await complete_ok(
        flow, "sales.change_agreement", order_no, {"agreed": True, "comment": "accepted"}
    )
    record = changes_of(view)[held["change_no"]]
    assert record["state"] == "applied" and record["bom_revision"] == 2, record
    assert _due(view) == new_ship
    bom = await flow.http.get(
        f"/procurement/orders/{order_no}/bom", headers=flow.token("ops-bot", "ops")
    )
    assert bom.status_code == 200, bom.text
    lines = {line["item"]: line for line in bom.json()["lines"]}
    assert bom.json()["revision"] == 2 and D(lines[ct]["qty_per"]) == 3
    assert D(lines[bolt]["qty_per"]) == 40
    added = [r for r in await requisitions(flow, order_no) if r["item"] == ct]
    assert [(D(r["qty"]), r["special"]) for r in added] == [(D(18), True)]
    # The re-forecast plan is the new revision: material and everything after it later.
    revisions = await plan_revisions(flow, order_no)
    planned_now = {k: v["planned"] for k, v in revisions[-1]["milestones"].items()}
    assert planned_now["material_required"] == ready.isoformat()
    assert planned_now["ship"] == new_ship.isoformat()
    assert revisions[-1]["due_date"] == new_ship.isoformat()
