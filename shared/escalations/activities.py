"""Escalation activities: store a breached clock, then push it to every escalation bot."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import Any

import httpx
from pydantic import BaseModel
from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import col
from temporalio import activity
from temporalio.exceptions import ApplicationError

from shared.activities import DbActivities
from shared.db import session_scope
from shared.escalations.models import Delivery, Escalation
from shared.tasks.models import inbox
from shared.timeline import add_event
from shared.types import EscalationRaised, RaiseEscalation

SIGNATURE_HEADER = "X-Orderflow-Signature"


# One escalation to one webhook URL.
class DeliverWebhook(BaseModel):
    escalation_id: int
    url: str


# What EscalationDeliveryWorkflow delivers: an escalation, through a department's queue.
class EscalationDelivery(BaseModel):
    escalation_id: int
    task_queue: str


async def post_signed(
    url: str, payload: dict[str, Any], secret: str, headers: dict[str, str] | None = None
) -> int:
    """POST `payload` as compact JSON with its `X-Orderflow-Signature` and the attempt number
    (inside an activity); the answer's status. Raises httpx.HTTPError when there is none."""
    body = json.dumps(payload, separators=(",", ":")).encode()
    sent = {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: sign(body, secret),
        "X-Orderflow-Delivery": str(activity.info().attempt),
        **(headers or {}),
    }
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.post(url, content=body, headers=sent)
    return response.status_code


def sign(body: bytes, secret: str) -> str:
    """The `X-Orderflow-Signature` value of a webhook body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


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


class EscalationActivities(DbActivities):
    """Stores escalations and delivers them; holds the engine and one HTTP client."""

    @activity.defn
    async def raise_escalation(self, esc: RaiseEscalation) -> EscalationRaised:
        """Store an escalation once per key; mark its task and the order's timeline."""
        async with session_scope(self._engine) as session:
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

    @activity.defn
    async def webhook_targets(self) -> list[str]:
        """The escalation bots' URLs, read now so a changed setting applies to new events."""
        return list(self._settings.escalation_webhooks)

    @activity.defn
    async def deliver_webhook(self, target: DeliverWebhook) -> int:
        """POST the escalation, signed; a non-2xx answer raises so Temporal retries it."""
        async with session_scope(self._engine) as session:
            escalation = await session.get(Escalation, target.escalation_id)
        if escalation is None:
            raise ApplicationError(
                f"escalation {target.escalation_id} does not exist", non_retryable=True
            )
        status: int | None = None
        error: str | None = None
        try:
            status = await post_signed(
                target.url, webhook_body(escalation), self._settings.webhook_signing_secret()
            )
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"
        await self._record_attempt(target, status, error)
        if status is None or not 200 <= status < 300:
            raise ApplicationError(f"{target.url} answered {status or error}; retrying")
        return status

    async def _record_attempt(
        self, target: DeliverWebhook, status: int | None, error: str | None
    ) -> None:
        delivered = datetime.now(UTC) if status is not None and 200 <= status < 300 else None
        async with session_scope(self._engine) as session:
            await session.execute(
                insert(Delivery)
                .values(
                    escalation_id=target.escalation_id,
                    url=target.url,
                    attempts=1,
                    last_status=status,
                    last_error=error,
                    delivered_at=delivered,
                )
                .on_conflict_do_update(
                    index_elements=["escalation_id", "url"],
                    set_={
                        "attempts": Delivery.attempts + 1,
                        "last_status": status,
                        "last_error": error,
                        "delivered_at": delivered,
                    },
                )
            )
