"""Engineering activities: release a BOM revision (with the item master) and a drawing set."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col
from temporalio import activity
from temporalio.exceptions import ApplicationError

from services.engineering.dcn_activities import DesignChangeActivities
from services.engineering.models import BomDraft, BomRevision, DrawingRelease
from services.engineering.revisions import (
    grow_item_master,
    store_revision,
    store_revision_from_draft,
)
from shared.activities import DbActivities
from shared.db import session_scope
from shared.escalations.activities import EscalationActivities
from shared.payloads import ReleaseBom, ReleaseDrawings
from shared.tasks.activities import TaskActivities
from shared.timeline import add_event
from shared.types import BomRelease, BomReleased, DrawingsRelease

# Who receives a released BOM and drawing set (§3.1, §3.2).
BOM_RECIPIENTS = ("procurement", "warehouse", "production", "quality")
DRAWING_RECIPIENTS = ("production", "warehouse", "quality", "aftersales")
# New items a release from a draft lists in its result and timeline entry (all are counted).
NEW_ITEMS_LISTED = 100


class EngineeringActivities(DbActivities):
    """Engineering's automatic work; the worker registers the bound methods."""

    @activity.defn
    async def release_bom(self, release: BomRelease) -> BomReleased:
        """Store the next BOM revision of the order once per task; add unknown items.

        The lines come inline or from draft `release.draft_id`, copied in the database; a
        draft's new items are listed up to `NEW_ITEMS_LISTED` (with their count), so neither
        the result nor the timeline grows with a 100,000-line BOM."""
        lines = (
            [] if release.draft_id is not None else ReleaseBom.parse({"lines": release.lines}).lines
        )
        async with session_scope(self._engine) as session:
            draft = await self._draft(session, release)
            line_count = draft.line_count if draft is not None else len(lines)
            existing = await session.execute(
                select(col(BomRevision.revision)).where(col(BomRevision.task_id) == release.task_id)
            )
            if (revision := existing.scalar_one_or_none()) is not None:  # a retry
                return BomReleased(revision=revision, new_items=[], line_count=line_count)
            last = await session.execute(
                select(func.max(col(BomRevision.revision))).where(
                    col(BomRevision.order_no) == release.order_no
                )
            )
            revision = (last.scalar_one_or_none() or 0) + 1
            order_no, task_id, by, at = release.order_no, release.task_id, release.by, release.at
            if draft is not None:
                new_items = await store_revision_from_draft(
                    session, order_no=order_no, revision=revision, task_id=task_id, by=by, at=at,
                    draft_id=draft.id or 0,
                )  # fmt: skip
            else:
                await store_revision(
                    session, order_no=order_no, revision=revision, task_id=task_id, by=by, at=at,
                    lines=lines,
                )  # fmt: skip
                new_items = await grow_item_master(session, order_no=order_no, at=at, lines=lines)
            listed = new_items[:NEW_ITEMS_LISTED] if draft is not None else new_items
            detail: dict[str, object] = {"revision": revision, "new_items": listed}
            if draft is not None:
                detail |= {"draft_id": draft.id, "new_item_count": len(new_items)}
            await add_event(
                session,
                key=f"{release.order_no}:bom:{revision}",
                order_no=release.order_no,
                at=release.at,
                kind="bom_released",
                actor=release.by,
                summary=f"BOM revision {revision} released ({line_count} lines, "
                f"{len(new_items)} new items) to {', '.join(BOM_RECIPIENTS)}",
                detail=detail,
            )
        return BomReleased(revision=revision, new_items=listed, line_count=line_count)

    @staticmethod
    async def _draft(session: AsyncSession, release: BomRelease) -> BomDraft | None:
        """The draft the release names (None for inline lines); a draft that does not exist
        or belongs to another order fails the step for good (the API refuses both first)."""
        if release.draft_id is None:
            return None
        draft = await session.get(BomDraft, release.draft_id)
        if draft is None or draft.order_no != release.order_no:
            raise ApplicationError(
                f"BOM draft {release.draft_id} of order {release.order_no} does not exist",
                type="BomDraftNotFound",
                non_retryable=True,
            )
        return draft

    @activity.defn
    async def release_drawings(self, release: DrawingsRelease) -> int:
        """Store the released drawing set (once per task); returns how many drawings."""
        drawings = ReleaseDrawings.parse({"drawings": release.drawings}).drawings
        async with session_scope(self._engine) as session:
            for drawing in drawings:
                await session.execute(
                    insert(DrawingRelease)
                    .values(
                        order_no=release.order_no,
                        number=drawing.number,
                        rev=drawing.rev,
                        title=drawing.title,
                        task_id=release.task_id,
                        released_by=release.by,
                        released_at=release.at,
                    )
                    .on_conflict_do_nothing()
                )
            await add_event(
                session,
                key=f"{release.task_id}:drawings",
                order_no=release.order_no,
                at=release.at,
                kind="drawings_released",
                actor=release.by,
                summary=f"{len(drawings)} drawing(s) released to {', '.join(DRAWING_RECIPIENTS)}",
                detail={"drawings": [d.model_dump() for d in drawings]},
            )
        return len(drawings)


ACTIVITIES: list[type] = [
    TaskActivities,
    EscalationActivities,
    EngineeringActivities,
    DesignChangeActivities,
]
