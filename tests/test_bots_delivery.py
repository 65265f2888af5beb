"""Escalation bots end to end (issue 15), delivery you can trust: a platform's error code is
retried until it takes the message, a channel failing at the cap raises `channel_failing` to
ops once (delivered elsewhere) and shows in the channels' health, and a paced channel delivers
in order, queueing rather than dropping when the platform says "too fast". Against local fakes
of the platforms, through real Temporal (time-skipping server) and PostgreSQL.

The fakes count their rate limits on a clock faster than wall time (a platform's minute is a
few real seconds or one), so a test of a platform's limit takes seconds."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from functools import partial

from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.testing import WorkflowEnvironment

from shared.channels.model import CHANNEL_FAILING, Channel
from shared.escalations.notify import escalation_delivery_id
from shared.settings import Settings
from tests.bots import (
    QuickSlackFake,
    attempts_of,
    bot_settings,
    deliver,
    escalation_ids,
    escalations,
    rows_of,
    rows_of_channel,
    served,
    settled,
    store,
    tag,
    text_of,
    until,
)
from tests.conftest import Stack, run_stack
from tests.fakes.platforms import DingTalkFake, SlackFake, WeComFake

SECRET = "SEC0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"


def fast_clock() -> float:
    """A clock 60 times faster than wall time: a platform's minute is a real second."""
    return time.time() * 60


async def deliver_in_order(
    stack: Stack, engine: AsyncEngine, count: int, channel: Channel
) -> list[int]:
    """`count` escalations stored and their deliveries started one after another, each once
    the one before is planned, so the channel's order (`seq`) is the order of their ids."""
    ids = []
    for n in range(count):
        esc = await store(engine, department="quality", role="head:quality", message=f"No. {n}")
        await deliver(stack, esc, "quality")
        await until(f"escalation {esc} planned", partial(_planned, engine, esc), timeout=30)
        ids.append(esc)
    return ids


async def _planned(engine: AsyncEngine, esc: int) -> bool:
    return bool(await rows_of(engine, [esc]))


async def test_error_code_is_retried_until_the_robot_takes_the_message(
    base_settings: Settings, ts_env: WorkflowEnvironment, engine: AsyncEngine
) -> None:
    t = tag()
    dingtalk = DingTalkFake(f"dt{t}" * 6, SECRET)
    async with served(dingtalk) as (dt,):
        channel = dingtalk.channel(dt, name=f"retry-group-{t}", rate_per_minute=600)
        settings = bot_settings(base_settings, [channel], [{"channels": [channel.name]}])
        # Answered HTTP 200 with errcode 310000 twice: not delivered, retried.
        dingtalk.fail_next(2, code=310000)
        async with run_stack(settings, ts_env.client) as stack:
            esc = await store(engine, department="quality", role="head:quality")
            handle = await deliver(stack, esc, "quality")
            assert await asyncio.wait_for(handle.result(), 30) == [channel.name]
    assert [s.reason for s in dingtalk.seen] == ["told to fail", "told to fail", ""]
    assert [s.body["errcode"] for s in (a.answer for a in dingtalk.seen)] == [310000, 310000, 0]
    attempts = await attempts_of(engine, escalation_delivery_id(esc, channel.name))
    assert [a.attempt for a in attempts] == [1, 2, 3]
    for failed in attempts[:2]:
        assert failed.error is not None and "310000" in failed.error, failed.error
    assert attempts[2].error is None and attempts[2].status == 200
    (row,) = await rows_of(engine, [esc])
    assert (row.state, row.attempts, row.failures, row.last_code) == ("delivered", 3, 2, "0")
    assert row.delivered_at is not None


async def test_channel_failing_at_the_cap_is_raised_to_ops_once_and_sent_elsewhere(
    base_settings: Settings, ts_env: WorkflowEnvironment, engine: AsyncEngine
) -> None:
    # `channel_failing` is raised once per channel per hour: not across an hour's turn.
    now = datetime.now(UTC)
    if now.minute == 59 and now.second > 30:
        await asyncio.sleep(61 - now.second)
    t = tag()
    wecom, slack = WeComFake(f"wc{t}" * 6), SlackFake(f"/services/T0/B0/sl{t}x{t}")
    wecom.fail_next(1000, code=93000)
    async with served(wecom, slack) as (wc, sl):
        failing = wecom.channel(wc, name=f"division-group-{t}", rate_per_minute=600)
        ops = slack.channel(sl, name=f"ops-slack-{t}", lang="en")
        routes: list[dict[str, object]] = [
            # Also matches the alarm (raised in the failed message's department): the failing
            # channel must not be sent news of its own failure.
            {"channels": [failing.name], "department": "engineering"},
            {"channels": [ops.name], "role": "ops"},
        ]
        settings = bot_settings(base_settings, [failing, ops], routes, webhook_max_attempts=2)
        async with run_stack(settings, ts_env.client) as stack:
            ids = [
                await store(engine, department="engineering", role="head:engineering")
                for _ in range(2)
            ]
            handles = [await deliver(stack, esc, "engineering") for esc in ids]
            for handle in handles:
                assert await asyncio.wait_for(handle.result(), 30) == [failing.name]

            async def alarm_delivered() -> bool:
                raised = await escalations(engine, kind=CHANNEL_FAILING)
                rows = await rows_of(engine, [e.id for e in raised if e.id is not None])
                return bool(rows) and all(r.state == "delivered" for r in rows)

            await until("channel_failing delivered", alarm_delivered, timeout=30)
            health = await stack.http.get(
                "/escalations/channels", headers=stack.token("ops-1", "ops")
            )
            refused = await stack.http.get(
                "/escalations/channels", headers=stack.token("sam", "sales")
            )
    rows = await rows_of(engine, ids)
    assert [(r.state, r.attempts, r.failures) for r in rows] == [("failed", 2, 2)] * 2
    (alarm,) = await escalations(engine, kind=CHANNEL_FAILING)
    assert (alarm.role, alarm.department) == ("ops", "engineering")
    assert failing.name in alarm.message and "93000" in alarm.message
    assert alarm.id is not None
    assert [(r.channel, r.state) for r in await rows_of(engine, [alarm.id])] == [
        (ops.name, "delivered")
    ]
    # The failing robot saw only the two messages' two attempts each; ops' Slack the alarm.
    assert [s.reason for s in wecom.seen] == ["told to fail"] * 4
    (told,) = slack.accepted
    assert failing.name in text_of(told) and "Ops on duty" in text_of(told)

    assert health.status_code == 200, health.text
    shown = {c["name"]: c for c in health.json()}
    assert set(shown) == {failing.name, ops.name}
    bad = shown[failing.name]
    assert (bad["type"], bad["target"]) == ("wecom", f"{wc}/***")
    assert bad["health"]["failures_24h"] == 4 and bad["health"]["last_failure_at"]
    assert "93000" in bad["health"]["last_error"] and bad["health"]["last_success_at"] is None
    good = shown[ops.name]["health"]
    assert good["last_success_at"] and good["failures_24h"] == 0
    assert refused.status_code == 403, refused.text


async def test_paced_channel_delivers_in_order_within_the_platforms_rate_limit(
    base_settings: Settings, ts_env: WorkflowEnvironment, engine: AsyncEngine
) -> None:
    t = tag()
    # DingTalk's 20 a minute, on a clock where a minute is five real seconds (4 a second):
    # below what the deliveries would reach unpaced (about 6 a second here), so the pace of
    # 200 a fake minute (one each 0.3 real seconds) is what keeps them within the limit.
    dingtalk = DingTalkFake(
        f"dt{t}" * 6, SECRET, limit_per_minute=20, clock=lambda: time.time() * 12
    )
    async with served(dingtalk) as (dt,):
        channel = dingtalk.channel(dt, name=f"quality-group-{t}", rate_per_minute=200)
        settings = bot_settings(base_settings, [channel], [{"channels": [channel.name]}])
        async with run_stack(settings, ts_env.client) as stack:
            ids = [
                await store(engine, department="quality", role="head:quality", message=f"No. {n}")
                for n in range(25)
            ]
            # All at once: unpaced, they would reach the robot together, in any order.
            started = time.monotonic()
            await asyncio.gather(*(deliver(stack, esc, "quality") for esc in ids))
            rows = await settled(engine, ids, 25, timeout=120)
            took = time.monotonic() - started
    print(f"[paced] 25 messages in {took:.1f} s; fake saw {len(dingtalk.seen)} request(s)")
    planned = [r.escalation_id or 0 for r in await rows_of_channel(engine, channel.name)]
    assert sorted(planned) == ids
    assert all((r.state, r.attempts, r.failures) == ("delivered", 1, 0) for r in rows)
    assert dingtalk.refused == [], [(s.seq, s.reason) for s in dingtalk.refused]
    # One after another in the order they were planned, never more than 20 in a fake minute.
    assert escalation_ids(dingtalk.accepted) == planned
    times = [s.at for s in dingtalk.accepted]
    assert all(later - earlier >= 60 for earlier, later in zip(times, times[20:], strict=False))


async def test_platform_saying_too_fast_queues_the_messages_in_order_without_failures(
    base_settings: Settings, ts_env: WorkflowEnvironment, engine: AsyncEngine
) -> None:
    t = tag()
    # Two a fake minute (a real second), "slow down" answered 429 with Retry-After: 1.
    slack = QuickSlackFake(f"/services/T0/B0/sl{t}x{t}", limit_per_minute=2, clock=fast_clock)
    async with served(slack) as (sl,):
        # Paced far above what the platform takes: the platform itself says "too fast".
        channel = slack.channel(sl, name=f"ops-slack-{t}", lang="en", rate_per_minute=1200)
        settings = bot_settings(base_settings, [channel], [{"channels": [channel.name]}])
        async with run_stack(settings, ts_env.client) as stack:
            ids = await deliver_in_order(stack, engine, 8, channel)
            rows = await settled(engine, ids, 8, timeout=120)
    print(f"[too fast] fake saw {len(slack.seen)} request(s), refused {len(slack.refused)}")
    assert slack.refused, "the platform never said too fast: the test proves nothing"
    assert {(s.reason, s.answer.status) for s in slack.refused} == {("rate limited", 429)}
    assert escalation_ids(slack.accepted) == ids
    # Refusals are attempts, not failures: every message delivered, none counted as failed.
    assert all((r.state, r.failures) == ("delivered", 0) for r in rows)
    assert sum(r.attempts for r in rows) == len(slack.seen)
    assert any(r.attempts > 1 for r in rows)
