"""Store an escalation: once per key, marking its task and the order's timeline."""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from shared.escalations.models import Escalation
from shared.tasks.models import inbox
from shared.timeline import add_event
from shared.types import EscalationRaised, RaiseEscalation


async def store_escalation(session: AsyncSession, esc: RaiseEscalation) -> EscalationRaised:
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
