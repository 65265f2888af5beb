"""KPIs that are one row each, run one by one or side by side in a single statement."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, select, true
from sqlalchemy.ext.asyncio import AsyncSession

K = TypeVar("K")


# A single-row KPI: its statement and how its row becomes the answer. `together` runs them as one
# statement (each a one-row subquery, side by side): one round trip instead of six.
@dataclass(frozen=True)
class Single(Generic[K]):
    query: Select[Any]
    build: Callable[[Sequence[Any]], K]

    async def run(self, session: AsyncSession) -> K:
        return self.build((await session.execute(self.query)).one())


async def together(session: AsyncSession, singles: Sequence[Single[Any]]) -> list[Any]:
    """The answers of `singles`, from one statement: their one-row subqueries side by side."""
    subqueries = [single.query.subquery(f"kpi_{k}") for k, single in enumerate(singles)]
    joined: Any = subqueries[0]
    for sub in subqueries[1:]:
        joined = joined.join(sub, true())
    columns = [column for sub in subqueries for column in sub.c]
    row = (await session.execute(select(*columns).select_from(joined))).one()
    answers, at = [], 0
    for single, sub in zip(singles, subqueries, strict=True):
        width = len(sub.c)
        answers.append(single.build(row[at : at + width]))
        at += width
    return answers
