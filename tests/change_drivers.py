"""Drivers shared by the customer-change tests: sending a change over HTTP and reading back
what it did to the order, its plan and its material."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx

from tests.conftest import Stack
from tests.drivers import plan_history

D = Decimal
SALES = ("sam", "sales")


async def change(
    stack: Stack, order_no: str, body: dict[str, Any], **headers: str
) -> httpx.Response:
    return await stack.http.post(
        f"/sales/orders/{order_no}/changes",
        json=body,
        headers={**stack.token(*SALES), **headers},
    )


async def change_ok(
    stack: Stack, order_no: str, body: dict[str, Any], status: int
) -> dict[str, Any]:
    response = await change(stack, order_no, body)
    assert response.status_code == status, response.text
    return dict(response.json())


async def requisitions(stack: Stack, order_no: str) -> list[dict[str, Any]]:
    response = await stack.http.get(
        "/procurement/requisitions",
        params={"order_no": order_no},
        headers=stack.token("ops-bot", "ops"),
    )
    assert response.status_code == 200, response.text
    return list(response.json())


async def plan_revisions(stack: Stack, order_no: str) -> list[dict[str, Any]]:
    return list((await plan_history(stack, order_no))["revisions"])


def changes_of(view: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["change_no"]: c for c in view["changes"]}
