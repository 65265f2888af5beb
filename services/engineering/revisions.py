"""Writing a BOM revision and growing the item master: what a BOM release and a DCN share.

Lines go in bulk: one INSERT ... SELECT FROM unnest(arrays) per `BATCH` lines (not one
statement per line); a draft's lines are copied inside the database (INSERT ... SELECT),
never through Python.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.engineering.models import BomRevision
from shared.payloads import BomLine

# Lines per statement: each batch is one INSERT ... SELECT FROM unnest(one array per column),
# a single round trip and a single prepared statement whatever the batch holds.
BATCH = 10_000
_LINE_COLUMNS = "line_no, item, parent, qty_per, make_or_buy, lead_days, supplier, special"
_LINE_ARRAYS = (
    "unnest(CAST(:line_no AS integer[]), CAST(:item AS text[]), CAST(:parent AS text[]), "
    "CAST(:qty_per AS numeric[]), CAST(:make_or_buy AS text[]), CAST(:lead_days AS integer[]), "
    "CAST(:supplier AS text[]), CAST(:special AS boolean[]))"
)
# The columns every row of one insert shares, by table: which revision or which draft.
_KEYS = {
    "bom_lines": (("order_no", "text"), ("revision", "integer")),
    "bom_draft_lines": (("draft_id", "integer"),),
}


def _arrays(lines: Sequence[BomLine]) -> dict[str, list[Any]]:
    return {
        "item": [line.item for line in lines],
        "parent": [line.parent for line in lines],
        "qty_per": [Decimal(str(line.qty_per)) for line in lines],
        "make_or_buy": [line.make_or_buy for line in lines],
        "lead_days": [line.lead_days for line in lines],
        "supplier": [line.supplier for line in lines],
        "special": [bool(line.special) for line in lines],
    }


async def insert_lines(
    session: AsyncSession, table: str, keys: dict[str, Any], lines: Sequence[BomLine]
) -> None:
    """`lines` into `engineering.<table>` (bom_lines or bom_draft_lines), numbered from 1,
    every row with the `keys` columns (order_no and revision, or draft_id); `BATCH` lines a
    statement."""
    typed = _KEYS[table]
    names = ", ".join(name for name, _ in typed)
    values = ", ".join(f"CAST(:{name} AS {kind})" for name, kind in typed)
    statement = text(
        f"INSERT INTO engineering.{table} ({names}, {_LINE_COLUMNS}) "
        f"SELECT {values}, * FROM {_LINE_ARRAYS}"
    )
    for start in range(0, len(lines), BATCH):
        batch = lines[start : start + BATCH]
        numbers = list(range(start + 1, start + len(batch) + 1))
        await session.execute(statement, {**keys, "line_no": numbers, **_arrays(batch)})


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
    await insert_lines(session, "bom_lines", {"order_no": order_no, "revision": revision}, lines)


_GROW = text(
    """
    INSERT INTO engineering.items
        (item, make_or_buy, supplier, lead_days, special, first_order_no, created_at)
    SELECT *, CAST(:order_no AS text), CAST(:at AS timestamptz)
    FROM unnest(CAST(:item AS text[]), CAST(:make_or_buy AS text[]), CAST(:supplier AS text[]),
                CAST(:lead_days AS integer[]), CAST(:special AS boolean[]))
    ON CONFLICT (item) DO NOTHING
    RETURNING item
    """
)


async def grow_item_master(
    session: AsyncSession, *, order_no: str, at: datetime, lines: list[BomLine]
) -> list[str]:
    """Add the items the item master does not know yet (each described by its first line);
    returns them in BOM order."""
    first: dict[str, BomLine] = {}
    for line in lines:
        first.setdefault(line.item, line)
    described = list(first.values())
    added: set[str] = set()
    for start in range(0, len(described), BATCH):
        arrays = _arrays(described[start : start + BATCH])
        del arrays["parent"], arrays["qty_per"]
        inserted = await session.execute(_GROW, {"order_no": order_no, "at": at, **arrays})
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
# new ones come back sorted by name (joining them back to their lines would cost a nested loop
# over both CTEs, quadratic in the lines).
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
    SELECT item FROM added ORDER BY item
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
    new items (returned sorted), the draft marked released; all in the database."""
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
