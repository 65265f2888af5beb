"""The order timeline: one row per step, who did it and when (责任追究)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel

from shared.models import json_field, ts_field


# One step of an order's history: who did what, and when. The table stays in the planning
# schema, where it was created (no migration for the move).
class TimelineEvent(SQLModel, table=True):
    __tablename__ = "timeline"
    __table_args__ = {"schema": "planning"}

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True, max_length=200)
    order_no: str = Field(index=True, max_length=64)
    at: datetime = ts_field(index=True)
    kind: str = Field(max_length=48)
    actor: str = Field(max_length=128)
    summary: str
    detail: dict[str, Any] = json_field()


# One timeline step as the order view shows it.
class TimelineEntry(BaseModel):
    at: datetime
    kind: str
    actor: str
    summary: str
    detail: dict[str, Any]


async def add_event(
    session: AsyncSession,
    *,
    key: str,
    order_no: str,
    at: datetime,
    kind: str,
    actor: str,
    summary: str,
    detail: dict[str, Any] | None = None,
) -> None:
    """Append an event once: a second call with the same `key` changes nothing."""
    await session.execute(
        insert(TimelineEvent)
        .values(
            key=key,
            order_no=order_no,
            at=at,
            kind=kind,
            actor=actor,
            summary=summary,
            detail=detail or {},
        )
        .on_conflict_do_nothing(index_elements=["key"])
    )
