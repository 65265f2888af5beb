"""After-sales service cases (售后) on the time-skipping server through the public API: one
order walked to finished goods, then a repair case refused before delivery and taken after it,
its first-response clock running out into an escalation, parts issued from stock traced to
their lot, a customer return booked against the case, the case resolved and the order's
timeline showing every step; out of warranty only a paid case is taken."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from decimal import Decimal as D
from typing import Any

from temporalio.testing import WorkflowEnvironment

from services.aftersales.service import add_months
from tests.branch_drivers import to_delivery
from tests.conftest import Stack
from tests.helpers import (
    MARGIN,
    advance_to,
    complete_ok,
    parse_time,
    wait_escalation,
    wait_task,
)
from tests.material_drivers import ship


async def _post(stack: Stack, path: str, body: dict[str, Any], *roles: str) -> Any:
    return await stack.http.post(path, json=body, headers=stack.token("li-as", *roles))


async def _get(stack: Stack, path: str, **params: str) -> Any:
    response = await stack.http.get(path, params=params, headers=stack.token("ops-bot", "ops"))
    assert response.status_code == 200, response.text
    return response.json()


def _case_events(view: dict[str, Any], case_id: str) -> list[str]:
    return [
        e["detail"]["step"]
        for e in view["timeline"]
        if e["kind"] == "service_case" and e["detail"].get("case_id") == case_id
    ]


async def test_a_repair_case_runs_its_clocks_takes_parts_and_a_return_and_resolves(
    flow: Stack, ts_env: WorkflowEnvironment
) -> None:
    suffix = uuid.uuid4().hex[:6]
    bolt, breaker = f"BOLT-{suffix}", f"VS1-{suffix}"
    view = await to_delivery(flow, ts_env, suffix)
    order_no = view["order_no"]
    repair = {"kind": "repair", "order_no": order_no, "description": "breaker trips at power-on"}

    # Bad input, an unknown order, and an order still in finished goods are refused.
    bad = await _post(flow, "/aftersales/cases", {**repair, "kind": "upgrade"}, "aftersales")
    assert bad.status_code == 422, bad.text
    unknown = await _post(flow, "/aftersales/cases", {**repair, "order_no": "NO-SUCH"}, "sales")
    assert unknown.status_code == 404, unknown.text
    early = await _post(flow, "/aftersales/cases", repair, "aftersales")
    assert (early.status_code, early.json()["error"]) == (409, "order_not_delivered"), early.text

    # Shipped, and received by the customer 60 days ago: inside the plant's 12 months.
    await ship(flow, order_no, "DP-7")
    received = date.today() - timedelta(days=60)
    await complete_ok(
        flow, "sales.delivery_confirmed", order_no, {"received_on": received.isoformat()}
    )
    cover = await _get(flow, f"/aftersales/warranties/{order_no}")
    assert (cover["delivered_on"], cover["months"], cover["source"]) == (
        received.isoformat(),
        12,
        "plant",
    )
    assert cover["in_warranty"] is True

    # Ten unused bolts come back from the workshop into their receipt lot: free stock.
    leftover = await _post(
        flow,
        "/warehouse/returns",
        {
            "kind": "leftover",
            "order_no": order_no,
            "reason": "unused",
            "lines": [{"item": bolt, "qty": 10}],
        },
        "warehouse",
    )
    assert leftover.status_code == 201, leftover.text
    (bolt_lot,) = leftover.json()["lines"][0]["lots"]

    opened = await _post(flow, "/aftersales/cases", repair, "aftersales")
    assert opened.status_code == 201, opened.text
    case = opened.json()
    case_id = case["case_id"]
    assert (case["state"], case["in_warranty"], case["paid"]) == ("open", True, False)
    assert case["workflow_id"] == f"service-case-{case_id}"

    # The first-response clock runs out: the head of aftersales hears of it.
    first = await wait_task(flow, "aftersales.case_response", order_no)
    assert first["workflow_id"] == case["workflow_id"]
    assert first["context"]["case_id"] == case_id
    await advance_to(ts_env, parse_time(first["due_at"]) + MARGIN)
    late = await wait_escalation(
        flow,
        order_no,
        lambda e: e["kind"] == "task_overdue" and e.get("task_id") == first["task_id"],
    )
    assert (late["role"], late["department"], late["level"]) == ("head:aftersales", "aftersales", 1)

    # Answered late; a repair always goes on site, even when the response says no visit.
    await complete_ok(flow, "aftersales.case_response", order_no, {"response": "engineer booked"})
    visit = await wait_task(flow, "aftersales.case_on_site", order_no)
    assert parse_time(visit["due_at"]) > parse_time(first["due_at"])
    await complete_ok(
        flow,
        "aftersales.case_on_site",
        order_no,
        {"engineer": "Li Gong", "findings": "closing coil burnt, two bolts sheared"},
    )

    # Parts out of free stock, traced to the lot the bolts went back into; no more than free.
    parts = f"/aftersales/cases/{case_id}/parts"
    too_many = await _post(flow, parts, {"lines": [{"item": bolt, "qty": 11}]}, "warehouse")
    assert (too_many.status_code, too_many.json()["error"]) == (422, "insufficient_stock")
    issued = await _post(flow, parts, {"lines": [{"item": bolt, "qty": 2}]}, "warehouse")
    assert issued.status_code == 201, issued.text
    (line,) = issued.json()["lines"]
    assert [(lot["lot_no"], D(lot["qty"])) for lot in line["lots"]] == [(bolt_lot["lot_no"], 2)]
    trace = await flow.http.get(
        "/warehouse/trace", params={"lot": bolt_lot["lot_no"]}, headers=flow.token("qa", "quality")
    )
    assert trace.status_code == 200, trace.text
    moves = [m for lot in trace.json()["lots"] for m in lot["movements"] if m["kind"] == "issued"]
    assert [(m["ref"], m["order_no"], D(m["qty"])) for m in moves] == [(case_id, order_no, 2)]

    # The burnt breaker comes back from the customer against the case (its order implied).
    back = await _post(
        flow,
        "/warehouse/returns",
        {
            "kind": "aftersales",
            "case_id": case_id,
            "reason": "burnt coil",
            "lines": [{"item": breaker, "qty": 1}],
        },
        "warehouse",
    )
    assert back.status_code == 201, back.text
    assert (back.json()["order_no"], back.json()["case_id"]) == (order_no, case_id)

    detail = await _get(flow, f"/aftersales/cases/{case_id}")
    assert detail["state"] == "on_site" and detail["warranty"]["in_warranty"] is True
    assert [(p["item"], p["lot_no"]) for p in detail["parts"]] == [(bolt, bolt_lot["lot_no"])]
    assert [r["return_no"] for r in detail["returns"]] == [back.json()["return_no"]]
    kinds = {t["kind"]: t for t in detail["tasks"]}
    assert kinds["aftersales.case_response"]["escalation_level"] >= 1
    assert kinds["aftersales.case_on_site"]["state"] == "done"

    # Resolved: the case closes, and the order's timeline tells the whole story.
    view = await complete_ok(
        flow,
        "aftersales.case_resolve",
        order_no,
        {"outcome": "repaired", "resolution": "coil and bolts replaced, powered on"},
    )
    steps = _case_events(view, case_id)
    assert steps[0] == "opened" and steps[-1] == "resolved", steps
    assert {"responded", "on_site"} <= set(steps) and any(s.startswith("parts:") for s in steps)
    assert any(e["kind"] == "material_return" and case_id in e["summary"] for e in view["timeline"])
    (listed,) = await _get(flow, "/aftersales/cases", order_no=order_no)
    assert (listed["state"], listed["outcome"]) == ("resolved", "repaired")
    closed = await _post(flow, parts, {"lines": [{"item": bolt, "qty": 1}]}, "aftersales")
    assert (closed.status_code, closed.json()["error"]) == (409, "case_resolved")

    # The order's own warranty of one month has ended: only a paid case is taken.
    short = await flow.http.put(
        f"/aftersales/warranties/{order_no}",
        json={"months": 1},
        headers=flow.token("sam", "sales"),
    )
    assert short.status_code == 200, short.text
    assert (short.json()["source"], short.json()["in_warranty"]) == ("order", False)
    complaint = {**repair, "kind": "complaint", "description": "noise"}
    refused = await _post(flow, "/aftersales/cases", complaint, "sales")
    assert (refused.status_code, refused.json()["error"]) == (409, "out_of_warranty")
    paid = await _post(flow, "/aftersales/cases", {**complaint, "paid": True}, "sales")
    assert paid.status_code == 201, paid.text
    assert (paid.json()["in_warranty"], paid.json()["paid"]) == (False, True)


def test_a_warranty_ends_on_the_same_day_months_later_or_the_month_end() -> None:
    assert add_months(date(2026, 3, 15), 12) == date(2027, 3, 15)
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert add_months(date(2025, 11, 30), 3) == date(2026, 2, 28)
    assert add_months(date(2026, 5, 4), 0) == date(2026, 5, 4)
