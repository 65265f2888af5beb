"""Production's capacity routes (§8.8): a process or labour-time change sets a product
family's production days as a new version; planning, production and ops read the history."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict, Field

from services.production.capacity import add_version, history, production_days_of
from shared.bounds import FREE_TEXT_LEN, ITEM_LEN, BoundedDate, Text
from shared.deps import CalendarDep, CurrentUser, SessionDep, SettingsDep
from shared.errors import invalid

router = APIRouter(prefix="/capacity", tags=["production"])

# Who may read the capacity history: the workshop, the planners who plan by it, read-only ops.
READERS = ("production", "head:production", "planning", "head:planning", "division", "ops")

# A product family: the item of an order's first line (no control characters).
Family = Annotated[Text, Path(min_length=1, max_length=ITEM_LEN, description="the ordered item")]


class CapacityChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    production_days: int = Field(ge=1, le=365)
    reason: Text = Field(min_length=1, max_length=FREE_TEXT_LEN)
    # The first day the new figure plans by (default: the plant's today).
    effective_from: BoundedDate | None = None


class CapacityVersionPublic(BaseModel):
    family: str
    version: int
    production_days: int
    effective_from: date
    reason: str
    set_by: str
    set_at: datetime


class CapacityHistory(BaseModel):
    family: str
    # In effect today (the plant's standard when the family has no version yet).
    production_days: int
    standard_production_days: int
    versions: list[CapacityVersionPublic]


@router.put("/{family}", response_model=CapacityVersionPublic)
async def set_capacity(
    family: Family,
    body: CapacityChange,
    session: SessionDep,
    calendar: CalendarDep,
    user: CurrentUser,
) -> CapacityVersionPublic:
    """A process or labour-time change (§8.8): the family's production days from
    `effective_from` on, as its next version; the next master-plan proposals plan by it."""
    user.require(("head:production",), "changing the workshop's capacity")
    now = datetime.now(UTC)
    today = (await calendar.current()).local_date(now)
    effective = body.effective_from or today
    if effective < today:
        raise invalid(
            "invalid_capacity",
            f"effective_from {effective} lies before today ({today}); a capacity change "
            "applies from today or a later day",
        )
    version = await add_version(
        session,
        family=family,
        production_days=body.production_days,
        effective_from=effective,
        reason=body.reason.strip(),
        by=user.sub,
        at=now,
    )
    await session.commit()
    return CapacityVersionPublic.model_validate(version, from_attributes=True)


@router.get("/{family}", response_model=CapacityHistory)
async def get_capacity(
    family: Family,
    session: SessionDep,
    calendar: CalendarDep,
    settings: SettingsDep,
    user: CurrentUser,
) -> CapacityHistory:
    """The family's capacity today and every version of it, oldest first."""
    user.require(READERS, "reading the workshop's capacity")
    today = (await calendar.current()).local_date(datetime.now(UTC))
    current = await production_days_of(session, family=family, on=today)
    return CapacityHistory(
        family=family,
        production_days=current or settings.production_days,
        standard_production_days=settings.production_days,
        versions=[
            CapacityVersionPublic.model_validate(v, from_attributes=True)
            for v in await history(session, family=family)
        ],
    )
