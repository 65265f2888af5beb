"""Who may call (API.md "Who may call"): 401 without a valid token, 403 for a wrong role."""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

import httpx
import jwt
import pytest

from tests.conftest import Stack
from tests.helpers import complete, complete_ok, create_order, order_body, wait_task

PUBLIC_PATHS = {"/healthz"}


def _signed(stack: Stack, claims: dict[str, Any], key: str | None = None) -> dict[str, str]:
    """Auth headers for a token with exactly `claims`, signed with `key` (default: the API's)."""
    settings = stack.settings
    token = jwt.encode(claims, key or settings.signing_key(), algorithm=settings.jwt_algorithm)
    return {"Authorization": f"Bearer {token}"}


def _claims(**changes: Any) -> dict[str, Any]:
    now = int(time.time())
    return {"sub": "mallory", "roles": ["sales"], "iat": now, "exp": now + 600, **changes}


def _bad_headers(stack: Stack) -> dict[str, dict[str, str]]:
    """Every way a caller can fail to authenticate, by name."""
    unsigned = jwt.encode(_claims(), "", algorithm="none")
    return {
        "no token": {},
        "empty bearer": {"Authorization": "Bearer"},
        "not bearer": {"Authorization": "Basic c2FtOnNhbQ=="},
        "malformed": {"Authorization": "Bearer not-a-jwt"},
        "other key": _signed(stack, _claims(), key="another-signing-key-" + "y" * 32),
        "expired": _signed(stack, _claims(exp=int(time.time()) - 60)),
        "alg none": {"Authorization": f"Bearer {unsigned}"},
        "no sub": _signed(stack, {k: v for k, v in _claims().items() if k != "sub"}),
    }


def _assert_error(response: httpx.Response, status: int, error: str) -> None:
    assert response.status_code == status, f"{response.request.url}: {response.text}"
    body = response.json()
    assert body["error"] == error, body
    assert isinstance(body["detail"], str) and body["detail"], body


async def _operations(stack: Stack) -> list[tuple[str, str]]:
    """Every (method, concrete path) the app publishes, path parameters filled in."""
    spec = (await stack.http.get("/openapi.json")).json()
    operations = []
    for path, methods in spec["paths"].items():
        concrete = re.sub(r"\{[^}]+\}", "1", path)
        operations += [(method.upper(), concrete) for method in methods if path not in PUBLIC_PATHS]
    return operations


async def test_every_route_but_healthz_refuses_a_request_without_a_valid_token(
    stack: Stack,
) -> None:
    operations = await _operations(stack)
    assert len(operations) >= 20, operations
    for name, headers in _bad_headers(stack).items():
        for method, path in operations:
            response = await stack.http.request(method, path, headers=headers)
            assert response.status_code == 401, f"{name}: {method} {path} → {response.text}"
            assert response.json()["error"] == "unauthorized", f"{name}: {method} {path}"


@pytest.mark.parametrize(
    "case", ["no token", "malformed", "other key", "expired", "alg none", "no sub"]
)
async def test_intake_without_a_valid_token_is_401_and_stores_nothing(
    stack: Stack, case: str
) -> None:
    body = order_body()
    response = await stack.http.post("/sales/orders", json=body, headers=_bad_headers(stack)[case])
    _assert_error(response, 401, "unauthorized")
    assert response.headers.get("WWW-Authenticate", "").startswith("Bearer")
    found = await stack.http.get(f"/orders/{body['order_no']}", headers=stack.token("o", "ops"))
    _assert_error(found, 404, "not_found")


async def test_healthz_answers_without_a_token(stack: Stack) -> None:
    response = await stack.http.get("/healthz")
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "ok"


async def test_engineering_may_not_take_in_an_order(stack: Stack) -> None:
    body = order_body()
    response = await stack.http.post(
        "/sales/orders", json=body, headers=stack.token("eve", "engineering")
    )
    _assert_error(response, 403, "forbidden")
    found = await stack.http.get(f"/orders/{body['order_no']}", headers=stack.token("o", "ops"))
    _assert_error(found, 404, "not_found")


@pytest.mark.parametrize("path", ["/quality/tasks", "/quality/tasks/any-task-id"])
async def test_sales_may_not_read_the_quality_inbox(stack: Stack, path: str) -> None:
    response = await stack.http.get(path, headers=stack.token("sam", "sales"))
    _assert_error(response, 403, "forbidden")


async def test_sales_may_not_complete_an_engineering_task(stack: Stack) -> None:
    order_no = await create_order(stack)
    response = await complete(
        stack,
        "engineering.contract_review",
        order_no,
        {"ok": True, "design_days": 5},
        roles=("sales",),
    )
    _assert_error(response, 403, "forbidden")
    task = await wait_task(stack, "engineering.contract_review", order_no)
    assert task["state"] == "open"


async def test_ops_may_read_but_not_complete_a_task(stack: Stack) -> None:
    order_no = await create_order(stack)
    task = await wait_task(stack, "engineering.contract_review", order_no)
    shown = await stack.http.get(
        f"/engineering/tasks/{task['task_id']}", headers=stack.token("olga", "ops")
    )
    assert shown.status_code == 200, shown.text
    response = await complete(
        stack,
        "engineering.contract_review",
        order_no,
        {"ok": True, "design_days": 5},
        roles=("ops",),
    )
    _assert_error(response, 403, "forbidden")


async def _order_awaiting_management_approval(stack: Stack) -> str:
    """An order above the approval threshold, reviewed up to management's approval."""
    order_no = await create_order(stack, amount=2_500_000)
    await complete_ok(
        stack, "engineering.contract_review", order_no, {"ok": True, "design_days": 10}
    )
    await complete_ok(
        stack, "procurement.lead_time_review", order_no, {"lead_days": 20, "critical_items": []}
    )
    review = await wait_task(stack, "planning.delivery_review", order_no)
    proposed = review["context"]["proposed_date"]
    await complete_ok(stack, "planning.delivery_review", order_no, {"delivery_date": proposed})
    await wait_task(stack, "sales.management_approval", order_no)
    return order_no


async def test_management_approval_refuses_plain_sales_and_takes_head_of_sales(
    stack: Stack,
) -> None:
    order_no = await _order_awaiting_management_approval(stack)
    decision = {"approved": True, "comment": "strategic customer"}
    refused = await complete(
        stack, "sales.management_approval", order_no, decision, roles=("sales",)
    )
    _assert_error(refused, 403, "forbidden")
    task = await wait_task(stack, "sales.management_approval", order_no)
    assert task["state"] == "open"
    view = await complete_ok(
        stack, "sales.management_approval", order_no, decision, roles=("head:sales",), sub="hana"
    )
    assert "sales.management_approval" not in [t["kind"] for t in view["open_tasks"]]


async def test_division_may_give_management_approval(stack: Stack) -> None:
    order_no = await _order_awaiting_management_approval(stack)
    view = await complete_ok(
        stack,
        "sales.management_approval",
        order_no,
        {"approved": True, "comment": "ok"},
        roles=("division",),
        sub=f"dir-{uuid.uuid4().hex[:4]}",
    )
    assert view["status"] == "active"
