"""Customer changes of quantity ("At any time", issue 4 item 6) on the time-skipping server,
over HTTP: a bigger order waits for the customer's agreement to its cost, then buys the delta
and publishes a new plan revision; a smaller one takes effect at once and frees its surplus;
a change not agreed changes nothing. Date and scope changes: test_customer_change_date_scope.py;
refusals: test_customer_change_rules.py.
"""

from __future__ import annotations

import uuid

from tests.cancellation_drivers import BOLT_PRICE, BREAKER_PRICE, _place_priced_pos
from tests.change_drivers import D, change_ok, changes_of, plan_revisions, requisitions
from tests.conftest import Stack
from tests.helpers import complete, complete_ok, wait_task
from tests.material_drivers import order_view, to_materials


async def test_a_bigger_order_waits_for_agreement_then_buys_the_delta_and_replans(
    flow: Stack,
) -> None:
    suffix = uuid.uuid4().hex[:6]
    bolt, breaker = f"BOLT-{suffix}", f"VS1-{suffix}"
    order_no, _ = await to_materials(flow, suffix)
    await _place_priced_pos(flow, order_no, suffix)
    revisions_before = len(await plan_revisions(flow, order_no))

    held = await change_ok(
        flow,
        order_no,
        {
            "kind": "qty",
            "detail": "two more sets for the second substation",
            "customer_confirmation_ref": "HD-FAX-0815",
            "qty": 8,
        },
        202,
    )
    assert held["state"] == "awaiting_agreement", held
    assert held["change_no"] == f"CHG-{order_no}-1"
    impact = held["impact"]
    assert impact["cost_rises"] is True
    # Two more sets and frames (made) with two more breakers and 96 more bolts (bought, at
    # their PO prices).
    assert impact["extra"] == {
        "KYN28-12": "2",
        f"FRAME-{suffix}": "2",
        breaker: "2",
        bolt: "96",
    }
    assert impact["cost_estimate"] == "2533.60" == str(2 * BREAKER_PRICE + 96 * BOLT_PRICE)
    assert impact["date_slips"] is False and impact["unpriced"] == []
    task = await wait_task(flow, "sales.change_agreement", order_no)
    assert task["task_id"] == held["agreement_task_id"]
    assert task["context"]["customer_confirmation_ref"] == "HD-FAX-0815"

    # Nothing has taken effect while the customer decides.
    view = await order_view(flow, order_no)
    assert D(view["lines"][0]["qty"]) == 6
    assert changes_of(view)[held["change_no"]]["state"] == "awaiting_agreement"
    assert not [r for r in await requisitions(flow, order_no) if r["state"] == "open"]

    view = await complete_ok(
        flow,
        "sales.change_agreement",
        order_no,
        {"agreed": True, "comment": "priced at 80 000 per set", "amount": 640000},
    )
    assert D(view["lines"][0]["qty"]) == 8 and D(view["amount"]) == 640000
    record = changes_of(view)[held["change_no"]]
    assert record["state"] == "applied", record
    assert record["plan_revision"] == revisions_before + 1
    revisions = await plan_revisions(flow, order_no)
    assert len(revisions) == revisions_before + 1
    assert held["change_no"] in revisions[-1]["reason"]
    assert "HD-FAX-0815" in revisions[-1]["reason"]
    new = {
        r["item"]: D(r["qty"])
        for r in await requisitions(flow, order_no)
        if r["state"] != "converted" and r["created_at"] > task["created_at"]
    }
    assert new == {breaker: D(2), bolt: D(96)}, new
    assert any(e["kind"] == "customer_change" for e in view["timeline"])


async def test_a_change_not_agreed_changes_nothing(flow: Stack) -> None:
    suffix = uuid.uuid4().hex[:6]
    order_no, _ = await to_materials(flow, suffix)
    revisions_before = len(await plan_revisions(flow, order_no))
    held = await change_ok(
        flow,
        order_no,
        {"kind": "qty", "detail": "one more set", "customer_confirmation_ref": "M-1", "qty": 7},
        202,
    )
    refused = await complete(flow, "sales.change_agreement", order_no, {"agreed": False})
    assert refused.status_code == 422, refused.text
    view = await complete_ok(
        flow,
        "sales.change_agreement",
        order_no,
        {"agreed": False, "comment": "the customer will not pay the surcharge"},
    )
    record = changes_of(view)[held["change_no"]]
    assert record["state"] == "declined" and "surcharge" in record["outcome"]
    assert D(view["lines"][0]["qty"]) == 6
    assert len(await plan_revisions(flow, order_no)) == revisions_before
