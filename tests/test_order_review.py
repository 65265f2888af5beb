"""P1 order review and P2 master plan, driven over HTTP against real Temporal and PostgreSQL."""

from __future__ import annotations

from tests.conftest import Stack
from tests.helpers import complete_ok, create_order, wait_task


async def _review(stack: Stack, order_no: str, design_days: int = 10, lead_days: int = 30) -> None:
    await complete_ok(
        stack, "engineering.contract_review", order_no, {"ok": True, "design_days": design_days}
    )
    await complete_ok(
        stack,
        "procurement.lead_time_review",
        order_no,
        {"lead_days": lead_days, "critical_items": ["VS1 breaker"]},
    )


async def test_order_reaches_engineering_through_review_and_plan(stack: Stack) -> None:
    order_no = await create_order(stack)
    first = await complete_ok(
        stack,
        "engineering.contract_review",
        order_no,
        {"ok": False, "design_days": 0, "issues": ["busbar rating missing on DWG-01"]},
    )
    assert first["stage"] == "review"
    await _review(stack, order_no)
    review = await wait_task(stack, "planning.delivery_review", order_no)
    proposed = review["context"]["proposed_date"]
    await complete_ok(stack, "planning.delivery_review", order_no, {"delivery_date": proposed})
    confirmed = await complete_ok(stack, "sales.confirm_delivery", order_no, {"accepted": True})
    assert confirmed["stage"] == "planning"
    assert confirmed["due_date"] == proposed
    view = await complete_ok(stack, "planning.master_plan", order_no, {"accept_proposal": True})
    assert view["stage"] == "engineering"
    kinds = sorted(t["kind"] for t in view["open_tasks"])
    assert kinds == ["engineering.release_bom", "engineering.release_drawings"]
    assert view["plan"]["revision"] == 1
    rounds = [e for e in view["timeline"] if e["kind"] == "technical_issues"]
    assert len(rounds) == 1 and "busbar" in str(rounds[0]["detail"])
    reviews = await stack.http.get(
        "/engineering/tasks",
        params={"order_no": order_no, "kind": "engineering.contract_review"},
        headers=stack.token("e", "engineering"),
    )
    assert [t["state"] for t in reviews.json()] == ["done", "done"]
