"""Planning's queries: the master-plan revisions of an order."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.planning.models import Milestone, PlanRevision
from services.planning.schemas import PlanHistory, PlanRevisionPublic


async def plan_history(session: AsyncSession, order_no: str) -> PlanHistory:
    """Every published revision of an order's master plan, with planned/forecast/actual dates."""
    revisions = (
        await session.execute(
            select(PlanRevision)
            .where(col(PlanRevision.order_no) == order_no)
            .order_by(col(PlanRevision.revision))
        )
    ).scalars()
    current = {
        row.name: row
        for row in (
            await session.execute(select(Milestone).where(col(Milestone.order_no) == order_no))
        ).scalars()
    }
    public = []
    for rev in revisions:
        milestones = {
            name: {
                "planned": planned,
                "forecast": current[name].forecast.isoformat() if name in current else planned,
                "actual": _iso(current[name].actual) if name in current else None,
            }
            for name, planned in rev.milestones.items()
        }
        public.append(
            PlanRevisionPublic(
                revision=rev.revision,
                milestones=milestones,
                due_date=rev.due_date,
                reason=rev.reason,
                added_manpower=rev.added_manpower,
                created_by=rev.created_by,
                created_at=rev.created_at,
            )
        )
    return PlanHistory(
        order_no=order_no,
        current_revision=public[-1].revision if public else None,
        revisions=public,
    )


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None
