"""The public contract of intake and the order views (API.md "Endpoints"), over real HTTP."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from tests.conftest import Stack
from tests.helpers import ORDER_VIEW_FIELDS, complete_ok, create_order, order_body, wait_task


def _customer() -> str:
    return f"Contract Test Works {uuid.uuid4().hex[:8]}"


def _line(**changes: Any) -> list[dict[str, Any]]:
    return [{"item": "KYN28-12", "description": "switchgear", "qty": 6, "unit": "set", **changes}]


def _days(offset: int) -> str:
    return (date.today() + timedelta(days=offset)).isoformat()


async def _post_order(
    stack: Stack, body: dict[str, Any], *, sub: str = "sam", key: str | None = None
) -> httpx.Response:
    headers = stack.token(sub, "sales")
    if key is not None:
        headers["Idempotency-Key"] = key
    return await stack.http.post("/sales/orders", json=body, headers=headers)


async def _orders_of(stack: Stack, customer: str, **filters: str) -> list[dict[str, Any]]:
    response = await stack.http.get(
        "/orders", params={"customer": customer, **filters}, headers=stack.token("o", "ops")
    )
    assert response.status_code == 200, response.text
    return list(response.json())


async def _open_reviews(stack: Stack, order_no: str) -> list[dict[str, Any]]:
    await wait_task(stack, "engineering.contract_review", order_no)
    response = await stack.http.get(
        "/engineering/tasks",
        params={"state": "open", "order_no": order_no, "kind": "engineering.contract_review"},
        headers=stack.token("e", "engineering"),
    )
    return list(response.json())


# (case, body overrides, the field the 422's detail must name)
INVALID_INTAKES: list[tuple[str, dict[str, Any], str]] = [
    ("empty lines", {"lines": []}, "lines"),
    ("qty zero", {"lines": _line(qty=0)}, "qty"),
    ("qty negative", {"lines": _line(qty=-2)}, "qty"),
    ("unknown unit", {"lines": _line(unit="crate")}, "unit"),
    ("requested today", {"requested_date": _days(0)}, "requested_date"),
    ("requested in the past", {"requested_date": _days(-30)}, "requested_date"),
    ("negative amount", {"amount": -1}, "amount"),
    ("order_no with a space", {"order_no": "SO 0412"}, "order_no"),
    ("order_no with a slash", {"order_no": "SO-04/12"}, "order_no"),
    ("lower-case currency", {"currency": "cny"}, "currency"),
    ("four-letter currency", {"currency": "EURO"}, "currency"),
    ("unknown field", {"discount_pct": 5}, "discount_pct"),
]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [pytest.param(o, f, id=case) for case, o, f in INVALID_INTAKES],
)
async def test_invalid_intake_is_422_naming_the_field_and_stores_nothing(
    stack: Stack, overrides: dict[str, Any], field: str
) -> None:
    customer = _customer()
    body = order_body(customer=customer, **overrides)
    response = await _post_order(stack, body)
    assert response.status_code == 422, response.text
    error = response.json()
    assert isinstance(error["error"], str) and error["error"], error
    assert field in error["detail"], error
    assert await _orders_of(stack, customer) == []
    found = await stack.http.get(f"/orders/{body['order_no']}", headers=stack.token("o", "ops"))
    assert found.status_code == 404, found.text


async def test_duplicate_order_no_is_409_and_keeps_the_first_order(stack: Stack) -> None:
    customer = _customer()
    body = order_body(customer=customer)
    assert (await _post_order(stack, body)).status_code == 201
    again = await _post_order(stack, {**body, "project_name": "another project"})
    assert again.status_code == 409, again.text
    assert again.json()["error"] == "duplicate_order"
    orders = await _orders_of(stack, customer)
    assert [(o["order_no"], o["project_name"]) for o in orders] == [
        (body["order_no"], body["project_name"])
    ]


async def test_intake_answers_201_with_order_no_and_workflow_id(stack: Stack) -> None:
    body = order_body()
    response = await _post_order(stack, body)
    assert response.status_code == 201, response.text
    assert response.json() == {
        "order_no": body["order_no"],
        "workflow_id": f"order-{body['order_no']}",
    }


async def test_same_idempotency_key_and_body_returns_the_same_single_order(stack: Stack) -> None:
    customer = _customer()
    body = order_body(customer=customer)
    key = f"key-{uuid.uuid4()}"
    first = await _post_order(stack, body, key=key)
    second = await _post_order(stack, body, key=key)
    assert (first.status_code, second.status_code) == (201, 201), second.text
    assert first.json() == second.json()
    assert [o["order_no"] for o in await _orders_of(stack, customer)] == [body["order_no"]]
    assert len(await _open_reviews(stack, body["order_no"])) == 1


async def test_concurrent_retries_with_one_idempotency_key_make_one_order(stack: Stack) -> None:
    customer = _customer()
    body = order_body(customer=customer)
    key = f"key-{uuid.uuid4()}"
    responses = await asyncio.gather(*(_post_order(stack, body, key=key) for _ in range(10)))
    assert [r.status_code for r in responses] == [201] * 10, [r.text for r in responses]
    assert {r.text for r in responses} == {responses[0].text}
    assert responses[0].json()["order_no"] == body["order_no"]
    assert [o["order_no"] for o in await _orders_of(stack, customer)] == [body["order_no"]]
    assert len(await _open_reviews(stack, body["order_no"])) == 1


async def test_idempotency_key_reused_with_another_body_is_422(stack: Stack) -> None:
    customer = _customer()
    key = f"key-{uuid.uuid4()}"
    first = order_body(customer=customer)
    assert (await _post_order(stack, first, key=key)).status_code == 201
    other = order_body(customer=customer)
    response = await _post_order(stack, other, key=key)
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "idempotency_key_reused"
    assert [o["order_no"] for o in await _orders_of(stack, customer)] == [first["order_no"]]


async def test_different_users_may_use_the_same_idempotency_key(stack: Stack) -> None:
    customer = _customer()
    key = f"key-{uuid.uuid4()}"
    sams, sues = order_body(customer=customer), order_body(customer=customer)
    assert (await _post_order(stack, sams, sub="sam", key=key)).status_code == 201
    response = await _post_order(stack, sues, sub="sue", key=key)
    assert response.status_code == 201, response.text
    assert response.json()["order_no"] == sues["order_no"]
    stored = {o["order_no"] for o in await _orders_of(stack, customer)}
    assert stored == {sams["order_no"], sues["order_no"]}


async def test_order_view_has_every_field_the_contract_names(stack: Stack) -> None:
    order_no = await create_order(stack)
    response = await stack.http.get(f"/orders/{order_no}", headers=stack.token("q", "quality"))
    assert response.status_code == 200, response.text
    view = response.json()
    assert set(view) >= ORDER_VIEW_FIELDS, sorted(view)
    assert (view["order_no"], view["stage"], view["status"]) == (order_no, "review", "active")


async def test_orders_filter_by_stage_and_customer(stack: Stack) -> None:
    customer = _customer()
    advanced = await create_order(stack, customer=customer)
    waiting = await create_order(stack, customer=customer)
    await create_order(stack, customer=_customer())
    await complete_ok(
        stack, "engineering.contract_review", advanced, {"ok": True, "design_days": 5}
    )
    await complete_ok(
        stack, "procurement.lead_time_review", advanced, {"lead_days": 10, "critical_items": []}
    )
    proposed = (await wait_task(stack, "planning.delivery_review", advanced))["context"]
    await complete_ok(
        stack, "planning.delivery_review", advanced, {"delivery_date": proposed["proposed_date"]}
    )
    view = await complete_ok(stack, "sales.confirm_delivery", advanced, {"accepted": True})
    assert view["stage"] == "planning"
    assert {o["order_no"] for o in await _orders_of(stack, customer)} == {advanced, waiting}
    assert len(await _orders_of(stack, customer[-8:].upper())) == 2  # substring, any case
    assert [o["order_no"] for o in await _orders_of(stack, customer, stage="planning")] == [
        advanced
    ]
    assert [o["order_no"] for o in await _orders_of(stack, customer, stage="review")] == [waiting]


async def test_orders_refuse_an_unknown_stage(stack: Stack) -> None:
    response = await stack.http.get(
        "/orders", params={"stage": "shipping"}, headers=stack.token("o", "ops")
    )
    assert response.status_code == 422, response.text
    assert "stage" in response.json()["detail"]


@pytest.mark.parametrize("path", ["/orders/SO-NOPE-404", "/planning/orders/SO-NOPE-404/plan"])
async def test_unknown_order_is_404_not_found(stack: Stack, path: str) -> None:
    response = await stack.http.get(path, headers=stack.token("p", "planning"))
    assert response.status_code == 404, response.text
    assert response.json()["error"] == "not_found"
    assert "SO-NOPE-404" in response.json()["detail"]


async def test_plan_of_an_order_in_review_has_no_revision_yet(stack: Stack) -> None:
    order_no = await create_order(stack)
    response = await stack.http.get(
        f"/planning/orders/{order_no}/plan", headers=stack.token("s", "sales")
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"order_no": order_no, "current_revision": None, "revisions": []}


async def test_openapi_is_public_and_lists_the_contract_paths(stack: Stack) -> None:
    response = await stack.http.get("/openapi.json")
    assert response.status_code == 200, response.text
    paths = set(response.json()["paths"])
    expected = {
        "/sales/orders",
        "/orders",
        "/orders/{order_no}",
        "/planning/orders/{order_no}/plan",
        "/escalations",
        "/escalations/{escalation_id}/ack",
        "/healthz",
    }
    for dept in ("sales", "planning", "engineering", "procurement", "warehouse", "quality"):
        expected |= {f"/{dept}/tasks", f"/{dept}/tasks/{{task_id}}"}
        expected.add(f"/{dept}/tasks/{{task_id}}/complete")
    assert expected <= paths, sorted(expected - paths)
