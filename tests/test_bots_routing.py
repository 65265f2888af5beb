# ruff: noqa: RUF001  (the Chinese messages use full-width punctuation)
"""Escalation bots end to end (issue 15): escalations and business events routed to local fakes
of DingTalk, WeCom, Feishu, Slack, an SMTP server and a generic webhook, through real Temporal
(time-skipping server) and PostgreSQL: who gets what, what the message says, the one-click
acknowledge from the chat, the daily digest and the plan report through the routes.

Each fake verifies the platform's signature as the platform documents it: a message it
accepted was signed right (`refused` is empty)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment

from services.planning.report_schemas import PlanReportInput
from shared.db import session_scope
from shared.escalations.delivery_types import DigestInput
from shared.escalations.models import Escalation
from shared.settings import Settings
from shared.temporal import workflow_queue
from tests.bots import (
    PUBLIC_URL,
    ack_claims,
    ack_link,
    bot_settings,
    deliver,
    escalation_ids,
    letter_text,
    served,
    settled,
    store,
    tag,
    text_of,
    until,
)
from tests.conftest import run_stack
from tests.fakes.platforms import DingTalkFake, FeishuFake, SlackFake, WebhookFake, WeComFake
from tests.fakes.smtp import smtp_server
from tests.helpers import create_order
from workflows.digest import EscalationDigestWorkflow
from workflows.reports import PlanReportWorkflow

SECRET = "SEC0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
HOOK_SECRET = "orderflow-bots-e2e-webhook-secret"
ZONE = "Asia/Shanghai"
HTML = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
JSON = {"Accept": "application/json"}


def local(moment: datetime) -> str:
    """A moment as the messages show it: minutes in the plant's zone, the zone named."""
    return f"{moment.astimezone(ZoneInfo(ZONE)):%Y-%m-%d %H:%M} ({ZONE})"


def assert_says(text: str, *parts: str) -> None:
    for part in parts:
        assert part in text, f"{part!r} missing from:\n{text}"


async def test_escalations_reach_exactly_their_routed_channels_saying_what_to_act_on(
    base_settings: Settings, ts_env: WorkflowEnvironment, engine: AsyncEngine
) -> None:
    t = tag()
    dingtalk, wecom = DingTalkFake(f"dt{t}" * 6, SECRET), WeComFake(f"wc{t}" * 6)
    feishu, slack = FeishuFake(f"fs{t}" * 6, SECRET), SlackFake(f"/services/T0/B0/sl{t}x{t}")
    hook = WebhookFake(HOOK_SECRET)
    async with (
        served(dingtalk, wecom, feishu, slack, hook) as (dt, wc, fs, sl, wh),
        smtp_server() as smtp,
    ):
        quality = dingtalk.channel(dt, name=f"quality-group-{t}", lang="zh")
        division = wecom.channel(wc, name=f"division-group-{t}", lang="zh")
        mail = smtp.channel(name=f"qm-mail-{t}", lang="zh")
        ops = slack.channel(sl, name=f"ops-slack-{t}", lang="en")
        plant_feishu = feishu.channel(fs, name=f"plant-feishu-{t}", lang="en")
        plant_hook = hook.channel(wh, name=f"plant-hook-{t}")
        routes: list[dict[str, object]] = [
            {"channels": [quality.name], "department": "quality", "level": 1},
            {"channels": [division.name], "level": 2},
            {"channels": [mail.name], "kind": "serious_nonconformance"},
            {"channels": [ops.name], "role": "ops"},
            {"channels": [plant_feishu.name, plant_hook.name], "department": "production"},
        ]
        settings = bot_settings(
            base_settings,
            [quality, division, mail, ops, plant_feishu, plant_hook],
            routes,
            timezone=ZONE,
        )
        async with run_stack(settings, ts_env.client) as stack:
            order_no = await create_order(stack)
            now = datetime.now(UTC)
            due_q, breach_q = now - timedelta(hours=3), now - timedelta(hours=2)
            due_e, breach_p = now - timedelta(hours=5), now - timedelta(minutes=30)
            q = await store(
                engine, department="quality", role="head:quality", level=1, order_no=order_no,
                due_at=due_q, breached_at=breach_q, message="incoming inspection not signed off",
            )  # fmt: skip
            e = await store(
                engine, department="engineering", role="division", level=2, order_no=order_no,
                due_at=due_e, breached_at=now - timedelta(hours=1),
            )  # fmt: skip
            p = await store(
                engine, department="production", role="head:production", order_no=order_no,
                kind="serious_nonconformance", breached_at=breach_p,
            )  # fmt: skip
            o = await store(
                engine, department="planning", role="ops", kind="branch_failed", order_no=order_no
            )
            started = {
                esc: await deliver(stack, esc, dept)
                for esc, dept in ((q, "quality"), (e, "engineering"), (p, "production"))
            }
            started[o] = await deliver(stack, o, "planning")
            # Polled, not awaited: waiting on a result lets the time-skipping server skip
            # ahead to the order's own deadlines, whose escalations are not this test's.
            rows = await settled(engine, [q, e, p, o], 6)

            async def finished() -> bool:
                described = [await h.describe() for h in started.values()]
                return all(d.status == WorkflowExecutionStatus.COMPLETED for d in described)

            await until("the deliveries' workflows completed", finished, timeout=30)
            listed = await stack.http.get(
                "/escalations", params={"order_no": order_no}, headers=stack.token("ops-1", "ops")
            )
    # Each channel got exactly the escalations its routes name, every one signed right.
    assert {(r.escalation_id, r.channel, r.state) for r in rows} == {
        (q, quality.name, "delivered"),
        (e, division.name, "delivered"),
        (p, mail.name, "delivered"),
        (p, plant_feishu.name, "delivered"),
        (p, plant_hook.name, "delivered"),
        (o, ops.name, "delivered"),
    }
    for fake, expected in ((dingtalk, [q]), (wecom, [e]), (feishu, [p]), (slack, [o]), (hook, [p])):
        assert escalation_ids(fake.accepted) == expected, fake.name
        assert fake.refused == [], [(s.reason, s.answer) for s in fake.refused]
    (letter,) = smtp.letters
    assert letter.rcpt_tos == mail.mail_to

    order_link = f"{PUBLIC_URL}/orders/{order_no}"
    customer = "Huadian Power Equipment"
    # DingTalk, in Chinese: order, customer, how late, who, due and breach in the plant's zone.
    quality_text = text_of(dingtalk.accepted[0])
    assert_says(
        quality_text, order_no, customer, "任务超期", "incoming inspection not signed off",
        "超期：3小时", "请处理：质量部负责人", f"到期时间：{local(due_q)}",
        f"触发时间：{local(breach_q)}", order_link, ack_link(quality_text),
    )  # fmt: skip
    assert ack_claims(quality_text) | {"x": 0, "n": ""} == {
        "e": q, "r": "head:quality", "c": quality.name, "x": 0, "n": ""
    }  # fmt: skip
    division_text = text_of(wecom.accepted[0])
    assert_says(
        division_text, order_no, customer, "超期：5小时", "请处理：事业部领导",
        f"到期时间：{local(due_e)}", "升级级别：2级", order_link,
    )  # fmt: skip
    assert ack_claims(division_text)["r"] == "division"
    mail_text = letter_text(letter)
    assert_says(
        mail_text, order_no, customer, "严重不合格", "请处理：生产部负责人", "触发至今：30分钟",
        f"触发时间：{local(breach_p)}", order_link,
    )  # fmt: skip
    assert ack_claims(mail_text)["c"] == mail.name
    feishu_text = text_of(feishu.accepted[0])
    assert_says(
        feishu_text, f"order {order_no} ({customer})", "Serious nonconformance",
        "Who must act: Head of Production", f"Breached: {local(breach_p)}", order_link,
    )  # fmt: skip
    ops_text = text_of(slack.accepted[0])
    assert_says(ops_text, order_no, customer, "Who must act: Ops on duty", order_link)
    assert ack_claims(ops_text)["r"] == "ops"
    data = hook.accepted[0].body
    assert (data["id"], data["order_no"], data["customer"]) == (p, order_no, customer)
    assert data["order_url"] == order_link and data["ack_url"] == ack_link(data["ack_url"])
    assert 30 * 60 <= data["late_seconds"] < 40 * 60

    # GET /escalations shows each escalation's deliveries per channel, targets redacted.
    assert listed.status_code == 200, listed.text
    shown = {
        item["id"]: {(d["channel"], d["target"], d["state"]) for d in item["deliveries"]}
        for item in listed.json()
        if item["id"] in (q, e, p, o)
    }
    mail_target = f"mailto:{mail.mail_to[0]} via {smtp.host}:{smtp.port}"
    assert shown == {
        q: {(quality.name, f"{dt}/***", "delivered")},
        e: {(division.name, f"{wc}/***", "delivered")},
        p: {
            (mail.name, mail_target, "delivered"),
            (plant_feishu.name, f"{fs}/***", "delivered"),
            (plant_hook.name, f"{wh}/***", "delivered"),
        },
        o: {(ops.name, f"{sl}/***", "delivered")},
    }


async def test_acknowledge_link_from_the_dingtalk_message_acknowledges_once(
    base_settings: Settings, ts_env: WorkflowEnvironment, engine: AsyncEngine
) -> None:
    t = tag()
    dingtalk = DingTalkFake(f"dt{t}" * 6, SECRET)
    async with served(dingtalk) as (dt,):
        quality = dingtalk.channel(dt, name=f"quality-group-{t}", lang="zh")
        route: dict[str, object] = {"channels": [quality.name], "department": "quality"}
        settings = bot_settings(base_settings, [quality], [route], timezone=ZONE)
        async with run_stack(settings, ts_env.client) as stack:
            esc = await store(engine, department="quality", role="head:quality")
            handle = await deliver(stack, esc, "quality")
            assert await asyncio.wait_for(handle.result(), 30) == [quality.name]
            (message,) = dingtalk.accepted
            parts = urlsplit(ack_link(text_of(message)))
            path = f"{parts.path}?{parts.query}"
            # Opening the link (or a chat app's preview) shows the page, and changes nothing.
            page = await stack.http.get(path, headers=HTML)
            assert page.status_code == 200, page.text
            assert "<form" in page.text
            assert (await _row(engine, esc)).state == "open"
            acked = await stack.http.post(path, headers=JSON)
            assert acked.status_code == 200, acked.text
            replayed = await stack.http.post(path, headers=JSON)
    by = f"head:quality (one-click link in {quality.name})"
    assert (acked.json()["state"], acked.json()["acked_by"]) == ("acked", by)
    row = await _row(engine, esc)
    assert (row.state, row.acked_by) == ("acked", by)
    assert replayed.status_code == 409, replayed.text
    assert replayed.json()["error"] == "ack_link_used"


async def _row(engine: AsyncEngine, esc_id: int) -> Escalation:
    async with session_scope(engine) as session:
        found = await session.get(Escalation, esc_id)
        assert found is not None
        return found


async def test_digest_sends_each_department_its_open_escalations_only(
    base_settings: Settings, ts_env: WorkflowEnvironment, engine: AsyncEngine
) -> None:
    t = tag()
    dingtalk, wecom = DingTalkFake(f"dt{t}" * 6, SECRET), WeComFake(f"wc{t}" * 6)
    async with served(dingtalk, wecom) as (dt, wc):
        quality = dingtalk.channel(dt, name=f"quality-digest-{t}", lang="zh")
        engineering = wecom.channel(wc, name=f"eng-digest-{t}", lang="en")
        digest = "escalation_digest"
        routes: list[dict[str, object]] = [
            {"event": digest, "department": "quality", "channels": [quality.name]},
            {"event": digest, "department": "engineering", "channels": [engineering.name]},
        ]
        # Every day a working day: the run never skips, whatever day the suite runs on.
        settings = bot_settings(
            base_settings, [quality, engineering], routes, work_week="MON-SUN",
            holidays_country="none",
        )  # fmt: skip
        orders = {name: f"SO-DIG-{t}-{name}" for name in ("q1", "q2", "qacked", "e1")}
        await store(engine, department="quality", role="head:quality", order_no=orders["q1"])
        await store(engine, department="quality", role="quality", order_no=orders["q2"], level=2)
        await store(
            engine, department="quality", role="head:quality", order_no=orders["qacked"],
            state="acked",
        )  # fmt: skip
        await store(engine, department="engineering", role="division", order_no=orders["e1"])
        async with run_stack(settings, ts_env.client) as stack:
            prefix = settings.task_queue_prefix
            run = await stack.client.execute_workflow(
                EscalationDigestWorkflow.run,
                DigestInput(queue_prefix=prefix),
                id=f"escalation-digest-{uuid.uuid4().hex[:8]}",
                task_queue=workflow_queue(prefix),
            )
    assert run.skipped is None
    assert sorted(d.channel for d in run.deliveries) == sorted([quality.name, engineering.name])
    assert dingtalk.refused == [] and wecom.refused == []
    (quality_digest,) = dingtalk.accepted
    text = text_of(quality_digest)
    assert_says(text, f"质量部 {run.day} 未处理升级 2 条", orders["q1"], orders["q2"])
    assert orders["qacked"] not in text and orders["e1"] not in text
    (engineering_digest,) = wecom.accepted
    text = text_of(engineering_digest)
    assert_says(text, f"Engineering: 1 open escalation(s) on {run.day}", orders["e1"])
    assert orders["q1"] not in text


async def test_plan_report_goes_to_the_channels_its_route_names(
    base_settings: Settings, ts_env: WorkflowEnvironment
) -> None:
    t = tag()
    feishu, dingtalk = FeishuFake(f"fs{t}" * 6, SECRET), DingTalkFake(f"dt{t}" * 6, SECRET)
    async with served(feishu, dingtalk) as (fs, dt):
        reports = feishu.channel(fs, name=f"plant-reports-{t}", lang="zh")
        quality = dingtalk.channel(dt, name=f"quality-group-{t}", lang="zh")
        routes: list[dict[str, object]] = [
            {"event": "plan_report", "channels": [reports.name]},
            # A department's route takes that department's events: the plant-wide report
            # does not reach it.
            {"event": "plan_report", "department": "quality", "channels": [quality.name]},
        ]
        settings = bot_settings(base_settings, [reports, quality], routes)
        async with run_stack(settings, ts_env.client) as stack:
            prefix = settings.task_queue_prefix
            result = await stack.client.execute_workflow(
                PlanReportWorkflow.run,
                PlanReportInput(queue_prefix=prefix, kind="week", period="2026-W10"),
                id=f"plan-report-{uuid.uuid4().hex[:8]}",
                task_queue=workflow_queue(prefix),
            )
    assert result.published_to == [reports.name]
    assert feishu.refused == [] and dingtalk.seen == []
    (card,) = feishu.accepted
    assert card.body["msg_type"] == "interactive"
    assert card.body["card"]["header"]["title"]["content"] == "计划达成率周报 2026-W10"
