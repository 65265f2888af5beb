"""Parts listed missing at final inspection (§11.2) and the planner's delay warning by hand
(§2.4), on the time-skipping server through the public API, on one order: each missing part is
chased; the order does not ship until a part is fitted and signed (a refused signature sends it
back to production) or sales records that it ships separately; meanwhile the planner warns
that the delivery slips, with the countermeasure, which reaches sales and the division."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

from temporalio.testing import WorkflowEnvironment

from tests.conftest import Stack
from tests.helpers import MARGIN, advance_to, complete, complete_ok, wait_task
from tests.material_drivers import (
    DOCUMENTS,
    inbox_tasks,
    order_view,
    production_start,
    to_production,
    wait_view,
)

HOOD, PLATE = "arc hood", "nameplate"


def _forecast(view: dict[str, Any], name: str) -> date:
    (milestone,) = [m for m in view["milestones"] if m["name"] == name]
    return date.fromisoformat(milestone["forecast"])


async def _answer(stack: Stack, task: dict[str, Any], payload: dict[str, Any]) -> Any:
    dept = task["kind"].split(".")[0]
    return await stack.http.post(
        f"/{dept}/tasks/{task['task_id']}/complete",
        json=payload,
        headers=stack.token(f"{dept}-1", dept),
    )


async def _warn(stack: Stack, order_no: str, body: dict[str, Any], *roles: str) -> Any:
    return await stack.http.post(
        f"/planning/orders/{order_no}/delay-warnings",
        json=body,
        headers=stack.token("planner-wu", *(roles or ("planning",))),
    )


async def test_missing_parts_hold_the_shipment_until_fitted_and_signed_or_shipped_separately(
    flow: Stack, ts_env: WorkflowEnvironment
) -> None:
    order_no, view = await to_production(flow, ts_env, uuid.uuid4().hex[:6])
    await advance_to(ts_env, production_start(view) + MARGIN)
    card = {"operations": [{"name": "frame assembly", "signed_by": "op-1"}]}
    await complete_ok(flow, "production.assembly", order_no, card)
    await complete_ok(flow, "production.hand_over_documents", order_no, DOCUMENTS)
    missing = [{"item": HOOD, "qty": 1}, {"item": PLATE, "qty": 2}]
    twice = await complete(
        flow, "production.submit_inspection", order_no, {"missing_parts": [missing[0]] * 2}
    )
    assert twice.status_code == 422 and "once" in twice.json()["detail"], twice.text
    await complete_ok(flow, "production.submit_inspection", order_no, {"missing_parts": missing})
    round_task = await wait_task(flow, "quality.final_inspection", order_no)
    assert round_task["context"]["missing_parts"] == [
        {"item": HOOD, "qty": 1.0},
        {"item": PLATE, "qty": 2.0},
    ]
    await complete_ok(flow, "quality.final_inspection", order_no, {"passed": True})

    # Passed, but held: each part chased, sales asked, production to fit them; no shipment.
    asked = await wait_task(flow, "sales.missing_parts_shipment", order_no)
    assert asked["context"]["missing_parts"] == {HOOD: "1", PLATE: "2"}
    fit = await wait_task(flow, "production.fit_missing_parts", order_no)
    chases = {
        t["context"]["item"]: t
        for t in await inbox_tasks(flow, "procurement", order_no, "procurement.chase_supply")
    }
    assert sorted(chases) == [HOOD, PLATE]
    assert chases[PLATE]["context"]["found_in"] == "final_inspection"
    view = await order_view(flow, order_no)
    assert view["stage"] == "final_inspection"
    assert not await inbox_tasks(flow, "sales", order_no, "sales.ship")
    assert any(e["kind"] == "missing_parts" for e in view["timeline"])

    # The planner warns by hand that the delivery slips, with the countermeasure: the ship
    # forecast moves, the timeline keeps it, sales and the division hear it.
    ship = _forecast(view, "ship")
    new_ship = max(ship, date.fromisoformat(view["due_date"])) + timedelta(days=6)
    body = {
        "new_date": new_ship.isoformat(),
        "reason": "arc hood supplier moved its delivery",
        "countermeasure": "airfreight the hood; plate ships separately",
    }
    assert (await _warn(flow, order_no, body, "sales")).status_code == 403
    earlier = await _warn(flow, order_no, {**body, "new_date": (ship - timedelta(1)).isoformat()})
    assert earlier.status_code == 409, earlier.text
    assert earlier.json()["error"] == "delay_warning_refused"
    done = await _warn(flow, order_no, {**body, "milestone": "final_inspection"})
    assert done.status_code == 409 and "done" in done.json()["detail"], done.text
    blank = await _warn(flow, order_no, {**body, "countermeasure": "  "})
    assert blank.status_code == 422, blank.text
    warned = await _warn(flow, order_no, body)
    assert warned.status_code == 201, warned.text
    answer = warned.json()
    assert (answer["number"], answer["forecast_ship"]) == (1, new_ship.isoformat())
    assert answer["late_days"] == (new_ship - date.fromisoformat(view["due_date"])).days > 0
    view = await wait_view(
        flow, order_no, lambda v: _forecast(v, "ship") == new_ship, f"ship forecast {new_ship}"
    )
    (event,) = [e for e in view["timeline"] if e["kind"] == "delay_warning"]
    assert event["detail"]["countermeasure"] == body["countermeasure"]
    assert event["detail"]["reason"] == body["reason"] and event["actor"] == "planner-wu"
    delays = [e for e in view["escalations"] if e["kind"] == "delivery_delay"]
    assert sorted(e["role"] for e in delays) == ["division", "sales"], delays
    assert all(body["countermeasure"] in e["message"] for e in delays), delays

    # The buyer's date for the plate lies past the new forecast: the ship forecast follows.
    later = new_ship + timedelta(days=2)
    chased = await _answer(flow, chases[PLATE], {"expected_date": later.isoformat()})
    assert chased.status_code == 200, chased.text
    await wait_view(flow, order_no, lambda v: _forecast(v, "ship") == later, f"ship {later}")

    # Production fits the hood (an unknown part is refused); quality refuses the first fitting,
    # so production fits it again, and quality signs.
    unknown = await _answer(flow, fit, {"parts": [{"item": "door", "signed_by": "leader-zhou"}]})
    assert unknown.status_code == 422 and "outstanding" in unknown.json()["detail"]
    hood = {"parts": [{"item": HOOD, "signed_by": "leader-zhou"}]}
    assert (await _answer(flow, fit, hood)).status_code == 200
    bare = await complete(flow, "quality.sign_fitted_parts", order_no, {"signed": False})
    assert bare.status_code == 422, bare.text
    await complete_ok(
        flow, "quality.sign_fitted_parts", order_no, {"signed": False, "comment": "loose bolts"}
    )
    again = await wait_task(flow, "production.fit_missing_parts", order_no)
    assert again["context"]["missing_parts"] == {HOOD: "1", PLATE: "2"}
    await _answer(flow, again, hood)
    await complete_ok(flow, "quality.sign_fitted_parts", order_no, {"signed": True})
    # The plate is still missing: no shipment yet; the fitted hood's chase is withdrawn.
    third = await wait_task(flow, "production.fit_missing_parts", order_no)
    assert third["context"]["missing_parts"] == {PLATE: "2"}
    assert (await order_view(flow, order_no))["stage"] == "final_inspection"
    withdrawn = await inbox_tasks(
        flow, "procurement", order_no, "procurement.chase_supply", "withdrawn"
    )
    assert [t["context"]["item"] for t in withdrawn] == [HOOD]

    # Sales records that the plate ships separately: the unit goes to finished goods and ships.
    fitted = await complete(
        flow, "sales.missing_parts_shipment", order_no, {"ship_separately": [HOOD]}
    )
    assert fitted.status_code == 422 and "outstanding" in fitted.json()["detail"]
    view = await complete_ok(
        flow,
        "sales.missing_parts_shipment",
        order_no,
        {"ship_separately": [PLATE], "comment": "courier to site next week"},
    )
    assert view["stage"] == "delivery", view["stage"]
    await wait_task(flow, "sales.ship", order_no)
    kinds = [e["kind"] for e in view["timeline"]]
    assert kinds.count("missing_parts_fitted") == 1 and "missing_parts_refused" in kinds
    (separate,) = [e for e in view["timeline"] if e["kind"] == "missing_parts_separate"]
    assert separate["detail"]["parts"] == [PLATE] and separate["actor"] == "worker-1"
    assert await inbox_tasks(
        flow, "production", order_no, "production.fit_missing_parts", "withdrawn"
    )
