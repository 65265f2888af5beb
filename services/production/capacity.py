"""The workshop's capacity per product family (§8.8), versioned: a process or labour-time
change adds a version (how many working days production takes, from which day, who set it and
why); the master-plan proposals read the version in effect on their day.

An order's product family is the item of its first line (the product the customer ordered);
a family with no version is planned with the plant's standard `production_days` setting.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.production.models import CapacityVersion
from services.sales.service import order_lines


async def family_of(session: AsyncSession, *, order_no: str) -> str | None:
    """The order's product family: the item of its first line (None for an unknown order)."""
    lines = await order_lines(session, order_no=order_no)
    return min(lines, key=lambda line: line.line_no).item if lines else None


async def production_days_of(session: AsyncSession, *, family: str, on: date) -> int | None:
    """The family's production days in effect on `on`: its newest version effective by then."""
    rows = await session.execute(
        select(col(CapacityVersion.production_days))
        .where(
            col(CapacityVersion.family) == family,
            col(CapacityVersion.effective_from) <= on,
        )
        .order_by(col(CapacityVersion.effective_from).desc(), col(CapacityVersion.version).desc())
        .limit(1)
    )
    return rows.scalar_one_or_none()


async def history(session: AsyncSession, *, family: str) -> list[CapacityVersion]:
    """Every version of the family's capacity, oldest first."""
    rows = await session.execute(
        select(CapacityVersion)
        .where(col(CapacityVersion.family) == family)
        .order_by(col(CapacityVersion.version))
    )
    return list(rows.scalars())


async def add_version(
    session: AsyncSession,
    *,
    family: str,
    production_days: int,
    effective_from: date,
    reason: str,
    by: str,
    at: datetime,
) -> CapacityVersion:
    """The family's next capacity version (numbered from 1), in the caller's transaction; two
    writers at once are serialised by the family's advisory lock."""
    await session.execute(select(func.pg_advisory_xact_lock(func.hashtext(f"capacity:{family}"))))
    latest = await session.execute(
        select(func.max(col(CapacityVersion.version))).where(col(CapacityVersion.family) == family)
    )
    version = CapacityVersion(
        family=family,
        version=(latest.scalar_one_or_none() or 0) + 1,
        production_days=production_days,
        effective_from=effective_from,
        reason=reason,
        set_by=by,
        set_at=at,
    )
    session.add(version)
    await session.flush()
    return version
