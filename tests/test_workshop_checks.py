"""The workshop's part of the procedure on the time-skipping server, through the public API:
the capacity a process change sets (§8.8, versioned, read by the next proposal), the work
order opened with the master plan and acted on by picking and production start (§4.2), the
team leader's drawing check 3 days before the start with an unclear point going to
engineering (§8.1), the appearance check whose finding raises an NCR to quality (§8.2), and
final inspection held until the certificates and manuals are handed to quality (§8.4).
One order walks all of it."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from temporalio.testing import WorkflowEnvironment

from tests.conftest import Stack
from tests.drivers import proposal_of, to_master_plan
from tests.helpers import (
    MARGIN,
    advance_to,
    complete_ok,
    create_order,
    parse_time,
    settled,
    wait_task,
)
from tests.material_drivers import (
    SETS,
    inbox_tasks,
    milestones,
    place_orders,
    production_start,
    receive_in_full,
    two_level_bom,
    wait_view,
)

FAMILY = "KYN28-12"  # the item of order_body's only line


def _events(view: dict[str, Any], kind: str) -> list[str]:
    return [e["summary"] for e in view["timeline"] if e["kind"] == kind]


def _weekdays_after(start: date, end: date) -> int:
    """Monday-to-Friday days in (start, end]: the flow stack's working days."""
    days = (start + timedelta(days=n) for n in range(1, (end - start).days + 1))
    return sum(day.weekday() < 5 for day in days)


async def _set_capacity(flow: Stack, days: int, reason: str, **more: Any) -> Any:
    return await flow.http.put(
        f"/production/capacity/{FAMILY}",
        json={"production_days": days, "reason": reason, **more},
        headers=flow.token("zhou", "head:production"),
    )


async def _capacity_versions(flow: Stack) -> None:
    """§8.8: two changes make two versions; a change dated in the past is refused."""
    first = await _set_capacity(flow, 14, "new cable termination process")
    assert first.status_code == 200, first.text
    second = await _set_capacity(flow, 12, "second crew trained on the termination")
    assert (second.status_code, second.json()["version"]) == (200, 2), second.text
    yesterday = (datetime.now(UTC).date() - timedelta(days=1)).isoformat()
    late = await _set_capacity(flow, 9, "backdated", effective_from=yesterday)
    assert (late.status_code, late.json()["error"]) == (422, "invalid_capacity"), late.text
    history = await flow.http.get(
        f"/production/capacity/{FAMILY}", headers=flow.token("pat", "planning")
    )
    assert history.status_code == 200, history.text
    body = history.json()
    assert body["production_days"] == 12
    assert [(v["version"], v["production_days"], v["set_by"]) for v in body["versions"]] == [
        (1, 14, "zhou"),
        (2, 12, "zhou"),
    ]


async def test_workshop_checks_from_the_master_plan_to_final_inspection(
    flow: Stack, ts_env: WorkflowEnvironment
) -> None:
    suffix = uuid.uuid4().hex[:6]
    breaker = f"VS1-{suffix}"
    await _capacity_versions(flow)

    # The next proposal plans production by the family's current version.
    order_no = await create_order(flow)
    _, plan_task = await to_master_plan(flow, order_no)
    assert plan_task["context"]["standard_production_days"] == 12
    proposal = proposal_of(plan_task)
    assert _weekdays_after(proposal["production_start"], proposal["production_end"]) == 12

    # §4.2: publishing the master plan opens the production work order.
    await complete_ok(flow, "planning.master_plan", order_no, {"accept_proposal": True})
    view = await wait_view(
        flow, order_no, lambda v: bool(_events(v, "work_order")), "work order opened"
    )
    assert view["stage"] == "engineering"
    assert _events(view, "work_order") == [
        f"production work order PWO-{order_no} opened: 6.0000 {FAMILY}, "
        f"{proposal['production_start']} to {proposal['production_end']}"
    ]
    await complete_ok(flow, "engineering.release_bom", order_no, {"lines": two_level_bom(suffix)})
    drawings = {"drawings": [{"number": f"DWG-{suffix}", "title": "arrangement", "rev": "A"}]}
    view = await complete_ok(flow, "engineering.release_drawings", order_no, drawings)
    start = production_start(view)
    required = milestones(view)["material_required"]
    bolts_po, breakers_po = await place_orders(flow, order_no, suffix, breaker_promised=required)
    await receive_in_full(flow, order_no, suffix, bolts_po, breakers_po)

    # §8.1: no drawing check before 3 days ahead of the start; then it is open, due at the start.
    await advance_to(ts_env, start - timedelta(days=3, hours=1))
    assert await inbox_tasks(flow, "production", order_no, "production.drawing_check") == []
    await advance_to(ts_env, start - timedelta(days=3) + MARGIN)
    check = await wait_task(flow, "production.drawing_check", order_no)
    assert parse_time(check["created_at"]) - (start - timedelta(days=3)) < timedelta(minutes=1)
    assert parse_time(check["due_at"]) == start
    assert check["context"]["work_order"] == f"PWO-{order_no}"
    unclear = "cable entry side on sheet 3 is not dimensioned"
    await complete_ok(
        flow, "production.drawing_check", order_no, {"clear": False, "unclear": [unclear]}
    )
    question = await wait_task(flow, "engineering.drawing_question", order_no)
    assert question["context"]["question"] == unclear
    answer = {"answer": "bottom entry, 200 mm from the rear wall"}
    await complete_ok(flow, "engineering.drawing_question", order_no, answer)

    # Picking acts on the work order: it names it, and all picked moves it to `picked`.
    await advance_to(ts_env, start - timedelta(hours=4) + MARGIN)
    picking = await wait_task(flow, "warehouse.picking", order_no)
    assert picking["context"]["work_order"] == f"PWO-{order_no}"
    picked = [{"item": f"BOLT-{suffix}", "qty_picked": 288}, {"item": breaker, "qty_picked": SETS}]
    await complete_ok(flow, "warehouse.picking", order_no, {"lines": picked})

    # §8.2 at the start, before assembly: a finding goes to quality as an NCR.
    await advance_to(ts_env, start + MARGIN)
    finding = {"item": breaker, "qty": 1, "defect": "scratched front panel"}
    await complete_ok(flow, "production.appearance_check", order_no, {"findings": [finding]})
    ncr = await wait_task(flow, "quality.ncr_judgement", order_no)
    assert ncr["context"]["ncr_no"].startswith(f"NCR-{order_no}-I")
    assert "scratched front panel" in ncr["context"]["description"]
    assert [(x["item"], Decimal(x["qty"])) for x in ncr["context"]["items"]] == [(breaker, 1)]

    # §8.4: the product submitted, final inspection waits for the certificates and manuals.
    card = {"operations": [{"name": "frame assembly", "signed_by": "op-1"}]}
    await complete_ok(flow, "production.assembly", order_no, card)
    await complete_ok(flow, "production.submit_inspection", order_no, {"missing_parts": []})
    await settled(flow, f"order-{order_no}")
    assert await inbox_tasks(flow, "quality", order_no, "quality.final_inspection") == []
    documents = [
        {"kind": "certificate", "item": breaker, "ref": "CERT-VS1-0412"},
        {"kind": "manual", "item": FAMILY, "ref": "MAN-KYN28-2026"},
    ]
    await complete_ok(flow, "production.hand_over_documents", order_no, {"documents": documents})
    await wait_task(flow, "quality.final_inspection", order_no)

    view = await wait_view(
        flow, order_no, lambda v: bool(_events(v, "documents_handed_over")), "documents"
    )
    assert view["stage"] == "final_inspection"
    steps = _events(view, "work_order")
    assert steps[1:] == [
        f"production work order PWO-{order_no} picked",
        f"production work order PWO-{order_no} in progress",
    ]
    (answered,) = _events(view, "drawing_question_answered")
    assert unclear in answered and answer["answer"] in answered
    (handed,) = _events(view, "documents_handed_over")
    assert "CERT-VS1-0412" in handed and "MAN-KYN28-2026" in handed
