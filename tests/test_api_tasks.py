"""Inboxes and task completion (API.md `/{dept}/tasks`): 200, 404, 409 and 422, over real HTTP."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from tests.conftest import Stack
from tests.helpers import ORDER_VIEW_FIELDS, complete, complete_ok, create_order, wait_task

REVIEW = "engineering.contract_review"
DEPARTMENTS = (
    "sales",
    "planning",
    "engineering",
    "procurement",
    "warehouse",
    "quality",
    "production",
    "aftersales",
)


async def _show(stack: Stack, task_id: str, dept: str = "engineering") -> dict[str, Any]:
    response = await stack.http.get(f"/{dept}/tasks/{task_id}", headers=stack.token("o", "ops"))
    assert response.status_code == 200, response.text
    return dict(response.json())


async def _post_complete(
    stack: Stack, task_id: str, payload: dict[str, Any], *, sub: str = "erin"
) -> httpx.Response:
    return await stack.http.post(
        f"/engineering/tasks/{task_id}/complete",
        json=payload,
        headers=stack.token(sub, "engineering"),
    )


async def _workflow_open_task_ids(stack: Stack, workflow_id: str) -> list[str]:
    state = await stack.client.get_workflow_handle(workflow_id).query("state")
    return [t["task_id"] for t in state["open_tasks"]]


async def _reviews(stack: Stack, order_no: str, state: str | None = None) -> list[dict[str, Any]]:
    params = {"order_no": order_no, "kind": REVIEW} | ({"state": state} if state else {})
    response = await stack.http.get(
        "/engineering/tasks", params=params, headers=stack.token("e", "engineering")
    )
    assert response.status_code == 200, response.text
    return list(response.json())


async def _assert_still_open(stack: Stack, task: dict[str, Any]) -> None:
    assert (await _show(stack, task["task_id"]))["state"] == "open"
    assert task["task_id"] in await _workflow_open_task_ids(stack, task["workflow_id"])


async def test_completing_an_unknown_task_is_404(stack: Stack) -> None:
    response = await _post_complete(stack, "order-nope-t1", {"ok": True, "design_days": 1})
    assert response.status_code == 404, response.text
    assert response.json()["error"] == "not_found"
    shown = await stack.http.get(
        "/engineering/tasks/order-nope-t1", headers=stack.token("o", "ops")
    )
    assert shown.status_code == 404, shown.text


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        pytest.param({"ok": False, "design_days": 3}, "issues", id="not ok without issues"),
        pytest.param({"ok": False, "design_days": 3, "issues": [" "]}, "issues", id="blank issue"),
        pytest.param({"ok": True, "design_days": "ten"}, "design_days", id="design_days word"),
        pytest.param({"ok": True, "design_days": "10"}, "design_days", id="design_days string"),
        pytest.param({"ok": True, "design_days": -1}, "design_days", id="negative design_days"),
        pytest.param({"design_days": 3}, "ok", id="ok missing"),
    ],
)
async def test_payload_breaking_the_schema_is_422_and_leaves_the_task_open(
    stack: Stack, payload: dict[str, Any], field: str
) -> None:
    order_no = await create_order(stack)
    task = await wait_task(stack, REVIEW, order_no)
    response = await _post_complete(stack, task["task_id"], payload)
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "invalid_payload"
    if field != "issues":  # the not-ok rule is a sentence about the whole payload
        assert field in response.json()["detail"], response.json()
    await _assert_still_open(stack, task)


async def test_completion_returns_the_order_view_and_inbox_and_workflow_agree(
    stack: Stack,
) -> None:
    order_no = await create_order(stack)
    task = await wait_task(stack, REVIEW, order_no)
    payload = {"ok": True, "design_days": 12, "issues": [], "reviewer_note": "std design"}
    response = await _post_complete(stack, task["task_id"], payload, sub="erin")
    assert response.status_code == 200, response.text
    view = response.json()
    assert set(view) >= ORDER_VIEW_FIELDS, sorted(view)
    assert view["order_no"] == order_no
    assert task["task_id"] not in [t["task_id"] for t in view["open_tasks"]]
    row = await _show(stack, task["task_id"])
    assert (row["state"], row["completed_by"]) == ("done", "erin")
    assert row["payload"] == payload
    assert task["task_id"] not in await _workflow_open_task_ids(stack, task["workflow_id"])


async def test_second_completion_of_a_task_is_409_task_not_open(stack: Stack) -> None:
    order_no = await create_order(stack)
    task = await wait_task(stack, REVIEW, order_no)
    payload = {"ok": True, "design_days": 4}
    assert (await _post_complete(stack, task["task_id"], payload)).status_code == 200
    again = await _post_complete(stack, task["task_id"], {"ok": True, "design_days": 9})
    assert again.status_code == 409, again.text
    assert again.json()["error"] == "task_not_open"
    assert (await _show(stack, task["task_id"]))["payload"]["design_days"] == 4


async def test_a_retry_whose_answer_was_lost_is_told_who_completed_the_task(stack: Stack) -> None:
    """A client that completed a task but never got the answer retries the same completion:
    409 names who completed it and when, so it knows its completion went through."""
    order_no = await create_order(stack)
    task = await wait_task(stack, REVIEW, order_no)
    payload = {"ok": True, "design_days": 4}
    first = await _post_complete(stack, task["task_id"], payload, sub="erin")
    assert first.status_code == 200, first.text
    retry = await _post_complete(stack, task["task_id"], payload, sub="erin")
    assert retry.status_code == 409, retry.text
    detail = retry.json()["detail"]
    assert retry.json()["error"] == "task_not_open"
    assert f"task {task['task_id']} is already done: erin completed it at " in detail, detail


async def test_concurrent_completions_one_wins_and_the_order_moves_on_once(stack: Stack) -> None:
    order_no = await create_order(stack)
    task = await wait_task(stack, REVIEW, order_no)
    payloads = [
        {"ok": False, "design_days": 0, "issues": ["busbar rating missing"]},
        {"ok": False, "design_days": 0, "issues": ["earthing switch unspecified"]},
    ]
    responses = await asyncio.gather(
        *(_post_complete(stack, task["task_id"], p, sub=f"eng-{i}") for i, p in enumerate(payloads))
    )
    assert sorted(r.status_code for r in responses) == [200, 409], [r.text for r in responses]
    loser = next(r for r in responses if r.status_code == 409)
    assert loser.json()["error"] == "task_not_open"
    await wait_task(stack, REVIEW, order_no)  # the second round opened, once
    reviews = await _reviews(stack, order_no)
    assert sorted(r["state"] for r in reviews) == ["done", "open"], reviews
    view = (await stack.http.get(f"/orders/{order_no}", headers=stack.token("o", "ops"))).json()
    completed = [
        e
        for e in view["timeline"]
        if e["kind"] == "task_completed" and e["detail"].get("task_id") == task["task_id"]
    ]
    assert len(completed) == 1
    assert len([e for e in view["timeline"] if e["kind"] == "technical_issues"]) == 1


async def test_task_detail_carries_context_and_the_payload_schema(stack: Stack) -> None:
    order_no = await create_order(stack)
    task = await wait_task(stack, REVIEW, order_no)
    detail = await _show(stack, task["task_id"])
    for field in ("task_id", "kind", "order_no", "workflow_id", "title", "created_at", "due_at"):
        assert detail[field] == task[field]
    assert detail["context"]["round"] == 1
    assert detail["context"]["lines"][0]["item"] == "KYN28-12"
    schema = detail["payload_schema"]
    assert {"ok", "design_days", "issues"} <= set(schema["properties"])
    assert schema["properties"]["design_days"]["type"] == "integer"
    assert "ok" in schema["required"]


async def test_inbox_filters_by_state(stack: Stack) -> None:
    order_no = await create_order(stack)
    first = await wait_task(stack, REVIEW, order_no)
    issues = {"ok": False, "design_days": 0, "issues": ["rating plate missing"]}
    assert (await _post_complete(stack, first["task_id"], issues)).status_code == 200
    second = await wait_task(stack, REVIEW, order_no)
    assert second["task_id"] != first["task_id"]
    assert [t["task_id"] for t in await _reviews(stack, order_no, "open")] == [second["task_id"]]
    assert [t["task_id"] for t in await _reviews(stack, order_no, "done")] == [first["task_id"]]
    everything = {t["task_id"] for t in await _reviews(stack, order_no)}
    assert everything == {first["task_id"], second["task_id"]}


async def test_ops_reads_every_department_inbox(stack: Stack) -> None:
    order_no = await create_order(stack)
    await wait_task(stack, "procurement.lead_time_review", order_no)
    for dept in DEPARTMENTS:
        response = await stack.http.get(f"/{dept}/tasks", headers=stack.token("olga", "ops"))
        assert response.status_code == 200, f"{dept}: {response.text}"
        assert isinstance(response.json(), list)


async def test_admin_completes_any_department_task(stack: Stack) -> None:
    order_no = await create_order(stack)
    view = await complete_ok(
        stack, REVIEW, order_no, {"ok": True, "design_days": 2}, roles=("admin",), sub="root"
    )
    assert REVIEW not in [t["kind"] for t in view["open_tasks"]]
    await complete_ok(
        stack,
        "procurement.lead_time_review",
        order_no,
        {"lead_days": 5, "critical_items": []},
        roles=("admin",),
        sub="root",
    )
    done = await _reviews(stack, order_no, "done")
    assert [t["completed_by"] for t in done] == ["root"]


@pytest.mark.parametrize("days", [-1, 0], ids=["yesterday", "today"])
async def test_delivery_date_not_in_the_future_is_422_and_the_task_stays_open(
    stack: Stack, days: int
) -> None:
    order_no = await create_order(stack)
    await complete_ok(stack, REVIEW, order_no, {"ok": True, "design_days": 5})
    await complete_ok(
        stack, "procurement.lead_time_review", order_no, {"lead_days": 10, "critical_items": []}
    )
    task = await wait_task(stack, "planning.delivery_review", order_no)
    past = (date.today() + timedelta(days=days)).isoformat()
    response = await complete(stack, "planning.delivery_review", order_no, {"delivery_date": past})
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "invalid_payload"
    assert "delivery_date" in response.json()["detail"]
    assert (await _show(stack, task["task_id"], "planning"))["state"] == "open"
    assert task["task_id"] in await _workflow_open_task_ids(stack, task["workflow_id"])
    proposed = task["context"]["proposed_date"]
    await complete_ok(stack, "planning.delivery_review", order_no, {"delivery_date": proposed})
