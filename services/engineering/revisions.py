"""Writing a BOM revision and growing the item master: what a BOM release and a DCN share.

Lines go in batches of multi-row INSERTs (one round trip per `BATCH` lines, not per line);
a draft's lines are copied inside the database (INSERT ... SELECT), never through Python.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.engineering.models import BomLineRow, BomRevision, Item
from shared.payloads import BomLine

# Rows per multi-row INSERT: well under PostgreSQL's 32,767 bind parameters (10 a row).
BATCH = 2000


def batches(
    rows: Sequence[dict[str, Any]], size: int = BATCH
) -> Iterator[Sequence[dict[str, Any]]]:
    """`rows` in slices of at most `size`."""
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def line_values(line: BomLine) -> dict[str, Any]:
    """The columns a BOM line (released or drafted) stores."""
    return {
        "item": line.item,
        "parent": line.parent,
        "qty_per": Decimal(str(line.qty_per)),
        "make_or_buy": line.make_or_buy,
        "lead_days": line.lead_days,
        "supplier": line.supplier,
        "special": bool(line.special),
    }


async def store_revision(
    session: AsyncSession,
    *,
    order_no: str,
    revision: int,
    task_id: str,
    by: str,
    at: datetime,
    lines: list[BomLine],
) -> None:
    """Revision `revision` of the order's BOM, released through task `task_id`."""
    session.add(
        BomRevision(
            order_no=order_no, revision=revision, task_id=task_id, released_by=by, released_at=at
        )
    )
    rows = [
        {"order_no": order_no, "revision": revision, "line_no": number, **line_values(line)}
        for number, line in enumerate(lines, start=1)
    ]
    for batch in batches(rows):
        await session.execute(insert(BomLineRow).values(list(batch)))


async def grow_item_master(
    session: AsyncSession, *, order_no: str, at: datetime, lines: list[BomLine]
) -> list[str]:
    """Add the items the item master does not know yet; returns them in BOM order."""
    first: dict[str, BomLine] = {}
    for line in lines:
        first.setdefault(line.item, line)
    rows = [
        {
            "item": item,
            "make_or_buy": line.make_or_buy,
            "supplier": line.supplier,
            "lead_days": line.lead_days,
            "special": bool(line.special),
            "first_order_no": order_no,
            "created_at": at,
        }
        for item, line in first.items()
    ]
    added: set[str] = set()
    for batch in batches(rows):
        inserted = await session.execute(
            insert(Item)
            .values(list(batch))
            .on_conflict_do_nothing(index_elements=["item"])
            .returning(col(Item.item))
        )
        added.update(inserted.scalars())
    return [item for item in first if item in added]


# The draft's lines as revision lines, numbered as drafted.
_COPY_LINES = text(
    """
    INSERT INTO engineering.bom_lines
        (order_no, revision, line_no, item, parent, qty_per, make_or_buy, lead_days,
         supplier, special)
    SELECT :order_no, :revision, line_no, item, parent, qty_per, make_or_buy, lead_days,
           supplier, special
    FROM engineering.bom_draft_lines WHERE draft_id = :draft_id
    """
)

# Items of the draft the item master does not know yet, described by their first line; the
# new ones come back in the draft's line order.
_GROW_FROM_DRAFT = text(
    """
    WITH firsts AS (
        SELECT DISTINCT ON (item) item, line_no, make_or_buy, supplier, lead_days, special
        FROM engineering.bom_draft_lines WHERE draft_id = :draft_id
        ORDER BY item, line_no
    ), added AS (
        INSERT INTO engineering.items
            (item, make_or_buy, supplier, lead_days, special, first_order_no, created_at)
        SELECT item, make_or_buy, supplier, lead_days, special, :order_no, :at FROM firsts
        ON CONFLICT (item) DO NOTHING
        RETURNING item
    )
    SELECT added.item FROM added JOIN firsts USING (item) ORDER BY firsts.line_no
    """
)


async def store_revision_from_draft(
    session: AsyncSession,
    *,
    order_no: str,
    revision: int,
    task_id: str,
    by: str,
    at: datetime,
    draft_id: int,
) -> list[str]:
    """Revision `revision` made of draft `draft_id`'s lines, the item master grown with its
    new items (returned in line order), the draft marked released; all in the database."""
    session.add(
        BomRevision(
            order_no=order_no, revision=revision, task_id=task_id, released_by=by, released_at=at
        )
    )
    await session.flush()
    await session.execute(
        _COPY_LINES, {"order_no": order_no, "revision": revision, "draft_id": draft_id}
    )
    added = await session.execute(
        _GROW_FROM_DRAFT, {"order_no": order_no, "at": at, "draft_id": draft_id}
    )
    await session.execute(
        text(
            "UPDATE engineering.bom_drafts SET released_revision = :revision, "
            "released_task_id = :task_id WHERE id = :draft_id"
        ),
        {"revision": revision, "task_id": task_id, "draft_id": draft_id},
    )
    return list(added.scalars())
