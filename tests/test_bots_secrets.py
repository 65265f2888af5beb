"""No secret in sight (issue 15, item 5): a channel's URL, token, signing secret or SMTP
password appears nowhere people or tools look at a delivery.

One run delivers two escalations and a plan report through a DingTalk, Slack, Feishu, webhook
and e-mail channel (the fakes of tests/fakes/, holding random secrets given inline, in files and
in environment variables, as a k8s Secret gives them) and a WeCom robot nobody answers. DingTalk
answers an error code until the cap, the webhook and Slack answer an error that echoes their
token back, so retries, failed deliveries and `channel_failing` escalations (with their own
delivery workflows) exist too. The workers trace as `orderflow worker` does. Then every secret
and every full URL is looked for in: the history of every workflow (payloads decoded: inputs,
results, summaries, failures), their descriptions while running and their current details
(what the Temporal UI shows), every log record at DEBUG and the process's output, every
exported span (as JSON: name, attributes, events, status, resource), every row of the database
and the API's `GET /escalations` and `GET /escalations/channels`.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import uuid
from collections.abc import Iterator
from contextlib import AsyncExitStack
from dataclasses import asdict, dataclass
from pathlib import Path
from secrets import token_hex
from typing import Any

import pytest
from google.protobuf.json_format import MessageToDict
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col
from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from services.planning.report_schemas import PlanReportInput
from shared.channels.model import CHANNEL_FAILING
from shared.db import session_scope
from shared.escalations.activities import EscalationDelivery
from shared.escalations.models import Escalation
from shared.settings import Settings
from shared.telemetry import setup_tracing, tracing_interceptor
from shared.temporal import department_queue, workflow_queue
from tests.bots import store
from tests.conftest import Stack, free_port, run_stack, settings_for
from tests.fakes.base import serve
from tests.fakes.platforms import DingTalkFake, FeishuFake, SlackFake, WebhookFake
from tests.fakes.smtp import smtp_server
from tests.secret_places import database_rows, log_text, readable
from tests.span_capture import SpanCapture
from workflows.escalation import EscalationDeliveryWorkflow
from workflows.reports import PlanReportWorkflow

DEPARTMENT = "quality"
CHANNELS = ("quality-ding", "ops-slack", "plant-feishu", "erp-hook", "qm-mail", "line-wecom")
REPORT_CHANNELS = ("ops-slack", "erp-hook")
# DingTalk's "sign not match": the robot refuses every message until the cap (2 attempts).
DING_REFUSAL = 310000


@dataclass(frozen=True)
class Secrets:
    """Distinctive random values for every secret a channel holds."""

    ding_token: str
    ding_secret: str
    slack_token: str
    feishu_hook: str
    feishu_secret: str
    hook_token: str
    hook_password: str
    hook_secret: str
    smtp_password: str
    wecom_key: str

    @classmethod
    def make(cls) -> Secrets:
        return cls(
            ding_token=f"TOKEN-{token_hex(10)}",
            ding_secret=f"SEC-{token_hex(12)}",
            slack_token=f"SLACK{token_hex(10)}",
            feishu_hook=f"fshook-{token_hex(10)}",
            feishu_secret=f"FSEC-{token_hex(10)}",
            hook_token=f"HOOKTOK{token_hex(10)}",
            hook_password=f"HOOKPW{token_hex(10)}",
            hook_secret=f"WHSEC-{token_hex(12)}",
            smtp_password=f"SMTPPW-{token_hex(10)}",
            wecom_key=f"WECOMKEY-{token_hex(10)}",
        )


@dataclass
class Seen:
    """Everything the run showed, by where it was seen."""

    places: dict[str, str]

    def add(self, place: str, shown: str) -> None:
        self.places[place] = self.places.get(place, "") + "\n" + shown

    def leaks(self, wanted: dict[str, str]) -> list[str]:
        found = []
        for place, shown in self.places.items():
            for label, value in wanted.items():
                at = shown.find(value)
                if at >= 0:
                    found.append(f"{label} in {place}: …{shown[max(0, at - 120) : at + 60]}…")
        return found


@pytest.fixture
def spans(base_settings: Settings) -> Iterator[InMemorySpanExporter]:
    """Every span this process finishes during the test; tracing set up as the worker does
    (which also keeps httpx's request log to warnings)."""
    processor = SpanCapture()
    setup_tracing(base_settings, processors=[processor])
    yield processor.exporter
    processor.shutdown()


def channels_config(s: Secrets, tmp: Path, bases: dict[str, str], smtp_port: int) -> dict[str, Any]:
    """The channels and routes, secrets inline, in files and in variables (set by the test)."""
    (tmp / "slack.url").write_text(f"{bases['slack']}/services/T0/B0/{s.slack_token}\n")
    (tmp / "feishu.secret").write_text(s.feishu_secret + "\n")
    (tmp / "smtp.password").write_text(s.smtp_password)
    ding = f"{bases['ding']}/robot/send?access_token={s.ding_token}"
    wecom = f"http://127.0.0.1:{free_port()}/cgi-bin/webhook/send?key={s.wecom_key}"
    feishu = f"{bases['feishu']}/open-apis/bot/v2/hook/{s.feishu_hook}"
    # Unpaced: pacing is another test's subject, and this one should take seconds.
    unpaced = {"rate_per_minute": 0}
    ding_secret = {"secret_env": "OF_TEST_DING_SECRET"}
    slack_url = {"url_file": str(tmp / "slack.url")}
    smtp = {"smtp_host": "127.0.0.1", "smtp_port": smtp_port, "smtp_security": "none"}
    login = {"smtp_username": "orderflow", "password_file": str(tmp / "smtp.password")}
    letter = {"from": "orderflow@plant.example", "to": ["qm@plant.example"]}
    return {
        "channels": [
            {"name": "quality-ding", "type": "dingtalk", "url": ding, **ding_secret, **unpaced},
            {"name": "ops-slack", "type": "slack", "lang": "en", **slack_url, **unpaced},
            {"name": "plant-feishu", "type": "feishu", "url": feishu, **unpaced}
            | {"secret_file": str(tmp / "feishu.secret")},
            {"name": "erp-hook", "type": "webhook", "lang": "en", "url_env": "OF_TEST_HOOK_URL"}
            | {"secret": s.hook_secret},
            {"name": "qm-mail", "type": "email", **smtp, **login, **letter},
            {"name": "line-wecom", "type": "wecom", "url": wecom, **unpaced},
        ],
        "routes": [
            {"channels": list(CHANNELS)},
            {"channels": list(REPORT_CHANNELS), "event": "plan_report"},
        ],
    }


def hook_url(base: str, s: Secrets) -> str:
    return base.replace("http://", f"http://erp:{s.hook_password}@") + (
        f"/hooks/orderflow?token={s.hook_token}"
    )


def wanted_absent(s: Secrets, config: dict[str, Any], hook: str, slack: str) -> dict[str, str]:
    """Every value that must not be shown: each secret, each full URL, the webhook's basic
    authorization as httpx sends it."""
    urls = {f"url of {c['name']}": c["url"] for c in config["channels"] if "url" in c}
    basic = base64.b64encode(f"erp:{s.hook_password}".encode()).decode()
    return {**asdict(s), **urls, "url of erp-hook": hook, "url of ops-slack": slack} | {
        "basic auth of erp-hook": basic
    }


async def finish(handle: WorkflowHandle[Any, Any], seen: Seen) -> Any:
    """The workflow's result, describing it while it runs (pending activities show their
    last failure there, as the Temporal UI does)."""
    result = asyncio.ensure_future(handle.result())
    async with asyncio.timeout(60):
        while not result.done():
            description = await handle.describe()
            seen.add(
                f"description of {handle.id}", readable(MessageToDict(description.raw_description))
            )
            await asyncio.wait([result], timeout=0.1)
    # The Temporal UI's "current details" (set_current_details), as the workflow left them.
    metadata = await handle.query("__temporal_workflow_metadata")
    seen.add(f"current details of {handle.id}", str(metadata))
    return result.result()


# The fake SMTP server takes a login without TLS (tests have no certificate).
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
async def test_no_secret_in_histories_logs_spans_rows_or_answers(
    base_settings: Settings,
    ts_env: WorkflowEnvironment,
    engine: AsyncEngine,
    spans: InMemorySpanExporter,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    caplog.set_level(logging.DEBUG)
    # As in a worker: setup_tracing (the `spans` fixture) kept httpx's request log, which
    # holds each URL, to warnings; every other logger logs at DEBUG here.
    assert logging.getLogger("httpx").getEffectiveLevel() == logging.WARNING
    s = Secrets.make()
    ding, slack = (
        DingTalkFake(s.ding_token, s.ding_secret),
        SlackFake(f"/services/T0/B0/{s.slack_token}"),
    )
    feishu, hook = FeishuFake(s.feishu_hook, s.feishu_secret), WebhookFake(s.hook_secret)
    seen = Seen({})
    async with AsyncExitStack() as fakes:
        bases = {
            name: await fakes.enter_async_context(serve(app))
            for name, app in (("ding", ding), ("slack", slack), ("feishu", feishu), ("hook", hook))
        }
        smtp = await fakes.enter_async_context(
            smtp_server(username="orderflow", password=s.smtp_password)
        )
        config = channels_config(s, tmp_path, bases, smtp.port)
        monkeypatch.setenv("OF_TEST_DING_SECRET", s.ding_secret)
        monkeypatch.setenv("OF_TEST_HOOK_URL", hook_url(bases["hook"], s))
        (tmp_path / "channels.json").write_text(json.dumps(config))
        settings = settings_for(
            base_settings,
            channels_file=tmp_path / "channels.json",
            webhook_timeout_seconds=2,
            webhook_backoff_initial_seconds=0.05,
            webhook_backoff_max_seconds=0.2,
            webhook_max_attempts=2,
        )
        assert sorted(settings.channel_book().channels) == sorted(CHANNELS)
        wanted = wanted_absent(s, config, hook_url(bases["hook"], s), slack.url(bases["slack"]))
        seen.add("settings", f"{settings!r}\n{settings.channel_book()!r}")
        # DingTalk refuses until the cap; the webhook and Slack echo their token in an error.
        ding.fail_next(2, code=DING_REFUSAL)
        hook.fail_next(
            1, code=f"unknown token {s.hook_token} for erp:{s.hook_password}", status=500
        )
        slack.fail_next(1, code=f"invalid_token /services/T0/B0/{s.slack_token}", status=403)
        traced = ts_env.client.config()
        traced["interceptors"] = [tracing_interceptor()]
        client = Client(**traced)
        async with run_stack(settings, client) as stack:
            handles = await deliver_all(stack, engine, seen)
            await answers(stack, seen)
        seen.add("logs", log_text(caplog.records))
        # What went to stdout and stderr (Temporal's core logs there).
        seen.add("output", "\n".join(capfd.readouterr()))
        for table, rows in (await database_rows(engine)).items():
            seen.add(f"table {table}", rows)
    for span in spans.get_finished_spans():
        seen.add(f"span {span.name}", span.to_json())
    for handle in handles:
        history = await handle.fetch_history()
        seen.add(f"history of {handle.id}", readable(json.loads(history.to_json())))
        (tmp_path / f"{handle.id}.json").write_text(history.to_json())
    print(f"[secrets] histories in {tmp_path}; looked in {len(seen.places)} places")

    # What was looked in holds what the run did (else finding nothing proves nothing).
    assert len(ding.accepted) >= 1 and len(ding.seen) >= 3
    assert slack.accepted and feishu.accepted and hook.accepted and smtp.letters
    assert [r.reason for r in (*hook.seen, *slack.seen)].count("told to fail") == 2
    assert smtp.letters[0].login == "orderflow"
    assert all(c in seen.places[f"history of {handles[0].id}"] for c in CHANNELS)
    assert "esc-" in seen.places[f"history of {handles[0].id}"]
    assert "quality-ding failed" in seen.places[f"current details of {handles[0].id}"]
    assert f"errcode {DING_REFUSAL}" in seen.places["table escalation.delivery_attempts"]
    assert "WeCom: no answer" in seen.places["table escalation.delivery_attempts"]
    assert "channel quality-ding did not take the message" in seen.places["logs"]
    assert any(name.startswith("span RunActivity:send_delivery") for name in seen.places)
    assert bases["ding"] + "/***" in "".join(seen.places.values())
    leaks = seen.leaks(wanted)
    assert not leaks, f"{len(leaks)} secret(s) shown:\n" + "\n".join(leaks)


async def deliver_all(
    stack: Stack, engine: AsyncEngine, seen: Seen
) -> list[WorkflowHandle[Any, Any]]:
    """Deliver two escalations, then the `channel_failing` escalations they raised, and run a
    plan report; every handle, the first escalation's first."""
    prefix = stack.settings.task_queue_prefix
    queue = department_queue(prefix, DEPARTMENT)
    handles: list[WorkflowHandle[Any, Any]] = []
    stored = [
        await store(engine, department=DEPARTMENT, role=f"head:{DEPARTMENT}", message=f"No. {n}")
        for n in range(2)
    ]
    for escalation_id in stored:
        handle = await stack.client.start_workflow(
            EscalationDeliveryWorkflow.run,
            EscalationDelivery(escalation_id=escalation_id, task_queue=queue),
            id=f"escalation-{escalation_id}",
            task_queue=workflow_queue(prefix),
        )
        assert sorted(await finish(handle, seen)) == sorted(CHANNELS)
        handles.append(handle)
    async with session_scope(engine) as session:
        failing = list(
            (
                await session.execute(
                    select(Escalation).where(col(Escalation.kind) == CHANNEL_FAILING)
                )
            ).scalars()
        )
    assert {failing_channel(e) for e in failing} == {"quality-ding", "line-wecom"}
    for escalation in failing:
        handle = stack.client.get_workflow_handle(f"escalation-{escalation.id}")
        await finish(handle, seen)
        handles.append(handle)
    report = await stack.client.start_workflow(
        PlanReportWorkflow.run,
        PlanReportInput(queue_prefix=prefix, kind="week", period="2026-W10"),
        id=f"plan-report-{uuid.uuid4().hex[:8]}",
        task_queue=workflow_queue(prefix),
    )
    assert sorted((await finish(report, seen)).published_to) == sorted(REPORT_CHANNELS)
    return [*handles, report]


def failing_channel(escalation: Escalation) -> str:
    return escalation.key.split(":")[1]


async def answers(stack: Stack, seen: Seen) -> None:
    """The API's lists of escalations (with their deliveries) and of channels."""
    headers = stack.token("ops-bot", "ops")
    for path in ("/escalations", "/escalations/channels"):
        answer = await stack.http.get(path, headers=headers)
        assert answer.status_code == 200, answer.text
        seen.add(f"GET {path}", answer.text)
