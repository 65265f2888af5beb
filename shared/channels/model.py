"""What every part of the escalation bots agrees on: a channel (a named target of a type), a
route (which escalations and events go to which channels), a message (what is said, before a
platform gives it its body) and the answer of one send.

A channel's URL, secrets and password never leave this package except to be sent: `repr` hides
them, `target()` is what may be shown (lists, rows, errors, logs, spans), and the workflow
names a channel only by `name`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal, get_args

ChannelType = Literal["webhook", "dingtalk", "wecom", "feishu", "slack", "email"]
CHANNEL_TYPES: tuple[str, ...] = get_args(ChannelType)
Lang = Literal["zh", "en"]
SmtpSecurity = Literal["starttls", "tls", "none"]

# Event kinds that go through the routing beside escalations.
PLAN_REPORT, ESCALATION_DIGEST = "plan_report", "escalation_digest"
# What an administrator's test of a channel sends (`POST /escalations/channels/{name}/test`).
CHANNEL_TEST = "channel_test"
EVENT_KINDS: tuple[str, ...] = (PLAN_REPORT, ESCALATION_DIGEST)
# An order's progress notice for its customer (shared/notices.py): one per milestone reached
# and plan revision, so many that a channel gets them only when a route names the event (a
# channel configured without routes, or a legacy event webhook, does not).
CUSTOMER_NOTICE = "customer_notice"
ROUTED_EVENT_KINDS: tuple[str, ...] = (*EVENT_KINDS, CUSTOMER_NOTICE)

# The escalation a channel whose deliveries failed raises to `ops` (once per channel per hour).
CHANNEL_FAILING = "channel_failing"


@dataclass(frozen=True)
class Channel:
    """A named target of one type, as configured; its secrets resolved from files or env."""

    name: str
    type: ChannelType
    lang: Lang = "zh"
    # Sends per minute this channel is paced to (0: unpaced); each type has its default.
    rate_per_minute: int = 0
    # HTTP types: where to POST (may hold a token: never shown).
    url: str = field(default="", repr=False)
    # webhook: HMAC secrets, the current first and, during rotation, the previous one;
    # dingtalk and feishu: the robot's signing secret (one).
    secrets: tuple[str, ...] = field(default=(), repr=False)
    # email: the SMTP server and the letter's addresses.
    smtp_host: str = ""
    smtp_port: int = 0
    smtp_security: SmtpSecurity = "starttls"
    smtp_username: str = ""
    smtp_password: str = field(default="", repr=False)
    mail_from: str = ""
    mail_to: tuple[str, ...] = ()

    def target(self) -> str:
        """Where this channel goes, safe to show: an HTTP channel's scheme and host (its path
        and query may hold the token), an e-mail channel's recipients and server."""
        if self.type == "email":
            return f"mailto:{','.join(self.mail_to)} via {self.smtp_host}:{self.smtp_port}"
        scheme, _, rest = self.url.partition("://")
        host = rest.split("/", 1)[0].split("?", 1)[0].rsplit("@", 1)[-1]
        return f"{scheme}://{host}/***"


@dataclass(frozen=True)
class Route:
    """Which channels receive what: every field left empty matches anything.

    A route with `events` matches those business events only (each event's department, if
    it has one, must be in `departments` when that is given); a route without matches
    escalations by kind, level, department and escalated role."""

    channels: tuple[str, ...]
    kinds: frozenset[str] = frozenset()
    levels: frozenset[int] = frozenset()
    departments: frozenset[str] = frozenset()
    roles: frozenset[str] = frozenset()
    events: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Link:
    label: str
    url: str


@dataclass(frozen=True)
class Message:
    """What one delivery says, in the channel's language, before a platform gives it a body.

    `title` is one line; `lines` are the facts in order (markdown-safe plain text, each a line);
    `links` are the buttons or links (the order page, the one-click acknowledge); `data` is the
    JSON the generic webhook POSTs as it is (API.md "Escalation bots" for an escalation, the
    event's body for an event); `event` names the event kind for the `X-Orderflow-Event`
    header (None for an escalation); `level` lets a platform colour the message."""

    title: str
    lines: tuple[str, ...]
    links: tuple[Link, ...]
    data: Mapping[str, object]
    lang: Lang
    event: str | None = None
    level: int = 1


@dataclass(frozen=True)
class SendResult:
    """One send's answer: delivered (`ok`), or why not, with nothing secret in it.

    `status` is the HTTP status (None: no answer, or e-mail); `code` the platform's body-level
    error code when it gave one (DingTalk/WeCom `errcode`, Feishu `code`, Slack's error text,
    an SMTP reply code); `error` a sentence for people; `rate_limited` says the platform asked
    to slow down (wait and send the same message again, in order), with `retry_after` seconds
    when it said how long."""

    ok: bool
    status: int | None = None
    code: str | None = None
    error: str | None = None
    rate_limited: bool = False
    retry_after: float | None = None


@dataclass(frozen=True)
class EscalationFacts:
    """What a message about one escalation says, gathered when it is written: `now` is when
    (lateness counts to it), `zone` the plant's time zone every time is shown in, `order_url`
    the desk's (or the API's) order page, `ack_url` the one-click acknowledge link, signed for the
    role the escalation is raised to (None when it is no longer open)."""

    id: int
    kind: str
    level: int
    order_no: str
    customer: str | None
    department: str
    role: str
    task_id: str | None
    task_kind: str | None
    due_at: datetime | None
    breached_at: datetime
    message: str
    now: datetime
    zone: str
    order_url: str
    ack_url: str | None = None


@dataclass(frozen=True)
class DigestFacts:
    """The daily digest of one department's open escalations at the start of its working day
    (`escalation_digest` event), oldest breach first."""

    department: str
    day: date
    now: datetime
    zone: str
    escalations: tuple[EscalationFacts, ...]
