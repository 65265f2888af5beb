"""Builders and drivers the tests share: an order body, waiting for a task, completing it."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

import httpx
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from tests.conftest import Stack

# What API.md promises every order view carries.
ORDER_VIEW_FIELDS = {
    "stage",
    "status",
    "due_date",
    "plan",
    "milestones",
    "open_tasks",
    "escalations",
    "timeline",
}

ROLES_FOR = {
    "sales.management_approval": ("head:sales",),
}


def order_body(order_no: str | None = None, **overrides: Any) -> dict[str, Any]:
    """A valid intake body; override any field."""
    body: dict[str, Any] = {
        "order_no": order_no or f"SO-{uuid.uuid4().hex[:8]}",
        "customer": "Huadian Power Equipment",
        "project_name": "10 kV switchgear line-up",
        "contract_no": "HT-2026-0412",
        "technical_agreement_ref": "TA-0412",
        "drawing_refs": ["DWG-0412-01"],
        "lines": [
            {"item": "KYN28-12", "description": "withdrawable switchgear", "qty": 6, "unit": "set"}
        ],
        "requested_date": (date.today() + timedelta(days=120)).isoformat(),
        "amount": 480000,
        "currency": "CNY",
        "priority": "normal",
    }
    body.update(overrides)
    return body


async def create_order(stack: Stack, **overrides: Any) -> str:
    body = order_body(**overrides)
    response = await stack.http.post(
        "/sales/orders", json=body, headers=stack.token("sam", "sales")
    )
    assert response.status_code == 201, response.text
    return str(body["order_no"])


async def wait_task(
    stack: Stack, kind: str, order_no: str, *, timeout: float = 15.0
) -> dict[str, Any]:
    """The open task of `kind` for the order, once its inbox shows it."""
    dept = kind.split(".")[0]
    headers = stack.token("ops-bot", "ops")
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        response = await stack.http.get(
            f"/{dept}/tasks",
            params={"state": "open", "order_no": order_no, "kind": kind},
            headers=headers,
        )
        assert response.status_code == 200, response.text
        if response.json():
            return dict(response.json()[0])
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"no open {kind} for {order_no} after {timeout}s")
        await asyncio.sleep(0.05)


async def complete(
    stack: Stack,
    kind: str,
    order_no: str,
    payload: dict[str, Any],
    *,
    roles: tuple[str, ...] | None = None,
    sub: str = "worker-1",
) -> httpx.Response:
    """Complete the open task of `kind` for the order over HTTP."""
    task = await wait_task(stack, kind, order_no)
    dept = kind.split(".")[0]
    return await stack.http.post(
        f"/{dept}/tasks/{task['task_id']}/complete",
        json=payload,
        headers=stack.token(sub, *(roles or ROLES_FOR.get(kind, (dept,)))),
    )


async def complete_ok(
    stack: Stack, kind: str, order_no: str, payload: dict[str, Any], **kwargs: Any
) -> dict[str, Any]:
    response = await complete(stack, kind, order_no, payload, **kwargs)
    assert response.status_code == 200, f"{kind}: {response.status_code} {response.text}"
    return dict(response.json())


def days_ahead(days: int) -> str:
    return (date.today() + timedelta(days=days)).isoformat()


# Just past a deadline: if a breach leaves work no worker takes, the test server stops
# skipping time and these seconds pass in real time instead of failing the sleep.
MARGIN = timedelta(seconds=2)


async def advance(ts_env: WorkflowEnvironment, delta: timedelta) -> None:
    """Skip workflow time by `delta`; a clear failure when the test server cannot skip."""
    try:
        await ts_env.sleep(delta)
    except RPCError as exc:
        raise AssertionError(
            f"the time-skipping server could not advance {delta} ({exc.message}): a workflow "
            "or activity task is waiting for a worker that does not serve it"
        ) from exc


async def advance_to(ts_env: WorkflowEnvironment, moment: datetime) -> None:
    """Skip workflow time to `moment` (no-op when it has passed)."""
    delta = moment - await ts_env.get_current_time()
    if delta > timedelta(0):
        await advance(ts_env, delta)


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


async def escalations(stack: Stack, order_no: str) -> list[dict[str, Any]]:
    response = await stack.http.get(
        "/escalations", params={"order_no": order_no}, headers=stack.token("ops-bot", "ops")
    )
    assert response.status_code == 200, response.text
    return list(response.json())


async def wait_escalation(
    stack: Stack,
    order_no: str,
    predicate: Callable[[dict[str, Any]], bool],
    *,
    timeout: float = 30.0,
) -> dict[str, Any]:
    """The order's escalation matching `predicate`, once GET /escalations lists it."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        found = [e for e in await escalations(stack, order_no) if predicate(e)]
        if found:
            return found[0]
        if asyncio.get_running_loop().time() > deadline:
            listed = await escalations(stack, order_no)
            raise AssertionError(f"no matching escalation for {order_no} in {listed}")
        await asyncio.sleep(0.1)
