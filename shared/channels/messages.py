# ruff: noqa: RUF001  (Chinese text uses full-width punctuation on purpose)
"""What the escalation bots say: an escalation, a department's daily digest, a plan report,
a customer progress notice.

Pure functions of the facts gathered when a message is written (no I/O, no clock: `now` is in
the facts), so a workflow's activity can build the same message on every attempt.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from shared.channels.model import (
    CHANNEL_TEST,
    CUSTOMER_NOTICE,
    ESCALATION_DIGEST,
    PLAN_REPORT,
    DigestFacts,
    EscalationFacts,
    Lang,
    Link,
    Message,
)
from shared.channels.texts import (
    department_text,
    duration_text,
    escalation_kind_text,
    local_time,
    milestone_text,
    one_line,
    percent,
    role_text,
    task_kind_text,
    word,
)


def escalation_body(facts: EscalationFacts) -> dict[str, Any]:
    """The escalation as the generic webhook POSTs it: API.md's body (as `webhook_body` makes
    it) with the customer, the two links and how late it is in seconds."""
    return {
        "id": facts.id,
        "kind": facts.kind,
        "level": facts.level,
        "order_no": facts.order_no,
        "task_id": facts.task_id,
        "department": facts.department,
        "role": facts.role,
        "due_at": facts.due_at.isoformat() if facts.due_at else None,
        "breached_at": facts.breached_at.isoformat(),
        "message": facts.message,
        "customer": facts.customer,
        "order_url": facts.order_url,
        "ack_url": facts.ack_url,
        "late_seconds": late_seconds(facts),
    }


def late_seconds(facts: EscalationFacts) -> int:
    """Seconds from the due time (or, without one, the breach) to `now`; negative when the
    due time is still ahead."""
    since = facts.due_at or facts.breached_at
    return int((facts.now - since).total_seconds())


def what_text(facts: EscalationFacts, lang: Lang) -> str:
    """What is late, in words: the escalation kind, the task's kind, and its own message."""
    what = escalation_kind_text(facts.kind, lang)
    if facts.task_kind:
        task = task_kind_text(facts.task_kind, lang)
        what = f"{what}（{task}）" if lang == "zh" else f"{what} ({task})"
    message = one_line(facts.message)
    if message:
        what = f"{what} — {message}"
    return what


def lateness_text(facts: EscalationFacts, lang: Lang) -> str:
    """How late: past the due time, still ahead of it, or (no due time) since the breach."""
    if facts.due_at is None:
        since = duration_text(facts.now - facts.breached_at, lang)
        return _pair(word("since_breach", lang), since, lang)
    late = facts.now - facts.due_at
    key = "late_by" if late.total_seconds() >= 0 else "due_in"
    return _pair(word(key, lang), duration_text(late, lang), lang)


def _pair(label: str, value: str, lang: Lang) -> str:
    return f"{label}：{value}" if lang == "zh" else f"{label}: {value}"


def _customer(facts: EscalationFacts, lang: Lang) -> str:
    return one_line(facts.customer) if facts.customer else word("unknown_customer", lang)


def _level(level: int, lang: Lang) -> str:
    return f"{level}级" if lang == "zh" else str(level)


def escalation_title(facts: EscalationFacts, lang: Lang) -> str:
    kind = escalation_kind_text(facts.kind, lang)
    if lang == "zh":
        return f"【{facts.level}级升级】{kind}：订单 {facts.order_no}（{_customer(facts, lang)}）"
    return f"[Level {facts.level}] {kind}: order {facts.order_no} ({_customer(facts, lang)})"


def escalation_links(facts: EscalationFacts, lang: Lang) -> tuple[Link, ...]:
    """The order page, then (when it can be acknowledged) the one-click acknowledge link."""
    links = [Link(f"{word('open_order', lang)} {facts.order_no}", facts.order_url)]
    if facts.ack_url is not None:
        links.append(Link(word("acknowledge", lang), facts.ack_url))
    return tuple(links)


def escalation_message(facts: EscalationFacts, lang: Lang) -> Message:
    """One escalation for people: the order and customer, what is late and by how much, who
    must act, the due and breach times in the plant's zone, the level, and the two links."""
    order = _pair(word("order", lang), facts.order_no, lang)
    customer = _pair(word("customer", lang), _customer(facts, lang), lang)
    lines = [
        f"{order}　{customer}" if lang == "zh" else f"{order} · {customer}",
        _pair(word("what", lang), what_text(facts, lang), lang),
        lateness_text(facts, lang),
        _pair(word("who", lang), role_text(facts.role, lang), lang),
    ]
    if facts.due_at is not None:
        lines.append(_pair(word("due", lang), local_time(facts.due_at, facts.zone), lang))
    lines.append(_pair(word("breached", lang), local_time(facts.breached_at, facts.zone), lang))
    lines.append(_pair(word("level", lang), _level(facts.level, lang), lang))
    return Message(
        title=escalation_title(facts, lang),
        lines=tuple(lines),
        links=escalation_links(facts, lang),
        data=escalation_body(facts),
        lang=lang,
        event=None,
        level=facts.level,
    )


def digest_line(facts: EscalationFacts, lang: Lang) -> str:
    """One open escalation in a digest: order, customer, kind, level, how late, who acts."""
    kind = escalation_kind_text(facts.kind, lang)
    late = duration_text(facts.now - (facts.due_at or facts.breached_at), lang)
    role = role_text(facts.role, lang)
    customer = _customer(facts, lang)
    if lang == "zh":
        state = f"超期 {late}" if facts.due_at else f"已开 {late}"
        return f"订单 {facts.order_no}（{customer}）· {kind} · {facts.level}级 · {state} · {role}"
    state = f"{late} late" if facts.due_at else f"open {late}"
    return f"Order {facts.order_no} ({customer}) · {kind} · level {facts.level} · {state} · {role}"


def _order_links(escalations: Sequence[EscalationFacts], lang: Lang) -> tuple[Link, ...]:
    seen: dict[str, Link] = {}
    for facts in escalations:
        if facts.order_url not in seen:
            seen[facts.order_url] = Link(
                f"{word('open_order', lang)} {facts.order_no}", facts.order_url
            )
    return tuple(seen.values())


def digest_message(facts: DigestFacts, lang: Lang) -> Message:
    """A department's open escalations at the start of its day, one line each (oldest breach
    first, as given), with each order's link; the count in the title."""
    title = word("digest_title", lang).format(
        dept=department_text(facts.department, lang),
        day=facts.day.isoformat(),
        count=len(facts.escalations),
    )
    lines = tuple(digest_line(e, lang) for e in facts.escalations) or (word("digest_none", lang),)
    return Message(
        title=title,
        lines=lines,
        links=_order_links(facts.escalations, lang),
        data={
            "kind": ESCALATION_DIGEST,
            "department": facts.department,
            "day": facts.day.isoformat(),
            "escalations": [escalation_body(e) for e in facts.escalations],
        },
        lang=lang,
        event=ESCALATION_DIGEST,
        level=max((e.level for e in facts.escalations), default=1),
    )


def _report_line(row: Mapping[str, Any], lang: Lang) -> str:
    dept = department_text(str(row.get("department", "")), lang)
    rate = row.get("rate")
    if not row.get("due") or rate is None:
        return word("report_nothing", lang).format(dept=dept)
    return word("report_line", lang).format(
        dept=dept, due=row.get("due"), met=row.get("met"), rate=percent(float(rate))
    )


def plan_report_message(event: Mapping[str, object], lang: Lang, zone: str) -> Message:
    """A plan-achievement report (the `plan_report` event of services/planning/reports.py):
    one line per department with its milestones due, met and the rate; the event as data."""
    period_kind = str(event.get("period_kind", ""))
    kind_word = word(period_kind, lang) if period_kind in ("week", "month") else period_kind
    title = word("report_title", lang).format(period_kind=kind_word, period=event.get("period", ""))
    rows = event.get("departments")
    lines = (
        [_report_line(r, lang) for r in rows if isinstance(r, Mapping)]
        if isinstance(rows, list)
        else []
    )
    if not lines:
        lines = [word("report_none", lang)]
    generated = event.get("generated_at")
    if isinstance(generated, str) and generated:
        moment = datetime.fromisoformat(generated)
        lines.append(_pair(word("generated", lang), local_time(moment, zone), lang))
    return Message(
        title=title,
        lines=tuple(lines),
        links=(),
        data=dict(event),
        lang=lang,
        event=PLAN_REPORT,
        level=1,
    )


def customer_notice_message(event: Mapping[str, object], lang: Lang) -> Message:
    """A customer progress notice (shared/notices.py `CustomerNotice.content`): a milestone
    reached with its actual and planned dates, or a plan revision with why, the ship forecast
    and the due date; the customer, the order's link; the event as data."""
    order_no = str(event.get("order_no", ""))
    lines = [_pair(word("customer", lang), one_line(str(event.get("customer", ""))), lang)]
    if event.get("kind") == "milestone":
        milestone = milestone_text(str(event.get("milestone", "")), lang)
        title = word("notice_milestone", lang).format(order_no=order_no, milestone=milestone)
        lines.append(_pair(word("notice_actual", lang), str(event.get("actual")), lang))
        if event.get("planned"):
            lines.append(_pair(word("notice_planned", lang), str(event.get("planned")), lang))
    else:
        title = word("notice_plan", lang).format(order_no=order_no, revision=event.get("revision"))
        reason = one_line(str(event.get("reason") or ""))
        if reason:
            lines.append(_pair(word("notice_reason", lang), reason, lang))
        lines.append(_pair(word("notice_ship", lang), str(event.get("forecast_ship")), lang))
        lines.append(_pair(word("notice_due", lang), str(event.get("due_date")), lang))
    url = str(event.get("order_url") or "")
    links = (Link(f"{word('open_order', lang)} {order_no}", url),) if url else ()
    return Message(
        title=title,
        lines=tuple(lines),
        links=links,
        data=dict(event),
        lang=lang,
        event=CUSTOMER_NOTICE,
        level=1,
    )


def test_message(channel: str, lang: Lang, *, by: str, at: datetime, zone: str) -> Message:
    """An administrator's test of a channel: says the channel works, who sent it and when."""
    return Message(
        title=word("test_title", lang).format(channel=channel),
        lines=(
            word("test_line", lang).format(channel=channel),
            _pair(word("test_by", lang), by, lang),
            _pair(word("test_at", lang), local_time(at, zone), lang),
        ),
        links=(),
        data={"kind": CHANNEL_TEST, "channel": channel, "by": by, "sent_at": at.isoformat()},
        lang=lang,
        event=CHANNEL_TEST,
        level=1,
    )
