"""P1 order review, every path, over HTTP on time-skipping Temporal.

Dates a payload carries come from the workflow's own clock (the test server's, which earlier
tests may have moved far past the wall clock) or from the proposals the tasks carry.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from tests.conftest import THRESHOLD, Stack
from tests.drivers import (
    OPS,
    day,
    inbox,
    open_tasks_everywhere,
    propose_and_plan_date,
    technical_and_lead_time,
)
from tests.helpers import (
    complete,
    complete_ok,
    create_order,
    wait_task,
)

# -- P1: the review loop -----------------------------------------------------------------


async def test_review_repeats_while_engineering_finds_issues_and_keeps_every_round(
    flow: Stack,
) -> None:
    order_no = await create_order(flow)
    await complete_ok(
        flow, "procurement.lead_time_review", order_no, {"lead_days": 30, "critical_items": []}
    )
    rounds = [["busbar rating missing on DWG-01"], ["CT ratio unclear", "no earthing switch"]]
    for issues in rounds:
        view = await complete_ok(
            flow,
            "engineering.contract_review",
            order_no,
            {"ok": False, "design_days": 0, "issues": issues},
        )
        assert view["stage"] == "review"
        assert [t["kind"] for t in view["open_tasks"]] == ["engineering.contract_review"]
        again = await wait_task(flow, "engineering.contract_review", order_no)
        assert again["context"]["previous_issues"] == issues
    view = await complete_ok(
        flow, "engineering.contract_review", order_no, {"ok": True, "design_days": 8}
    )
    assert [t["kind"] for t in view["open_tasks"]] == ["planning.delivery_review"]

    reviews = await inbox(flow, "engineering.contract_review", order_no)
    assert [t["state"] for t in reviews] == ["done", "done", "done"]
    assert sorted(t["context"]["round"] for t in reviews) == [1, 2, 3]
    assert sorted(t["payload"]["ok"] for t in reviews) == [False, False, True]
    found = [e for e in view["timeline"] if e["kind"] == "technical_issues"]
    assert [(e["detail"]["round"], e["detail"]["issues"]) for e in found] == [
        (1, rounds[0]),
        (2, rounds[1]),
    ]
    lead = await inbox(flow, "procurement.lead_time_review", order_no)
    assert [t["state"] for t in lead] == ["done"]


async def test_contract_review_not_ok_without_issues_is_refused(flow: Stack) -> None:
    order_no = await create_order(flow)
    response = await complete(
        flow, "engineering.contract_review", order_no, {"ok": False, "design_days": 0}
    )
    assert response.status_code == 422, response.text
    assert len(await inbox(flow, "engineering.contract_review", order_no, "open")) == 1


# -- P1: management approval above the threshold ----------------------------------------


async def test_amount_above_threshold_needs_management_approval_before_confirmation(
    flow: Stack,
) -> None:
    order_no = await create_order(flow, amount=750000)
    await technical_and_lead_time(flow, order_no)
    review = await wait_task(flow, "planning.delivery_review", order_no)
    view = await complete_ok(
        flow,
        "planning.delivery_review",
        order_no,
        {"delivery_date": review["context"]["proposed_date"]},
    )
    assert [t["kind"] for t in view["open_tasks"]] == ["sales.management_approval"]
    approval = await wait_task(flow, "sales.management_approval", order_no)
    assert Decimal(approval["context"]["amount"]) == Decimal(750000)
    assert Decimal(approval["context"]["threshold"]) == THRESHOLD
    assert await inbox(flow, "sales.confirm_delivery", order_no) == []

    by_sales = await complete(
        flow, "sales.management_approval", order_no, {"approved": True}, roles=("sales",)
    )
    assert by_sales.status_code == 403, by_sales.text
    view = await complete_ok(
        flow,
        "sales.management_approval",
        order_no,
        {"approved": True, "comment": "strategic customer"},
        roles=("head:sales",),
    )
    assert [t["kind"] for t in view["open_tasks"]] == ["sales.confirm_delivery"]
    view = await complete_ok(flow, "sales.confirm_delivery", order_no, {"accepted": True})
    assert view["stage"] == "planning"


async def test_amount_at_threshold_goes_straight_to_customer_confirmation(flow: Stack) -> None:
    order_no = await create_order(flow, amount=int(THRESHOLD))
    await technical_and_lead_time(flow, order_no)
    review = await wait_task(flow, "planning.delivery_review", order_no)
    view = await complete_ok(
        flow,
        "planning.delivery_review",
        order_no,
        {"delivery_date": review["context"]["proposed_date"]},
    )
    assert [t["kind"] for t in view["open_tasks"]] == ["sales.confirm_delivery"]
    assert await inbox(flow, "sales.management_approval", order_no) == []


async def test_refused_approval_declines_the_order_and_leaves_no_open_task(
    flow: Stack,
) -> None:
    order_no = await create_order(flow, amount=900000)
    await technical_and_lead_time(flow, order_no)
    await propose_and_plan_date(flow, order_no)
    view = await complete_ok(
        flow,
        "sales.management_approval",
        order_no,
        {"approved": False, "comment": "margin below policy"},
        roles=("head:sales",),
    )
    assert view["stage"] == "declined"
    assert view["status"] == "declined"
    assert "margin below policy" in view["status_reason"]
    assert view["open_tasks"] == []
    assert await open_tasks_everywhere(flow, order_no) == []
    handle = flow.client.get_workflow_handle(view["workflow_id"])
    assert await handle.result() == "declined"
    declined = await flow.http.get(
        "/orders", params={"status": "declined"}, headers=flow.token("ops-bot", *OPS)
    )
    assert [o["order_no"] for o in declined.json()] == [order_no]


# -- P1: the customer's answer ------------------------------------------------------------


async def test_customer_decline_at_confirmation_declines_the_order_with_its_reason(
    flow: Stack,
) -> None:
    order_no = await create_order(flow)
    await technical_and_lead_time(flow, order_no)
    await propose_and_plan_date(flow, order_no)
    view = await complete_ok(
        flow,
        "sales.confirm_delivery",
        order_no,
        {"accepted": False, "decline": True, "reason": "project postponed by the utility"},
    )
    assert view["stage"] == "declined" and view["status"] == "declined"
    assert "project postponed by the utility" in view["status_reason"]
    assert view["open_tasks"] == []
    assert await open_tasks_everywhere(flow, order_no) == []
    assert await flow.client.get_workflow_handle(view["workflow_id"]).result() == "declined"


async def test_customer_counter_date_goes_back_to_planning_and_becomes_the_due_date(
    flow: Stack,
) -> None:
    order_no = await create_order(flow)
    await technical_and_lead_time(flow, order_no)
    proposed = await propose_and_plan_date(flow, order_no)
    customer_date = (day(proposed) + timedelta(days=21)).isoformat()
    view = await complete_ok(
        flow,
        "sales.confirm_delivery",
        order_no,
        {"accepted": False, "customer_date": customer_date},
    )
    assert view["stage"] == "review"
    assert [t["kind"] for t in view["open_tasks"]] == ["planning.delivery_review"]
    second = await wait_task(flow, "planning.delivery_review", order_no)
    assert second["context"]["customer_date"] == customer_date
    assert any(e["kind"] == "counter_date" for e in view["timeline"])

    await complete_ok(flow, "planning.delivery_review", order_no, {"delivery_date": customer_date})
    confirm = await wait_task(flow, "sales.confirm_delivery", order_no)
    assert confirm["context"]["delivery_date"] == customer_date
    view = await complete_ok(flow, "sales.confirm_delivery", order_no, {"accepted": True})
    assert view["due_date"] == customer_date
    assert view["stage"] == "planning"
    reviews = await inbox(flow, "planning.delivery_review", order_no)
    assert [t["state"] for t in reviews] == ["done", "done"]
    confirmations = await inbox(flow, "sales.confirm_delivery", order_no)
    assert [t["state"] for t in confirmations] == ["done", "done"]
