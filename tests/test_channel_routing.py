"""Which channels an escalation or a business event goes to (shared/channels/routing.py): the
issue's examples, department digests, and everything to every channel without routes."""

from __future__ import annotations

import json

import pytest

from shared.channels.config import load_channel_book
from shared.channels.model import ESCALATION_DIGEST, PLAN_REPORT
from shared.channels.routing import ChannelBook
from tests.test_channel_config import dingtalk, email, wecom

ISSUE_EXAMPLE = {
    "channels": [
        dingtalk("quality-group"),
        wecom("division-group", lang="en"),
        email("qm-mail"),
        wecom("planning-group"),
    ],
    "routes": [
        {"channels": ["quality-group"], "department": "quality", "level": 1},
        {"channels": ["division-group"], "level": 2},
        {"channels": ["qm-mail"], "kind": "serious_nonconformance"},
        {"channels": ["planning-group"], "role": ["planning", "head:planning"]},
        {"channels": ["division-group"], "event": PLAN_REPORT},
        {"channels": ["quality-group"], "event": ESCALATION_DIGEST, "department": "quality"},
        {
            "channels": ["planning-group", "division-group"],
            "event": ESCALATION_DIGEST,
            "department": ["planning", "ops"],
        },
    ],
}


def test_the_issues_routing_examples() -> None:
    book = load_channel_book(channels_json=json.dumps(ISSUE_EXAMPLE))

    def to(kind: str, level: int, department: str, role: str) -> list[str]:
        return book.for_escalation(kind=kind, level=level, department=department, role=role)

    assert to("task_overdue", 1, "quality", "quality") == ["quality-group"]
    assert to("task_overdue", 2, "quality", "head:quality") == ["division-group"]
    assert to("task_overdue", 2, "sales", "division") == ["division-group"]
    assert to("serious_nonconformance", 1, "production", "division") == ["qm-mail"]
    assert to("serious_nonconformance", 1, "quality", "quality") == ["quality-group", "qm-mail"]
    assert to("serious_nonconformance", 2, "quality", "division") == ["division-group", "qm-mail"]
    assert to("material_late", 1, "procurement", "planning") == ["planning-group"]
    assert to("material_late", 1, "sales", "sales") == []


def test_event_routing_with_department_digests() -> None:
    book = load_channel_book(channels_json=json.dumps(ISSUE_EXAMPLE))
    assert book.for_event(PLAN_REPORT) == ["division-group"]
    assert book.for_event(PLAN_REPORT, department="sales") == ["division-group"]
    assert book.for_event(ESCALATION_DIGEST, department="quality") == ["quality-group"]
    assert book.for_event(ESCALATION_DIGEST, department="ops") == [
        "planning-group",
        "division-group",
    ]
    assert book.for_event(ESCALATION_DIGEST, department="sales") == []
    # A digest without a department reaches no department's own channel.
    assert book.for_event(ESCALATION_DIGEST) == []


def test_without_routes_every_channel_gets_everything() -> None:
    for config in ([dingtalk(), email()], {"channels": [dingtalk(), email()], "routes": []}):
        book = load_channel_book(channels_json=json.dumps(config))
        every = ["quality-group", "qm-mail"]
        assert book.for_escalation(kind="x", level=2, department="ops", role="ops") == every
        assert book.for_event(PLAN_REPORT) == every
        assert book.for_event(ESCALATION_DIGEST, department="sales") == every
    nothing = load_channel_book()
    assert nothing == ChannelBook({}, ())
    assert nothing.for_escalation(kind="x", level=1, department="sales", role="sales") == []


def test_a_book_refuses_routes_to_channels_it_lacks() -> None:
    book = load_channel_book(channels_json=json.dumps(ISSUE_EXAMPLE))
    with pytest.raises(ValueError, match="teams"):
        ChannelBook(book.channels, (*book.routes, type(book.routes[0])(channels=("teams",))))
