"""Escalation routes: list the events, acknowledge one (API.md `/escalations`), resolve one with
what was done (orderflow's addition)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from sqlalchemy import func, select, update

from shared.deps import CurrentUser, SessionDep, SettingsDep
from shared.errors import conflict, not_found
from shared.escalations import deliveries
from shared.escalations.models import ACKED, OPEN, RESOLVED, Escalation
from shared.escalations.schemas import (
    DeliveryStatePublic,
    EscalationListed,
    EscalationPublic,
    ResolveRequest,
)
from shared.params import IdPath, OffsetQuery
from shared.timeline import add_event

router = APIRouter(prefix="/escalations", tags=["escalations"])


@router.get("", response_model=list[EscalationListed])
async def list_escalations(
    session: SessionDep,
    user: CurrentUser,
    settings: SettingsDep,
    state: Literal["open", "acked", "resolved"] | None = None,
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


@router.post("/{escalation_id}/resolve", response_model=EscalationPublic)
async def resolve_escalation(
    escalation_id: IdPath, body: ResolveRequest, session: SessionDep, user: CurrentUser
) -> EscalationPublic:
    """Close an escalation with what was done: only the role it was raised to (or admin) may.
    An open one is acknowledged by the same person at the same moment; the order's timeline
    records who resolved it and how."""
    escalation = await session.get(Escalation, escalation_id)
    if escalation is None:
        raise not_found(f"escalation {escalation_id}")
    user.require((escalation.role,), f"resolving an escalation raised to {escalation.role}")
    now = datetime.now(UTC)
    result = await session.execute(
        update(Escalation)
        .where(
            Escalation.id == escalation_id,  # type: ignore[arg-type]
            Escalation.state.in_((OPEN, ACKED)),  # type: ignore[attr-defined]
        )
        .values(
            state=RESOLVED,
            resolution=body.resolution,
            resolved_by=user.sub,
            resolved_at=now,
            acked_by=func.coalesce(Escalation.acked_by, user.sub),
            acked_at=func.coalesce(Escalation.acked_at, now),
        )
        .returning(Escalation)
    )
    resolved = result.scalars().first()
    if resolved is None:
        await session.rollback()
        await session.refresh(escalation)  # who resolved it, even if that was just now
        raise conflict(
            "already_resolved",
            f"escalation {escalation_id} was resolved by {escalation.resolved_by} "
            f"at {escalation.resolved_at:%Y-%m-%d %H:%M}Z: {escalation.resolution}",
        )
    if resolved.order_no:
        await add_event(
            session,
            key=f"escalation_resolved:{escalation_id}",
            order_no=resolved.order_no,
            at=now,
            kind="escalation_resolved",
            actor=user.sub,
            summary=f"resolved the escalation to {resolved.role} (level {resolved.level}, "
            f"{resolved.kind}): {body.resolution}",
            detail={
                "escalation_id": escalation_id,
                "kind": resolved.kind,
                "level": resolved.level,
                "resolution": body.resolution,
            },
        )
    await session.commit()
    return EscalationPublic.model_validate(resolved, from_attributes=True)
