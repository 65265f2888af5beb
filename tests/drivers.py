"""Drivers of the review and planning paths, shared by the P1 and P2 test modules."""

from __future__ import annotations

from datetime import date
from typing import Any

from shared.settings import DEPARTMENTS
from tests.conftest import Stack
from tests.helpers import complete_ok, wait_task

OPS = ("ops",)


async def technical_and_lead_time(
    stack: Stack, order_no: str, *, design_days: int = 10, lead_days: int = 30
) -> None:
    await complete_ok(
        stack,
        "procurement.lead_time_review",
        order_no,
        {"lead_days": lead_days, "critical_items": ["VS1 breaker"]},
    )
    await complete_ok(
        stack,
        "engineering.contract_review",
        order_no,
        {"ok": True, "design_days": design_days, "issues": []},
    )


async def propose_and_plan_date(stack: Stack, order_no: str) -> str:
    """Planning commits to its own proposal; returns the date."""
    review = await wait_task(stack, "planning.delivery_review", order_no)
    proposed = str(review["context"]["proposed_date"])
    await complete_ok(stack, "planning.delivery_review", order_no, {"delivery_date": proposed})
    return proposed


async def to_master_plan(stack: Stack, order_no: str, **figures: int) -> tuple[str, dict[str, Any]]:
    """Review and confirm an order; returns its due date and the open master-plan task."""
    await technical_and_lead_time(stack, order_no, **figures)
    due = await propose_and_plan_date(stack, order_no)
    view = await complete_ok(stack, "sales.confirm_delivery", order_no, {"accepted": True})
    assert view["due_date"] == due and view["stage"] == "planning"
    return due, await wait_task(stack, "planning.master_plan", order_no)


async def inbox(stack: Stack, kind: str, order_no: str, state: str | None = None) -> list[Any]:
    params = {"order_no": order_no, "kind": kind, **({"state": state} if state else {})}
    response = await stack.http.get(
        f"/{kind.split('.')[0]}/tasks", params=params, headers=stack.token("ops-bot", *OPS)
    )
    assert response.status_code == 200, response.text
    return list(response.json())


async def open_tasks_everywhere(stack: Stack, order_no: str) -> list[Any]:
    """Open tasks of the order in every department's inbox."""
    found: list[Any] = []
    for dept in DEPARTMENTS:
        response = await stack.http.get(
            f"/{dept}/tasks",
            params={"order_no": order_no, "state": "open"},
            headers=stack.token("ops-bot", *OPS),
        )
        assert response.status_code == 200, response.text
        found += response.json()
    return found


async def order(stack: Stack, order_no: str) -> dict[str, Any]:
    response = await stack.http.get(f"/orders/{order_no}", headers=stack.token("ops-bot", *OPS))
    assert response.status_code == 200, response.text
    return dict(response.json())


async def plan_history(stack: Stack, order_no: str) -> dict[str, Any]:
    response = await stack.http.get(
        f"/planning/orders/{order_no}/plan", headers=stack.token("ops-bot", *OPS)
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def day(text: str) -> date:
    return date.fromisoformat(text)


def iso(dates: dict[str, date]) -> dict[str, str]:
    return {name: value.isoformat() for name, value in dates.items()}


def proposal_of(task: dict[str, Any]) -> dict[str, date]:
    return {name: day(value) for name, value in task["context"]["proposal"].items()}
