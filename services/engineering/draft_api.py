"""`/engineering/orders/{order_no}/bom-drafts`: upload a BOM as a draft, read it back; and the
check `engineering.release_bom` makes before it names a draft.

The BOM is the request body itself, its format told by `Content-Type`: `application/json`
(`{"lines": [...]}`, the release payload's line shape), `text/csv` (a header row naming the
line fields, UTF-8 with or without Excel's byte order mark, or GB18030) or
`application/vnd.openxmlformats-officedocument.spreadsheetml.sheet` (an XLSX workbook, first
sheet, header in row 1). A raw body rather than a multipart form: one file, no form fields,
and the upload streams into memory once; the optional `filename` query names the file for the
record. Bodies up to `ORDERFLOW_MAX_UPLOAD_BYTES` are read on this route (413 above), up to
100,000 lines (422 above).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, status
from sqlalchemy.ext.asyncio import AsyncSession

from services.engineering.bom_upload import CSV, FORMATS, JSON, XLSX
from services.engineering.drafts import (
    check_lines_off_loop,
    draft_page,
    draft_refusal,
    draft_summary,
    release_refusal,
    store_draft,
)
from services.engineering.schemas import BomDraftPublic, BomDraftSummary
from services.tasks.api import inbox_readers
from shared.deps import CurrentUser, SessionDep
from shared.errors import APIError
from shared.params import MAX_INT4, OffsetQuery
from shared.payload_base import Payload
from shared.payloads import ReleaseBom
from shared.tasks.kinds import TASK_KINDS
from shared.tasks.schemas import TaskPublic

draft_router = APIRouter(tags=["engineering BOM drafts"])
# Who uploads a draft: whoever may release the BOM it becomes.
UPLOADERS = TASK_KINDS["engineering.release_bom"].completer_roles
READERS = inbox_readers("engineering")


# The body as OpenAPI describes it (the route reads it raw, by its Content-Type).
_UPLOAD_BODY = {
    "required": True,
    "description": 'The BOM: `{"lines": [...]}` (the release_bom line shape), a CSV with a '
    "header row naming the line fields, or an XLSX workbook (first sheet, header in row 1).",
    "content": {
        JSON: {
            "schema": {
                "type": "object",
                "required": ["lines"],
                "properties": {"lines": {"type": "array", "items": {"type": "object"}}},
            }
        },
        CSV: {"schema": {"type": "string"}},
        XLSX: {"schema": {"type": "string", "format": "binary"}},
    },
}
_UNSUPPORTED = {
    "description": "`unsupported_media_type`: the Content-Type is none of the BOM formats.",
    "content": {JSON: {"schema": {"$ref": "#/components/schemas/Error"}}},
}


@draft_router.post(
    "/orders/{order_no}/bom-drafts",
    status_code=status.HTTP_201_CREATED,
    response_model=BomDraftSummary,
    openapi_extra={"requestBody": _UPLOAD_BODY},
    responses={415: _UNSUPPORTED},
)
async def upload_bom_draft(
    order_no: str,
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    filename: Annotated[str | None, Query(min_length=1, max_length=255)] = None,
) -> BomDraftSummary:
    """Upload the order's BOM (JSON, CSV or XLSX body, by `Content-Type`): 201 with the draft's
    id and counts; 422 `invalid_bom` lists every bad line (line, file row, field, sentence)."""
    user.require(UPLOADERS, "uploading a BOM draft")
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    fmt = FORMATS.get(media)
    if fmt is None:
        raise APIError(
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            f"Content-Type {media or '(none)'} is not a BOM format; send " + ", ".join(FORMATS),
        )
    await draft_refusal(session, order_no)
    lines = await check_lines_off_loop(await request.body(), fmt)
    draft_id = await store_draft(
        session,
        order_no=order_no,
        by=user.sub,
        at=datetime.now(UTC),
        fmt=fmt,
        filename=filename,
        lines=lines,
    )
    summary = await draft_summary(session, order_no, draft_id)
    await session.commit()
    return summary


@draft_router.get("/orders/{order_no}/bom-drafts/{draft_id}", response_model=BomDraftPublic)
async def get_bom_draft(
    order_no: str,
    draft_id: Annotated[int, Path(ge=1, le=MAX_INT4)],
    session: SessionDep,
    user: CurrentUser,
    offset: OffsetQuery = 0,
    limit: Annotated[int, Query(ge=0, le=1000)] = 100,
) -> BomDraftPublic:
    """The draft's counts, whether it was released, and `limit` of its lines from `offset`."""
    user.require(READERS, "reading a BOM draft")
    return await draft_page(session, order_no, draft_id, offset, limit)


async def check_release(session: AsyncSession, task: TaskPublic, payload: Payload) -> None:
    """`engineering.release_bom` naming a draft: the order's own, not released yet."""
    if isinstance(payload, ReleaseBom) and payload.draft_id is not None:
        await release_refusal(session, task.order_no, payload.draft_id)
