"""BOM drafts (issue 17): an uploaded BOM validated line by line, stored in bulk, shown in
pages, and checked before `engineering.release_bom` names it by `draft_id`.

A draft is made for an order whose BOM is still to be released (the order active, in review,
planning or engineering, no revision released yet) and is released once: the release copies
its lines into the order's first BOM revision inside the database.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.engineering.bom import validate_bom
from services.engineering.bom_upload import Row, UnreadableUpload, read_upload
from services.engineering.models import BomDraft, BomDraftLine, BomRevision
from services.engineering.revisions import insert_lines
from services.engineering.schemas import BomDraftPublic, BomDraftSummary, BomLinePublic
from services.sales.service import get_order
from shared.errors import APIError, conflict, invalid, not_found
from shared.payloads import BomLine

# The most lines one draft takes (ten times the inline payload's `BOM_LINES_MAX`).
DRAFT_LINES_MAX = 100_000
# The most problems one refusal lists (all are counted); the first ones are the first rows.
PROBLEMS_LISTED = 1000
# Stages where the order's BOM is still to be released.
DRAFT_STAGES = ("review", "planning", "engineering")
# The field a whole-BOM problem (services/engineering/bom.py) points the engineer to.
_PROBLEM_FIELDS = {
    "qty_not_positive": "qty_per",
    "buy_without_supplier": "supplier",
    "duplicate_item": "item",
    "conflicting_item": "item",
    "unknown_parent": "parent",
    "cycle": "parent",
}
_LINES = TypeAdapter(list[BomLine])


async def check_lines_off_loop(body: bytes, fmt: str) -> list[BomLine]:
    """`checked_lines` in a worker thread: a 100,000-line sheet takes seconds to read."""
    return await asyncio.to_thread(checked_lines, body, fmt)


def checked_lines(body: bytes, fmt: str) -> list[BomLine]:
    """The BOM lines of an upload, or `invalid_bom` (422) with every problem: first each
    line's fields (line, file row, field, sentence), then, once every line reads, the BOM's
    structure (duplicates, conflicting items, unknown parents, cycles, quantities)."""
    try:
        rows = list(read_upload(body, fmt, DRAFT_LINES_MAX))
    except UnreadableUpload as exc:
        raise invalid("invalid_bom", str(exc), problems=[], problem_count=0) from exc
    if not rows:
        raise invalid("invalid_bom", "the upload has no BOM lines", problems=[], problem_count=0)
    try:
        lines = _LINES.validate_python([row.fields for row in rows])
    except ValidationError as exc:
        raise _refusal(_field_problems(rows, exc)) from exc
    structure = validate_bom(lines)
    if structure:
        raise _refusal(
            [
                {
                    "line": problem.lines[0],
                    "row": rows[problem.lines[0] - 1].row,
                    "lines": list(problem.lines),
                    "rows": [rows[n - 1].row for n in problem.lines],
                    "field": _PROBLEM_FIELDS.get(problem.code, "item"),
                    "code": problem.code,
                    "problem": problem.message,
                }
                for problem in structure
            ]
        )
    return lines


def _field_problems(rows: list[Row], exc: ValidationError) -> list[dict[str, Any]]:
    problems = []
    for error in exc.errors():
        index, *where = error["loc"]
        assert isinstance(index, int)
        field = ".".join(map(str, where)) or "line"
        problems.append(
            {
                "line": index + 1,
                "row": rows[index].row,
                "field": field,
                "code": "invalid_value",
                "problem": f"line {index + 1} (row {rows[index].row}), {field}: "
                + str(error["msg"]).removeprefix("Value error, "),
            }
        )
    return problems


def _refusal(problems: list[dict[str, Any]]) -> APIError:
    first = problems[0]["problem"]
    lines = len({p["line"] for p in problems})
    return invalid(
        "invalid_bom",
        f"the BOM has {len(problems)} problem(s) on {lines} line(s); the first: {first}",
        problems=problems[:PROBLEMS_LISTED],
        problem_count=len(problems),
    )


async def draft_refusal(session: AsyncSession, order_no: str) -> None:
    """404 for an unknown order, 409 `bom_not_open` when its BOM is no longer to be released."""
    order = await get_order(session, order_no=order_no)
    if order is None:
        raise not_found(f"order {order_no}")
    stage, status = order.stage, order.status
    if status == "active":
        released = await session.scalar(
            select(func.max(col(BomRevision.revision))).where(col(BomRevision.order_no) == order_no)
        )
        if released:
            raise conflict(
                "bom_not_open",
                f"order {order_no} has BOM revision {released} released; a change to it is a "
                "design change (engineering.design_change), not a new draft",
            )
    if status != "active" or stage not in DRAFT_STAGES:
        raise conflict(
            "bom_not_open",
            f"order {order_no} is {status} at stage {stage}; a BOM draft is uploaded while "
            f"the order is active in {', '.join(DRAFT_STAGES)}",
        )


async def store_draft(
    session: AsyncSession,
    *,
    order_no: str,
    by: str,
    at: datetime,
    fmt: str,
    filename: str | None,
    lines: Sequence[BomLine],
) -> int:
    """Store a checked BOM as a draft of the order, its lines in bulk; its id."""
    draft = BomDraft(
        order_no=order_no,
        uploaded_by=by,
        uploaded_at=at,
        line_count=len(lines),
        format=fmt,
        filename=filename,
    )
    session.add(draft)
    await session.flush()
    assert draft.id is not None
    await insert_lines(session, "bom_draft_lines", {"draft_id": draft.id}, lines)
    return draft.id


async def draft_summary(session: AsyncSession, order_no: str, draft_id: int) -> BomDraftSummary:
    """The order's draft `draft_id` with its counts; 404 when the order has no such draft."""
    draft = await session.get(BomDraft, draft_id)
    if draft is None or draft.order_no != order_no:
        raise not_found(f"BOM draft {draft_id} of order {order_no}")
    lines = col(BomDraftLine.draft_id) == draft_id
    buy = func.count(case((col(BomDraftLine.make_or_buy) == "buy", 1)))
    items, buys = (
        await session.execute(
            select(func.count(func.distinct(col(BomDraftLine.item))), buy).where(lines)
        )
    ).one()
    return BomDraftSummary(
        draft_id=draft_id,
        order_no=order_no,
        uploaded_by=draft.uploaded_by,
        uploaded_at=draft.uploaded_at,
        format=draft.format,
        filename=draft.filename,
        line_count=draft.line_count,
        item_count=items,
        make_count=draft.line_count - buys,
        buy_count=buys,
        released_revision=draft.released_revision,
    )


async def draft_page(
    session: AsyncSession, order_no: str, draft_id: int, offset: int, limit: int
) -> BomDraftPublic:
    """The draft's counts and its lines `offset + 1` to `offset + limit`, in line order."""
    summary = await draft_summary(session, order_no, draft_id)
    rows = await session.execute(
        select(BomDraftLine)
        .where(col(BomDraftLine.draft_id) == draft_id, col(BomDraftLine.line_no) > offset)
        .order_by(col(BomDraftLine.line_no))
        .limit(limit)
    )
    lines = [
        BomLinePublic.model_validate(row, from_attributes=True) for row in rows.scalars().all()
    ]
    return BomDraftPublic(**summary.model_dump(), offset=offset, lines=lines)


async def release_refusal(session: AsyncSession, order_no: str | None, draft_id: int) -> None:
    """Before `engineering.release_bom` names draft `draft_id`: 422 `unknown_draft` when the
    order has no such draft, 409 `draft_released` when it was released already."""
    draft = await session.get(BomDraft, draft_id)
    if draft is None or draft.order_no != order_no:
        raise invalid(
            "unknown_draft",
            f"order {order_no} has no BOM draft {draft_id}; upload the BOM to "
            f"POST /engineering/orders/{order_no}/bom-drafts and name the id it answers",
        )
    if draft.released_revision is not None:
        raise conflict(
            "draft_released",
            f"BOM draft {draft_id} was released already as revision "
            f"{draft.released_revision} of {order_no}",
        )
