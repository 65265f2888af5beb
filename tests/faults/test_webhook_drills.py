"""Webhook drills: bots down, slow and erroring, then the cap.

Each drill delivers escalations (EscalationDeliveryWorkflow, as a raised escalation starts it) to
a real HTTP bot on 127.0.0.1 and asserts, per delivery id (`webhook-id`), how many POSTs the bot
received and what `escalation.delivery_attempts` recorded: every POST the bot saw is an attempt
with its answer, and a slow bot's retries carry the same id so it can deduplicate them. Timeouts
and backoffs are settings, made small here so each drill takes seconds; each prints its counts.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col
from temporalio.testing import WorkflowEnvironment

from services.planning.report_schemas import PlanReportInput
from shared.channels.model import CHANNEL_FAILING
from shared.db import session_scope
from shared.escalations import service
from shared.escalations.activities import EscalationDelivery
from shared.escalations.models import ChannelDelivery, DeliveryAttempt, Escalation
from shared.escalations.notify import escalation_delivery_id
from shared.settings import Settings
from shared.temporal import department_queue, workflow_queue
from tests.conftest import Stack, free_port, run_stack, settings_for
from tests.webhook_receiver import Received, WebhookReceiver
from workflows.escalation import EscalationDeliveryWorkflow
from workflows.reports import PlanReportWorkflow

DEPARTMENT = "engineering"
# ORDERFLOW_ESCALATION_WEBHOOKS' first URL, as the channel it becomes.
BOT = "escalation-webhook-1"


def delivery_id(escalation_id: int) -> str:
    return escalation_delivery_id(escalation_id, BOT)


def drill_settings(base: Settings, *bots: str, **changes: object) -> Settings:
    """Small timeouts and backoffs so a drill takes seconds, and the given escalation bots."""
    fast: dict[str, object] = {
        "webhook_timeout_seconds": 0.5,
        "webhook_backoff_initial_seconds": 0.05,
        "webhook_backoff_max_seconds": 0.2,
        "webhook_max_attempts": 20,
    }
    return settings_for(base, escalation_webhooks=list(bots), **{**fast, **changes})


async def store_escalations(engine: AsyncEngine, count: int) -> list[int]:
    """`count` open escalations of a made-up order, as raise_escalation stores them."""
    now = datetime.now(UTC)
    tag = uuid.uuid4().hex[:8]
    rows = [
        Escalation(
            key=f"drill:{tag}:{n}",
            kind="task_overdue",
            level=1,
            order_no=f"SO-DRILL-{tag}",
            department=DEPARTMENT,
            role=f"head:{DEPARTMENT}",
            breached_at=now,
            message=f"drill {n}",
            created_at=now,
        )
        for n in range(count)
    ]
    async with session_scope(engine) as session:
        session.add_all(rows)
        await session.flush()
        return [row.id for row in rows if row.id is not None]


async def deliver(stack: Stack, escalation_id: int) -> Any:
    """Start the delivery of one escalation, as a raised escalation does."""
    prefix = stack.settings.task_queue_prefix
    return await stack.client.start_workflow(
        EscalationDeliveryWorkflow.run,
        EscalationDelivery(
            escalation_id=escalation_id, task_queue=department_queue(prefix, DEPARTMENT)
        ),
        id=f"escalation-{escalation_id}-{uuid.uuid4().hex[:6]}",
        task_queue=workflow_queue(prefix),
    )


async def recorded(engine: AsyncEngine, did: str) -> list[DeliveryAttempt]:
    async with session_scope(engine) as session:
        return await service.attempts_of(session, delivery_id=did)


async def delivery_row(engine: AsyncEngine, escalation_id: int) -> ChannelDelivery:
    async with session_scope(engine) as session:
        row = (
            await session.execute(
                select(ChannelDelivery).where(col(ChannelDelivery.escalation_id) == escalation_id)
            )
        ).scalar_one()
        return row


def report(drill: str, posts: dict[str, list[Received]], attempts: dict[str, list[Any]]) -> None:
    """Print, per delivery id, the POSTs the bot saw and the attempts recorded."""
    for did, rows in attempts.items():
        seen = [r.status for r in posts.get(did, [])]
        print(
            f"[{drill}] {did}: bot saw {len(seen)} POST(s) {seen}; recorded "
            f"{[(a.attempt, a.status, (a.error or '')[:30]) for a in rows]}"
        )


def assert_matches(posts: list[Received], attempts: list[DeliveryAttempt]) -> None:
    """Every POST the bot answered is a recorded attempt with that answer, in order, and every
    recorded attempt that has a status was seen by the bot."""
    answered = [a.status for a in attempts if a.status is not None]
    assert answered == [r.status for r in posts if r.accepted or r.status >= 400][: len(answered)]
    assert [a.attempt for a in attempts] == list(range(1, len(attempts) + 1))
    assert all(a.finished_at is not None and a.duration_ms is not None for a in attempts)


async def test_bot_down_then_up_gets_each_escalation_once_with_its_id(
    base_settings: Settings, ts_env: WorkflowEnvironment, engine: AsyncEngine
) -> None:
    secret = base_settings.webhook_signing_secret()
    port = free_port()
    url = f"http://127.0.0.1:{port}/escalations"
    settings = drill_settings(base_settings, url)
    async with run_stack(settings, ts_env.client) as stack:
        ids = await store_escalations(engine, 2)
        handles = [await deliver(stack, esc_id) for esc_id in ids]
        dids = [delivery_id(esc_id) for esc_id in ids]
        # Down: connections refused until each delivery has failed at least three times.
        async with asyncio.timeout(30):
            while min([len(await recorded(engine, d)) for d in dids]) < 3:
                await asyncio.sleep(0.05)
        async with WebhookReceiver(secret, port=port) as bot:
            for handle in handles:
                assert await asyncio.wait_for(handle.result(), 30) == [BOT]
        posts = bot.by_webhook_id()
        attempts = {d: await recorded(engine, d) for d in dids}
        report("down-then-up", posts, attempts)
        for esc_id, did in zip(ids, dids, strict=True):
            # Refused connections reached no bot; the one that reached it was delivered.
            assert [r.status for r in posts[did]] == [200]
            assert posts[did][0].signature_ok and posts[did][0].json["id"] == esc_id
            rows = attempts[did]
            assert len(rows) >= 4
            assert all(a.status is None and a.error for a in rows[:-1])
            assert rows[-1].status == 200 and rows[-1].error is None
            assert_matches(posts[did], rows)
            state = await delivery_row(engine, esc_id)
            assert (state.state, state.attempts, state.delivery_id) == ("delivered", len(rows), did)


async def test_slow_bot_gets_retries_with_the_same_id_and_every_post_is_recorded(
    base_settings: Settings, ts_env: WorkflowEnvironment, engine: AsyncEngine
) -> None:
    secret = base_settings.webhook_signing_secret()
    # The first POST is answered after 1.5 s, past the 0.5 s timeout; the rest at once.
    async with WebhookReceiver(secret, slow_first=1, slow_seconds=1.5) as bot:
        settings = drill_settings(base_settings, bot.url)
        async with run_stack(settings, ts_env.client) as stack:
            (esc_id,) = await store_escalations(engine, 1)
            handle = await deliver(stack, esc_id)
            assert await asyncio.wait_for(handle.result(), 30) == [BOT]
        did = delivery_id(esc_id)
        posts = bot.by_webhook_id()
        attempts = await recorded(engine, did)
        report("slow", posts, {did: attempts})
        # The bot received the event twice, under one id: it can drop the second.
        assert list(posts) == [did]
        assert len(posts[did]) == 2
        assert {r.json["id"] for r in posts[did]} == {esc_id}
        assert [(a.attempt, a.status) for a in attempts] == [(1, None), (2, 200)]
        assert attempts[0].error is not None and "Timeout" in attempts[0].error
        assert (await delivery_row(engine, esc_id)).state == "delivered"


async def test_erroring_bot_is_retried_until_2xx_and_each_answer_is_recorded(
    base_settings: Settings, ts_env: WorkflowEnvironment, engine: AsyncEngine
) -> None:
    secret = base_settings.webhook_signing_secret()
    async with WebhookReceiver(secret, fail_first=3) as bot:
        settings = drill_settings(base_settings, bot.url)
        async with run_stack(settings, ts_env.client) as stack:
            (esc_id,) = await store_escalations(engine, 1)
            handle = await deliver(stack, esc_id)
            assert await asyncio.wait_for(handle.result(), 30) == [BOT]
        did = delivery_id(esc_id)
        posts = bot.by_webhook_id()
        attempts = await recorded(engine, did)
        report("erroring", posts, {did: attempts})
        assert [r.status for r in posts[did]] == [500, 500, 500, 200]
        assert [(a.attempt, a.status) for a in attempts] == [(1, 500), (2, 500), (3, 500), (4, 200)]
        assert_matches(posts[did], attempts)
        # Timestamps differ per attempt, the id does not; every attempt is signed both ways.
        assert all(r.signature_ok for r in posts[did])
        state = await delivery_row(engine, esc_id)
        assert (state.state, state.attempts, state.last_status) == ("delivered", 4, 200)


async def test_cap_marks_the_delivery_failed_and_raises_channel_failing_to_ops_once(
    base_settings: Settings, ts_env: WorkflowEnvironment, engine: AsyncEngine
) -> None:
    secret = base_settings.webhook_signing_secret()
    async with WebhookReceiver(secret, fail_first=1000) as bot:
        settings = drill_settings(base_settings, bot.url, webhook_max_attempts=3)
        async with run_stack(settings, ts_env.client) as stack:
            (esc_id,) = await store_escalations(engine, 1)
            handle = await deliver(stack, esc_id)
            # The workflow ends: retries stop at the cap.
            assert await asyncio.wait_for(handle.result(), 30) == [BOT]
            listed = await stack.http.get(
                "/escalations",
                params={"role": "ops", "state": "open"},
                headers=stack.token("ops-bot", "ops"),
            )
            assert listed.status_code == 200, listed.text
            everything = await stack.http.get("/escalations", headers=stack.token("ops-bot", "ops"))
            assert everything.status_code == 200, everything.text
        did = delivery_id(esc_id)
        # The list shows the escalation's delivery per channel: failed after three attempts.
        (shown,) = [e for e in everything.json() if e["id"] == esc_id]
        (delivery,) = shown["deliveries"]
        assert {k: v for k, v in delivery.items() if k != "last_error"} == {
            "channel": BOT,
            "target": bot.url.rsplit("/", 1)[0] + "/***",
            "delivery_id": did,
            "state": "failed",
            "attempts": 3,
            "last_status": 500,
            "delivered_at": None,
        }
        assert "500" in delivery["last_error"]
        posts = bot.by_webhook_id()
        attempts = await recorded(engine, did)
        report("cap", posts, {did: attempts})
        assert [r.status for r in posts[did]] == [500, 500, 500]
        assert [(a.attempt, a.status) for a in attempts] == [(1, 500), (2, 500), (3, 500)]
        state = await delivery_row(engine, esc_id)
        assert (state.state, state.attempts, state.delivered_at) == ("failed", 3, None)
        failed = [e for e in listed.json() if e["kind"] == CHANNEL_FAILING]
        assert len(failed) == 1
        assert failed[0]["role"] == "ops" and did in failed[0]["message"]
        assert BOT in failed[0]["message"] and failed[0]["department"] == DEPARTMENT
        # Not sent to the failing channel itself: it got nothing but the three attempts.
        assert list(posts) == [did]


async def test_plan_report_event_to_a_dead_webhook_is_capped_and_the_report_still_completes(
    base_settings: Settings, ts_env: WorkflowEnvironment, engine: AsyncEngine
) -> None:
    url = f"http://user:hunter2@127.0.0.1:{free_port()}/events?token=s3cret"
    settings = settings_for(
        base_settings,
        event_webhooks=[url],
        webhook_timeout_seconds=0.5,
        webhook_backoff_initial_seconds=0.05,
        webhook_backoff_max_seconds=0.1,
        webhook_max_attempts=2,
    )
    async with run_stack(settings, ts_env.client) as stack:
        result = await stack.client.execute_workflow(
            PlanReportWorkflow.run,
            PlanReportInput(
                queue_prefix=settings.task_queue_prefix, kind="week", period="2026-W10"
            ),
            id=f"plan-report-{uuid.uuid4().hex[:8]}",
            task_queue=workflow_queue(settings.task_queue_prefix),
        )
    assert result.published_to == ["event-webhook-1"]
    async with session_scope(engine) as session:
        rows = list(
            (
                await session.execute(
                    select(DeliveryAttempt).where(
                        col(DeliveryAttempt.delivery_id).like("evt-plan_report-%")
                    )
                )
            ).scalars()
        )
        failed = list(
            (
                await session.execute(
                    select(Escalation).where(
                        col(Escalation.kind) == CHANNEL_FAILING,
                        col(Escalation.message).contains("event-webhook-1"),
                    )
                )
            ).scalars()
        )
    print(f"[report-cap] recorded {[(a.delivery_id, a.attempt, a.error) for a in rows]}")
    assert sorted(a.attempt for a in rows) == [1, 2]
    assert all(a.status is None and a.error for a in rows)
    # Neither the password nor the query's token is stored: the scheme and host only.
    assert {a.target for a in rows} == {f"http://127.0.0.1:{url.split(':')[-1].split('/')[0]}/***"}
    assert all("hunter2" not in (a.error or "") and "s3cret" not in (a.error or "") for a in rows)
    assert len(failed) == 1 and failed[0].role == "ops" and failed[0].department == "planning"
    assert "hunter2" not in failed[0].message and "s3cret" not in failed[0].message
