"""Escalation routes: list the events, acknowledge one (API.md `/escalations`)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from sqlalchemy import select, update

from shared.deps import CurrentUser, SessionDep, SettingsDep
from shared.errors import conflict, not_found
from shared.escalations import deliveries
from shared.escalations.models import ACKED, OPEN, Escalation
from shared.escalations.schemas import (
    DeliveryStatePublic,
    EscalationListed,
    EscalationPublic,
)
from shared.params import IdPath, OffsetQuery

router = APIRouter(prefix="/escalations", tags=["escalations"])


@router.get("", response_model=list[EscalationListed])
async def list_escalations(
    session: SessionDep,
    user: CurrentUser,
    settings: SettingsDep,
    state: Literal["open", "acked"] | None = None,
    order_no: str | None = None,
    role: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    offset: OffsetQuery = 0,
) -> list[EscalationListed]:
    """Escalation events, newest first; filter by state, order and escalated role."""
    query = select(Escalation).order_by(Escalation.id.desc()).limit(limit).offset(offset)  # type: ignore[union-attr]
    if state:
        query = query.where(Escalation.state == state)  # type: ignore[arg-type]
    if order_no:
        query = query.where(Escalation.order_no == order_no)  # type: ignore[arg-type]
    if role:
        query = query.where(Escalation.role == role)  # type: ignore[arg-type]
    rows = list((await session.execute(query)).scalars())
    # Each listed escalation's delivery state per channel (state, attempts, last answer).
    book = settings.channel_book()
    found: dict[int, list[DeliveryStatePublic]] = {}
    ids = [row.id for row in rows if row.id is not None]
    for delivery in await deliveries.of_escalations(session, ids):
        channel = book.channels.get(delivery.channel)
        found.setdefault(delivery.escalation_id or 0, []).append(
            DeliveryStatePublic(
                channel=delivery.channel,
                target=channel.target() if channel else "(no longer configured)",
                delivery_id=delivery.delivery_id,
                state=delivery.state,
                attempts=delivery.attempts,
                last_status=delivery.last_status,
                last_error=delivery.last_error,
                delivered_at=delivery.delivered_at,
            )
        )
    return [
        EscalationListed.model_validate(row, from_attributes=True).model_copy(
            update={"deliveries": found.get(row.id or 0, [])}
        )
        for row in rows
    ]


@router.post("/{escalation_id}/ack", response_model=EscalationPublic)
async def ack_escalation(
    escalation_id: IdPath, session: SessionDep, user: CurrentUser
) -> EscalationPublic:
    """Acknowledge an escalation: only the role it was raised to (or admin) may."""
    escalation = await session.get(Escalation, escalation_id)
    if escalation is None:
        raise not_found(f"escalation {escalation_id}")
    user.require((escalation.role,), f"acknowledging an escalation raised to {escalation.role}")
    result = await session.execute(
        update(Escalation)
        .where(Escalation.id == escalation_id, Escalation.state == OPEN)  # type: ignore[arg-type]
        .values(state=ACKED, acked_by=user.sub, acked_at=datetime.now(UTC))
        .returning(Escalation)
    )
    acked = result.scalars().first()
    if acked is None:
        await session.rollback()
        await session.refresh(escalation)  # who acknowledged it, even if that was just now
        raise conflict(
            "already_acked",
            f"escalation {escalation_id} was acknowledged by {escalation.acked_by} "
            f"at {escalation.acked_at:%Y-%m-%d %H:%M}Z",
        )
    await session.commit()
    return EscalationPublic.model_validate(acked, from_attributes=True)
