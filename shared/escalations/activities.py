"""Escalation activities: store a breached clock, then push it to every escalation bot."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import httpx
from pydantic import BaseModel
from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlmodel import col
from temporalio import activity
from temporalio.exceptions import ApplicationError

from shared.activities import DbActivities
from shared.db import session_scope
from shared.escalations import service
from shared.escalations.models import DELIVERED, FAILED, PENDING, Escalation
from shared.settings import Settings
from shared.tasks.models import inbox
from shared.timeline import add_event
from shared.types import EscalationRaised, RaiseEscalation

SIGNATURE_HEADER = "X-Orderflow-Signature"
# The Standard Webhooks headers (standardwebhooks.com): the delivery's id, the same on every
# attempt (the receiver's dedupe key), the attempt's Unix time, and `v1,<base64 HMAC-SHA256 of
# "id.timestamp.body">` under the webhook secret's UTF-8 bytes.
ID_HEADER, TIMESTAMP_HEADER, STANDARD_SIGNATURE_HEADER = (
    "webhook-id",
    "webhook-timestamp",
    "webhook-signature",
)
DELIVERY_FAILED = "delivery_failed"


# One escalation to one webhook URL.
class DeliverWebhook(BaseModel):
    escalation_id: int
    url: str


# What EscalationDeliveryWorkflow delivers: an escalation, through a department's queue.
class EscalationDelivery(BaseModel):
    escalation_id: int
    task_queue: str


# One outgoing webhook as `deliver` sends it: what, where, under which id, and whom to tell in
# `ops` (department, order) if it cannot be delivered.
@dataclass(frozen=True)
class Outgoing:
    delivery_id: str
    url: str
    payload: dict[str, Any]
    what: str
    department: str
    order_no: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    escalation_id: int | None = None


def delivery_id(prefix: str, key: str, url: str, run: str = "") -> str:
    """A delivery's stable id: the event's own key and a digest of the target URL (and of the
    run that sends it, for an event a re-run sends anew)."""
    digest = hashlib.sha256(f"{run}\n{url}".encode()).hexdigest()[:16]
    return f"{prefix}_{key}_{digest}"[-80:]


def redact_url(url: str) -> str:
    """The URL without its password and query values, which may be tokens."""
    parts = urlsplit(url)
    netloc = parts.hostname or ""
    if parts.port is not None:
        netloc = f"{netloc}:{parts.port}"
    if parts.username:
        netloc = f"{parts.username}:***@{netloc}" if parts.password else f"***@{netloc}"
    query = "&".join(f"{name}=***" for name, _ in parse_qsl(parts.query, keep_blank_values=True))
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


def standard_signature(webhook_id: str, timestamp: int, body: bytes, secret: str) -> str:
    """The `webhook-signature` value (Standard Webhooks `v1`) of one attempt."""
    signed = f"{webhook_id}.{timestamp}.".encode() + body
    mac = hmac.new(secret.encode(), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


async def post_signed(
    url: str,
    payload: dict[str, Any],
    secret: str,
    headers: dict[str, str] | None = None,
    *,
    webhook_id: str,
    timeout_seconds: float = 10.0,
) -> int:
    """POST `payload` as compact JSON with its `X-Orderflow-Signature`, the attempt number and
    the Standard Webhooks id, timestamp and signature (inside an activity); the answer's status.
    Raises httpx.HTTPError when there is none."""
    body = json.dumps(payload, separators=(",", ":")).encode()
    timestamp = int(time.time())
    sent = {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: sign(body, secret),
        "X-Orderflow-Delivery": str(activity.info().attempt),
        ID_HEADER: webhook_id,
        TIMESTAMP_HEADER: str(timestamp),
        STANDARD_SIGNATURE_HEADER: standard_signature(webhook_id, timestamp, body, secret),
        **(headers or {}),
    }
    async with httpx.AsyncClient(timeout=timeout_seconds) as client:
        response = await client.post(url, content=body, headers=sent)
    return response.status_code


def sign(body: bytes, secret: str) -> str:
    """The `X-Orderflow-Signature` value of a webhook body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def retry_delay(settings: Settings, attempt: int) -> timedelta:
    """The wait after failed attempt `attempt`: doubling from the initial backoff, at most the
    maximum."""
    initial = settings.webhook_backoff_initial_seconds
    return timedelta(
        seconds=min(initial * 2.0 ** min(attempt - 1, 60), settings.webhook_backoff_max_seconds)
    )


async def deliver(engine: AsyncEngine, settings: Settings, out: Outgoing) -> int:
    """One attempt of a delivery (inside an activity): record it, POST it, record the answer.

    A 2xx answer returns its status. Any other answer raises so Temporal retries it after the
    configured backoff, until the cap (`webhook_max_attempts`, `webhook_max_age_seconds`): then
    the delivery is marked failed, an `ops` escalation `delivery_failed` is stored (and not
    delivered: a bot that fails must not be sent news of its own failure in a loop), and the
    last status (0: no answer) is returned so the workflow goes on."""
    info = activity.info()
    attempt = info.attempt
    started = datetime.now(UTC)
    async with session_scope(engine) as session:
        await service.attempt_started(
            session,
            delivery_id=out.delivery_id,
            target=redact_url(out.url),
            attempt=attempt,
            at=started,
        )
    status: int | None = None
    error: str | None = None
    clock = time.monotonic()
    try:
        status = await post_signed(
            out.url,
            out.payload,
            settings.webhook_signing_secret(),
            out.headers,
            webhook_id=out.delivery_id,
            timeout_seconds=settings.webhook_timeout_seconds,
        )
    except httpx.HTTPError as exc:
        error = f"{type(exc).__name__}: {exc}"[:2000] or type(exc).__name__
    duration_ms = int((time.monotonic() - clock) * 1000)
    ok = status is not None and 200 <= status < 300
    age = (info.current_attempt_scheduled_time - info.scheduled_time).total_seconds()
    capped = not ok and (
        attempt >= settings.webhook_max_attempts or age >= settings.webhook_max_age_seconds
    )
    state = DELIVERED if ok else FAILED if capped else PENDING
    finished = datetime.now(UTC)
    async with session_scope(engine) as session:
        await service.attempt_finished(
            session,
            delivery_id=out.delivery_id,
            attempt=attempt,
            status=status,
            error=error,
            duration_ms=duration_ms,
            at=finished,
        )
        if out.escalation_id is not None:
            await service.escalation_delivery_state(
                session,
                escalation_id=out.escalation_id,
                url=out.url,
                delivery_id=out.delivery_id,
                status=status,
                error=error,
                state=state,
                at=finished,
            )
        if capped:
            failure = RaiseEscalation(
                key=f"{DELIVERY_FAILED}:{out.delivery_id}"[:200],
                kind=DELIVERY_FAILED,
                level=1,
                order_no=out.order_no,
                department=out.department,
                role="ops",
                breached_at=finished,
                message=(
                    f"{out.what} to {redact_url(out.url)} failed after {attempt} attempt(s): "
                    f"{status or error} (delivery {out.delivery_id})"
                ),
            )
            await _store_escalation(session, failure)
    if ok or capped:
        return status or 0
    raise ApplicationError(
        f"{redact_url(out.url)} answered {status or error}; retrying",
        next_retry_delay=retry_delay(settings, attempt),
    )


def webhook_body(escalation: Escalation) -> dict[str, Any]:
    """The JSON an escalation bot receives (API.md "Escalation bots")."""
    return {
        "id": escalation.id,
        "kind": escalation.kind,
        "level": escalation.level,
        "order_no": escalation.order_no,
        "task_id": escalation.task_id,
        "department": escalation.department,
        "role": escalation.role,
        "due_at": escalation.due_at.isoformat() if escalation.due_at else None,
        "breached_at": escalation.breached_at.isoformat(),
        "message": escalation.message,
    }


async def _store_escalation(session: AsyncSession, esc: RaiseEscalation) -> EscalationRaised:
    """Store an escalation once per key; mark its task and the order's timeline."""
    new_id = (
        await session.execute(
            insert(Escalation)
            .values(
                key=esc.key,
                kind=esc.kind,
                level=esc.level,
                order_no=esc.order_no,
                task_id=esc.task_id,
                department=esc.department,
                role=esc.role,
                due_at=esc.due_at,
                breached_at=esc.breached_at,
                message=esc.message,
                state="open",
                created_at=esc.breached_at,
            )
            .on_conflict_do_nothing(index_elements=["key"])
            .returning(col(Escalation.id))
        )
    ).scalar_one_or_none()
    if new_id is None:
        existing = await session.execute(
            select(col(Escalation.id)).where(col(Escalation.key) == esc.key)
        )
        return EscalationRaised(id=existing.scalar_one(), created=False)
    if esc.task_id:
        table = inbox(esc.department)
        await session.execute(
            update(table)
            .where(table.c.task_id == esc.task_id)
            .values(escalation_level=func.greatest(table.c.escalation_level, esc.level))
        )
    if esc.order_no:
        await add_event(
            session,
            key=f"escalation:{esc.key}",
            order_no=esc.order_no,
            at=esc.breached_at,
            kind="escalation",
            actor="orderflow",
            summary=f"escalated to {esc.role} (level {esc.level}): {esc.message}",
            detail={"escalation_id": new_id, "kind": esc.kind, "level": esc.level},
        )
    return EscalationRaised(id=new_id, created=True)


class EscalationActivities(DbActivities):
    """Stores escalations and delivers them; holds the engine and one HTTP client."""

    @activity.defn
    async def raise_escalation(self, esc: RaiseEscalation) -> EscalationRaised:
        """Store an escalation once per key; mark its task and the order's timeline."""
        async with session_scope(self._engine) as session:
            return await _store_escalation(session, esc)

    @activity.defn
    async def webhook_targets(self) -> list[str]:
        """The escalation bots' URLs, read now so a changed setting applies to new events."""
        return list(self._settings.escalation_webhooks)

    @activity.defn
    async def deliver_webhook(self, target: DeliverWebhook) -> int:
        """POST the escalation, signed; a non-2xx answer raises so Temporal retries it, until
        the cap marks the delivery failed (then its last status, 0 for none, is returned)."""
        async with session_scope(self._engine) as session:
            escalation = await session.get(Escalation, target.escalation_id)
        if escalation is None:
            raise ApplicationError(
                f"escalation {target.escalation_id} does not exist", non_retryable=True
            )
        out = Outgoing(
            delivery_id=delivery_id("esc", str(target.escalation_id), target.url),
            url=target.url,
            payload=webhook_body(escalation),
            what=f"escalation {target.escalation_id} ({escalation.kind})",
            department=escalation.department,
            order_no=escalation.order_no,
            escalation_id=target.escalation_id,
        )
        return await deliver(self._engine, self._settings, out)
