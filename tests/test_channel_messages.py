# ruff: noqa: RUF001  (Chinese text uses full-width punctuation on purpose)
"""What the bots say, in Chinese and English: an escalation, a department's daily digest and
a plan report; times in the plant's zone, lateness as people say it."""

from __future__ import annotations

import ast
import json
from datetime import date, timedelta
from pathlib import Path

import pytest

from shared.channels.messages import digest_message, escalation_message, plan_report_message
from shared.channels.model import CHANNEL_FAILING, DigestFacts
from shared.channels.texts import (
    DEPARTMENT_NAMES,
    ESCALATION_KINDS,
    TASK_KINDS,
    duration_text,
    local_time,
    role_text,
)
from shared.settings import DEPARTMENTS
from shared.tasks.kinds import TASK_KINDS as KNOWN_TASKS
from shared.working_time.store import UNCONFIRMED
from tests.fakes.facts import NOW, escalation_facts
from tests.source_ast import parse

ROOT = Path(__file__).resolve().parents[1]
API_BODY = {
    "id",
    "kind",
    "level",
    "order_no",
    "task_id",
    "department",
    "role",
    "due_at",
    "breached_at",
    "message",
}


def test_escalation_in_chinese_names_everything_people_act_on() -> None:
    message = escalation_message(escalation_facts(), "zh")
    assert message.title == "【2级升级】任务超期：订单 SO-2026-0412（华电电力设备有限公司）"
    assert message.lines == (
        "订单：SO-2026-0412　客户：华电电力设备有限公司",
        "事项：任务超期（出厂检验） — final inspection not signed off",
        "超期：2小时15分",
        "请处理：质量部负责人",
        "到期时间：2026-12-04 14:30 (Asia/Shanghai)",
        "触发时间：2026-12-04 14:45 (Asia/Shanghai)",
        "升级级别：2级",
    )
    assert [(link.label, link.url) for link in message.links] == [
        ("查看订单 SO-2026-0412", "https://desk.plant.example/desk/orders/SO-2026-0412"),
        ("确认收到", "https://orderflow.plant.example/ack/eyJpZCI6NDF9.sig"),
    ]
    assert message.lang == "zh" and message.level == 2 and message.event is None


def test_escalation_in_english_and_its_webhook_data() -> None:
    facts = escalation_facts()
    message = escalation_message(facts, "en")
    assert message.title == "[Level 2] Task overdue: order SO-2026-0412 (华电电力设备有限公司)"
    assert "Late by: 2 h 15 min" in message.lines
    assert "Who must act: Head of Quality" in message.lines
    assert "Due: 2026-12-04 14:30 (Asia/Shanghai)" in message.lines
    assert "What: Task overdue (Final inspection) — final inspection not signed off" in (
        message.lines
    )
    data = dict(message.data)
    assert set(data) == API_BODY | {"customer", "order_url", "ack_url", "late_seconds"}
    assert data["due_at"] == "2026-12-04T06:30:00+00:00"
    assert data["breached_at"] == "2026-12-04T06:45:00+00:00"
    assert data["late_seconds"] == 8100 and data["customer"] == "华电电力设备有限公司"
    json.dumps(data)


def test_without_a_due_time_lateness_counts_from_the_breach_and_no_ack_link() -> None:
    facts = escalation_facts(
        kind="channel_failing", role="ops", due_at=None, task_kind=None, ack_url=None
    )
    zh, en = escalation_message(facts, "zh"), escalation_message(facts, "en")
    assert "触发至今：2小时" in zh.lines and "Open since the breach: 2 h" in en.lines
    assert not any(line.startswith("到期时间") for line in zh.lines)
    assert [link.label for link in en.links] == ["Open order SO-2026-0412"]
    assert "请处理：运维值班" in zh.lines and en.data["late_seconds"] == 7200
    assert en.data["due_at"] is None


def test_due_ahead_and_unknown_codes() -> None:
    facts = escalation_facts(
        due_at=NOW + timedelta(minutes=40), kind="new_kind", role="head:nowhere", customer=None
    )
    zh, en = escalation_message(facts, "zh"), escalation_message(facts, "en")
    assert "距到期：40分钟" in zh.lines and "Due in: 40 min" in en.lines
    assert en.title == "[Level 2] new_kind: order SO-2026-0412 ((not recorded))"
    assert "Who must act: head:nowhere" in en.lines
    assert en.data["late_seconds"] == -2400


@pytest.mark.parametrize(
    ("minutes", "zh", "en"),
    [
        (0.5, "不到1分钟", "< 1 min"),
        (15, "15分钟", "15 min"),
        (120, "2小时", "2 h"),
        (135, "2小时15分", "2 h 15 min"),
        (3 * 1440 + 4 * 60 + 59, "3天4小时", "3 d 4 h"),
        (2 * 1440, "2天", "2 d"),
    ],
)
def test_durations_as_people_say_them(minutes: float, zh: str, en: str) -> None:
    delta = timedelta(minutes=minutes)
    assert duration_text(delta, "zh") == zh and duration_text(delta, "en") == en
    assert duration_text(-delta, "en") == en


def test_times_are_shown_in_the_plant_zone() -> None:
    assert local_time(NOW, "Asia/Shanghai") == "2026-12-04 16:45 (Asia/Shanghai)"
    assert local_time(NOW, "Europe/Berlin") == "2026-12-04 09:45 (Europe/Berlin)"


def test_roles_in_words() -> None:
    assert role_text("head:quality", "en") == "Head of Quality"
    assert role_text("head:procurement", "zh") == "采购部负责人"
    assert role_text("division", "zh") == "事业部领导"
    assert role_text("division", "en") == "Division management"
    assert role_text("planning", "zh") == "计划部"
    assert role_text("ops", "en") == "Ops on duty"


def raised_kinds() -> set[str]:
    """Every escalation kind the code raises by a literal: `kind="..."` given to `escalate` or
    `RaiseEscalation` anywhere in workflows/, services/ and shared/."""
    kinds: set[str] = set()
    for root in ("workflows", "services", "shared"):
        for path in (ROOT / root).rglob("*.py"):
            for node in ast.walk(parse(path.read_text())):
                if not isinstance(node, ast.Call):
                    continue
                func = node.func
                name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                if name not in ("escalate", "RaiseEscalation"):
                    continue
                kinds.update(
                    k.value.value
                    for k in node.keywords
                    if k.arg == "kind"
                    and isinstance(k.value, ast.Constant)
                    and isinstance(k.value.value, str)
                )
    return kinds


def test_every_known_kind_has_both_phrases() -> None:
    raised = raised_kinds()
    assert {"task_overdue", "milestone_overdue", "short_pick"} <= raised
    # `delivery_failed`: raised before channels, still in stored escalations.
    assert raised | {"delivery_failed", UNCONFIRMED, CHANNEL_FAILING} <= set(ESCALATION_KINDS)
    assert set(KNOWN_TASKS) <= set(TASK_KINDS)
    assert set(DEPARTMENTS) == set(DEPARTMENT_NAMES)
    for table in (ESCALATION_KINDS, TASK_KINDS):
        assert all(zh and en and zh != en for zh, en in table.values())


def test_digest_lists_each_open_escalation_with_its_order_link() -> None:
    older = escalation_facts(
        id=40,
        order_no="SO-2026-0400",
        customer="Acme",
        level=1,
        due_at=None,
        role="quality",
        order_url="https://desk.plant.example/desk/orders/SO-2026-0400",
    )
    facts = DigestFacts(
        "quality", date(2026, 12, 4), NOW, "Asia/Shanghai", (older, escalation_facts())
    )
    zh, en = digest_message(facts, "zh"), digest_message(facts, "en")
    assert zh.title == "质量部 2026-12-04 未处理升级 2 条"
    assert en.title == "Quality: 2 open escalation(s) on 2026-12-04"
    assert zh.lines == (
        "订单 SO-2026-0400（Acme）· 任务超期 · 1级 · 已开 2小时 · 质量部",
        "订单 SO-2026-0412（华电电力设备有限公司）· 任务超期 · 2级 · 超期 2小时15分 · 质量部负责人",
    )
    assert en.lines[1].endswith("level 2 · 2 h 15 min late · Head of Quality")
    assert [link.url for link in en.links] == [older.order_url, escalation_facts().order_url]
    assert en.event == "escalation_digest" and en.level == 2
    assert en.data["kind"] == "escalation_digest" and en.data["day"] == "2026-12-04"
    bodies = en.data["escalations"]
    assert isinstance(bodies, list) and [e["id"] for e in bodies] == [40, 41]


def test_empty_digest_says_so() -> None:
    facts = DigestFacts("sales", date(2026, 12, 4), NOW, "Asia/Shanghai", ())
    assert digest_message(facts, "zh").lines == ("当前没有未处理的升级。",)
    assert digest_message(facts, "en").title == "Sales: 0 open escalation(s) on 2026-12-04"


def test_plan_report_one_line_per_department() -> None:
    event = {
        "kind": "plan_report",
        "period_kind": "week",
        "period": "2026-W48",
        "departments": [
            {"department": "engineering", "due": 8, "met": 5, "rate": 0.625},
            {"department": "procurement", "due": 4, "met": 4, "rate": 1.0},
            {"department": "quality", "due": 0, "met": 0, "rate": None},
        ],
        "generated_at": "2026-11-30T00:30:00+00:00",
    }
    zh = plan_report_message(event, "zh", "Asia/Shanghai")
    en = plan_report_message(event, "en", "Asia/Shanghai")
    assert zh.title == "计划达成率周报 2026-W48"
    assert zh.lines == (
        "技术部：应完成 8 项，按期完成 5 项，达成率 62.5%",
        "采购部：应完成 4 项，按期完成 4 项，达成率 100%",
        "质量部：本期无到期节点",
        "生成时间：2026-11-30 08:30 (Asia/Shanghai)",
    )
    assert en.title == "Plan achievement, week 2026-W48"
    assert en.lines[0] == "Engineering: 5 of 8 met on time (62.5%)"
    assert en.lines[2] == "Quality: nothing due"
    assert en.event == "plan_report" and en.data == event and en.links == ()
