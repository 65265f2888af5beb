"""Facts for the bots' messages in tests: one escalation, late by 2 h 15 min in Shanghai."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from shared.channels.model import EscalationFacts

NOW = datetime(2026, 12, 4, 8, 45, tzinfo=UTC)  # 16:45 in Asia/Shanghai


def escalation_facts(**changes: Any) -> EscalationFacts:
    """Quality's final inspection of SO-2026-0412, due 14:30 Shanghai time, 2 h 15 min late,
    escalated to the head of quality (level 2); override any field."""
    facts = EscalationFacts(
        id=41,
        kind="task_overdue",
        level=2,
        order_no="SO-2026-0412",
        customer="华电电力设备有限公司",
        department="quality",
        role="head:quality",
        task_id="task-7f3a",
        task_kind="quality.final_inspection",
        due_at=NOW - timedelta(hours=2, minutes=15),
        breached_at=NOW - timedelta(hours=2),
        message="final inspection not signed off",
        now=NOW,
        zone="Asia/Shanghai",
        order_url="https://desk.plant.example/desk/orders/SO-2026-0412",
        ack_url="https://orderflow.plant.example/ack/eyJpZCI6NDF9.sig",
    )
    return replace(facts, **changes)
