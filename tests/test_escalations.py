"""Task SLA breaches: level 1 to the department head, level 2 to the division, signed webhooks
retried until the bot answers 2xx, acknowledgement by the escalated role only.

Time-skipping: `ts_env.sleep` moves workflow time; webhook retries back off in real time, so
every wait for a delivery is bounded in wall-clock seconds.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col
from temporalio.testing import WorkflowEnvironment

from shared.escalations.models import ChannelDelivery
from shared.settings import Settings
from shared.temporal import ESCALATED
from tests.conftest import Stack, run_stack, settings_for
from tests.helpers import (
    MARGIN,
    advance,
    advance_to,
    complete_ok,
    create_order,
    escalations,
    parse_time,
    settled,
    wait_escalation,
    wait_task,
)
from tests.webhook_receiver import WebhookReceiver, expected_signature

REVIEW = "engineering.contract_review"
REVIEW_SLA = timedelta(hours=2)
WEBHOOK_FIELDS = {
    "id",
    "kind",
    "level",
    "order_no",
    "task_id",
    "department",
    "due_at",
    "breached_at",
    "message",
}
REVIEW_OK = {"ok": True, "design_days": 10}


def sla_settings(base: Settings, *webhooks: str) -> Settings:
    return settings_for(
        base,
        escalation_webhooks=list(webhooks),
        task_slas={"engineering_contract_review": REVIEW_SLA},
    )


async def task_row(stack: Stack, task_id: str) -> dict[str, Any]:
    response = await stack.http.get(
        f"/engineering/tasks/{task_id}", headers=stack.token("e", "engineering")
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


async def delivery_record(engine: AsyncEngine, escalation_id: int, timeout: float = 10.0) -> Any:
    """The stored delivery of an escalation, once it is marked delivered (bounded wait)."""
    query = select(col(ChannelDelivery.attempts), col(ChannelDelivery.delivered_at)).where(
        col(ChannelDelivery.escalation_id) == escalation_id
    )
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        async with engine.connect() as conn:
            row = (await conn.execute(query)).first()
        if row is not None and row.delivered_at is not None:
            return row
        if asyncio.get_running_loop().time() > deadline:
            return row
        await asyncio.sleep(0.1)


def of_task(task_id: str, level: int) -> Callable[[dict[str, Any]], bool]:
    return lambda e: e["task_id"] == task_id and e["level"] == level


async def test_task_sla_breach_escalates_to_head_then_division_with_signed_retried_webhooks(
    base_settings: Settings, ts_env: WorkflowEnvironment, engine: AsyncEngine
) -> None:
    secret = base_settings.webhook_signing_secret()
    async with WebhookReceiver(secret, fail_first=2) as bot:
        settings = sla_settings(base_settings, bot.url)
        async with run_stack(settings, ts_env.client) as stack:
            order_no = await create_order(stack)
            task = await wait_task(stack, REVIEW, order_no)
            task_id = task["task_id"]
            due_at = parse_time(task["due_at"])
            assert due_at - parse_time(task["created_at"]) == REVIEW_SLA
            assert task["escalation_level"] == 0

            # Level 1 once the kind's 2 h SLA has passed: stored, raised to the engineering head.
            await advance_to(ts_env, due_at + MARGIN)
            first = await wait_escalation(stack, order_no, of_task(task_id, 1))
            assert first["kind"] == "task_overdue"
            assert first["role"] == "head:engineering"
            assert first["department"] == "engineering"
            assert first["state"] == "open"
            assert (await task_row(stack, task_id))["escalation_level"] == 1
            # The order's workflow is marked Escalated (filterable in the Temporal UI).
            described = await stack.client.get_workflow_handle(task["workflow_id"]).describe()
            assert described.typed_search_attributes.get(ESCALATED) is True

            # The bot answered 500 twice; the event still arrives, signed with the secret.
            (delivered,) = await bot.wait_for(lambda r: r.json["id"] == first["id"], timeout=60)
            assert delivered.signature_ok
            assert delivered.headers["x-orderflow-signature"] == expected_signature(
                delivered.body, secret
            )
            assert set(delivered.json) >= WEBHOOK_FIELDS
            assert delivered.json["kind"] == "task_overdue"
            assert delivered.json["level"] == 1
            assert delivered.json["task_id"] == task_id
            assert delivered.json["order_no"] == order_no
            assert delivered.json["department"] == "engineering"
            attempts = bot.attempts_for(first["id"])
            assert len(attempts) >= 3
            assert [r.status for r in attempts[:2]] == [500, 500]
            stored = await delivery_record(engine, first["id"])
            assert stored.attempts >= 3 and stored.delivered_at is not None

            # Level 2 at factor 2 (4 h after the task opened), to the division, delivered too.
            await advance_to(ts_env, due_at + REVIEW_SLA + MARGIN)
            second = await wait_escalation(stack, order_no, of_task(task_id, 2))
            assert second["kind"] == "task_overdue"
            assert second["role"] == "division"
            (delivered2,) = await bot.wait_for(lambda r: r.json["id"] == second["id"], timeout=60)
            assert delivered2.signature_ok and delivered2.json["level"] == 2
            inbox_row = await task_row(stack, task_id)
            assert inbox_row["escalation_level"] == 2 and inbox_row["state"] == "open"

            # The breach never blocked the order: the late task is still completable.
            view = await complete_ok(stack, REVIEW, order_no, REVIEW_OK)
            assert view["stage"] == "review"
            assert (await task_row(stack, task_id))["state"] == "done"
            await advance(ts_env, timedelta(hours=6))
            await settled(stack, task["workflow_id"])
            of_review = [e for e in await escalations(stack, order_no) if e["task_id"] == task_id]
            assert sorted(e["level"] for e in of_review) == [1, 2]


async def test_task_completed_after_level_one_never_reaches_level_two(
    base_settings: Settings, ts_env: WorkflowEnvironment, engine: AsyncEngine
) -> None:
    async with run_stack(sla_settings(base_settings), ts_env.client) as stack:
        order_no = await create_order(stack)
        task = await wait_task(stack, REVIEW, order_no)
        task_id, due_at = task["task_id"], parse_time(task["due_at"])
        await advance_to(ts_env, due_at + MARGIN)
        await wait_escalation(stack, order_no, of_task(task_id, 1))
        await complete_ok(stack, REVIEW, order_no, REVIEW_OK)
        await advance_to(ts_env, due_at + REVIEW_SLA * 2)
        await settled(stack, task["workflow_id"])
        of_review = [e for e in await escalations(stack, order_no) if e["task_id"] == task_id]
        assert [e["level"] for e in of_review] == [1]
        assert (await task_row(stack, task_id))["escalation_level"] == 1


async def test_task_completed_in_time_raises_no_escalation(
    base_settings: Settings, ts_env: WorkflowEnvironment, engine: AsyncEngine
) -> None:
    async with run_stack(sla_settings(base_settings), ts_env.client) as stack:
        order_no = await create_order(stack)
        task = await wait_task(stack, REVIEW, order_no)
        task_id = task["task_id"]
        await advance(ts_env, REVIEW_SLA / 2)
        await complete_ok(stack, REVIEW, order_no, REVIEW_OK)
        await advance(ts_env, REVIEW_SLA * 3)
        await settled(stack, task["workflow_id"])
        assert [e for e in await escalations(stack, order_no) if e["task_id"] == task_id] == []
        assert (await task_row(stack, task_id))["escalation_level"] == 0


async def test_escalation_is_acknowledged_only_by_the_escalated_role_and_only_once(
    base_settings: Settings, ts_env: WorkflowEnvironment, engine: AsyncEngine
) -> None:
    async with run_stack(sla_settings(base_settings), ts_env.client) as stack:
        order_no = await create_order(stack)
        task = await wait_task(stack, REVIEW, order_no)
        await advance_to(ts_env, parse_time(task["due_at"]) + MARGIN)
        esc = await wait_escalation(stack, order_no, of_task(task["task_id"], 1))
        assert esc["role"] == "head:engineering"
        ack = f"/escalations/{esc['id']}/ack"

        for wrong in (("engineering",), ("head:procurement",), ("division",), ("ops",)):
            refused = await stack.http.post(ack, headers=stack.token("nosy", *wrong))
            assert refused.status_code == 403, (wrong, refused.text)
        assert (await stack.http.post(ack)).status_code == 401

        acked = await stack.http.post(ack, headers=stack.token("hana", "head:engineering"))
        assert acked.status_code == 200, acked.text
        assert acked.json()["state"] == "acked"
        assert acked.json()["acked_by"] == "hana"

        again = await stack.http.post(ack, headers=stack.token("hana", "head:engineering"))
        assert again.status_code == 409, again.text
        assert again.json()["error"] == "already_acked"

        listed = await stack.http.get(
            "/escalations",
            params={"order_no": order_no, "state": "acked"},
            headers=stack.token("ops-bot", "ops"),
        )
        assert [e["id"] for e in listed.json()] == [esc["id"]]
        missing = await stack.http.post(
            "/escalations/999999999/ack", headers=stack.token("hana", "head:engineering")
        )
        assert missing.status_code == 404
