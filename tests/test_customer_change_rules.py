"""What a customer change must carry and when the order takes one ("At any time", issue 4
item 6): no written confirmation, no change; a change that cannot apply is a 422 that stores
nothing; one change at a time; quantity and scope freeze at production start; a cancellation
withdraws a change still awaiting agreement; a smaller order frees its reserved surplus at once;
a retried Idempotency-Key answers the change it made."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.testing import WorkflowEnvironment

from tests.cancellation_drivers import _assert_nothing_open, _cancel_ok
from tests.change_drivers import D, change, change_ok, changes_of, plan_revisions
from tests.conftest import Stack
from tests.helpers import create_order, wait_task
from tests.material_drivers import (
    SETS,
    milestones,
    order_view,
    place_orders,
    receive_in_full,
    stock,
    to_materials,
    to_production,
)

QTY = {"kind": "qty", "detail": "one more set", "qty": 7}


async def test_bad_changes_are_refused_and_store_nothing(flow: Stack) -> None:
    suffix = uuid.uuid4().hex[:6]
    order_no, _ = await to_materials(flow, suffix)
    revisions = await plan_revisions(flow, order_no)
    cases = [
        # (body, status, error, words in the detail)
        (QTY, 422, "customer_confirmation_required", "customer_confirmation_ref"),
        ({**QTY, "customer_confirmation_ref": "  "}, 422, "customer_confirmation_required", ""),
        ({"kind": "qty", "detail": "more", "customer_confirmation_ref": "R"}, 422, None, "qty"),
        ({"kind": "scope", "detail": "x", "customer_confirmation_ref": "R"}, 422, None, "bom"),
        ({"kind": "date", "detail": "x", "customer_confirmation_ref": "R"}, 422, None, "new_date"),
        ({**QTY, "customer_confirmation_ref": "R", "qty": 6}, 422, "invalid_change", "already"),
        (
            {**QTY, "customer_confirmation_ref": "R", "item": "NOPE"},
            422,
            "invalid_change",
            "not on the order",
        ),
        (
            {
                "kind": "scope",
                "detail": "drop a part that is not there",
                "customer_confirmation_ref": "R",
                "bom_changes": [{"item": "GHOST", "qty_per": 0, "make_or_buy": "buy"}],
            },
            422,
            "invalid_change",
            "GHOST",
        ),
        (
            {
                "kind": "date",
                "detail": "yesterday",
                "customer_confirmation_ref": "R",
                "new_date": "2020-01-01",
            },
            422,
            "invalid_change",
            "after today",
        ),
    ]
    for body, status, error, words in cases:
        response = await change(flow, order_no, body)
        assert response.status_code == status, (body, response.text)
        if error:
            assert response.json()["error"] == error, response.text
        assert words in response.json()["detail"], response.text
    wrong_role = await flow.http.post(
        f"/sales/orders/{order_no}/changes",
        json={**QTY, "customer_confirmation_ref": "R"},
        headers=flow.token("pat", "planning"),
    )
    assert wrong_role.status_code == 403
    missing = await change(flow, "SO-NOSUCH", {**QTY, "customer_confirmation_ref": "R"})
    assert missing.status_code == 404
    view = await order_view(flow, order_no)
    assert view["changes"] == [] and D(view["lines"][0]["qty"]) == SETS
    assert await plan_revisions(flow, order_no) == revisions


async def test_one_change_at_a_time_and_the_stages_that_take_none(
    flow: Stack, ts_env: WorkflowEnvironment
) -> None:
    in_review = await create_order(flow)
    refused = await change(
        flow,
        in_review,
        {
            "kind": "date",
            "detail": "earlier please",
            "customer_confirmation_ref": "R",
            "new_date": "2027-06-01",
        },
    )
    assert refused.status_code == 409 and refused.json()["error"] == "change_refused"
    assert "contract review" in refused.json()["detail"]
    no_bom = await change(
        flow,
        in_review,
        {
            "kind": "scope",
            "detail": "add CTs",
            "customer_confirmation_ref": "R",
            "bom_changes": [{"item": "CT", "qty_per": 3, "make_or_buy": "buy"}],
        },
    )
    assert no_bom.status_code == 409 and "no released BOM" in no_bom.json()["detail"]

    order_no, _ = await to_materials(flow, uuid.uuid4().hex[:6])
    held = await change_ok(flow, order_no, {**QTY, "customer_confirmation_ref": "R-1"}, 202)
    again = await change(flow, order_no, {**QTY, "qty": 9, "customer_confirmation_ref": "R-2"})
    assert again.status_code == 409 and held["change_no"] in again.json()["detail"]

    producing, _ = await to_production(flow, ts_env, uuid.uuid4().hex[:6])
    frozen = await change(flow, producing, {**QTY, "customer_confirmation_ref": "R"})
    assert frozen.status_code == 409 and "frozen" in frozen.json()["detail"], frozen.text


async def test_cancelling_withdraws_a_change_awaiting_agreement(
    flow: Stack, engine: AsyncEngine
) -> None:
    order_no, _ = await to_materials(flow, uuid.uuid4().hex[:6])
    held = await change_ok(flow, order_no, {**QTY, "customer_confirmation_ref": "R-1"}, 202)
    task = await wait_task(flow, "sales.change_agreement", order_no)
    result = await _cancel_ok(flow, order_no)
    assert task["task_id"] in result["unwound"]["tasks"]
    await _assert_nothing_open(flow, engine, order_no)
    record = changes_of(await order_view(flow, order_no))[held["change_no"]]
    assert record["state"] == "withdrawn" and "cancelled" in record["outcome"]


async def test_a_smaller_order_frees_its_reserved_surplus_at_once(flow: Stack) -> None:
    suffix = uuid.uuid4().hex[:6]
    bolt, breaker = f"BOLT-{suffix}", f"VS1-{suffix}"
    order_no, view = await to_materials(flow, suffix)
    required = milestones(view)["material_required"]
    bolts_po, breakers_po = await place_orders(
        flow, order_no, suffix, breaker_promised=required - timedelta(days=1)
    )
    await receive_in_full(flow, order_no, suffix, bolts_po, breakers_po)
    body = {
        "kind": "qty",
        "detail": {"description": "the second substation is dropped", "qty": 4},
        "customer_confirmation_ref": "HD-FAX-0901",
    }
    first = await change(flow, order_no, body, **{"Idempotency-Key": "chg-0901"})
    assert first.status_code == 200, first.text
    applied = first.json()
    assert applied["state"] == "applied" and applied["impact"]["cost_rises"] is False
    assert applied["impact"]["surplus"] == {
        "KYN28-12": "2",
        f"FRAME-{suffix}": "2",
        breaker: "2",
        bolt: "96",
    }
    retry = await change(flow, order_no, body, **{"Idempotency-Key": "chg-0901"})
    assert retry.status_code == 200 and retry.json()["change_no"] == applied["change_no"]
    reused = await change(
        flow,
        order_no,
        {**body, "customer_confirmation_ref": "HD-FAX-0902"},
        **{"Idempotency-Key": "chg-0901"},
    )
    assert reused.status_code == 422 and reused.json()["error"] == "idempotency_key_reused"
    view = await order_view(flow, order_no)
    assert D(view["lines"][0]["qty"]) == 4 and len(view["changes"]) == 1
    required_now = {m["item"]: D(m["required"]) for m in view["materials"]}
    assert required_now[breaker] == 4 and required_now[bolt] == 192
    for item, free in ((breaker, 2), (bolt, 96)):
        assert D((await stock(flow, item))["free"]) == free
