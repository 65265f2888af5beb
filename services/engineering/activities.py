"""Engineering activities: release a BOM revision (with the item master) and a drawing set."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import col
from temporalio import activity

from services.engineering.dcn_activities import DesignChangeActivities
from services.engineering.models import BomRevision, DrawingRelease
from services.engineering.revisions import grow_item_master, store_revision
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


class EngineeringActivities(DbActivities):
    """Engineering's automatic work; the worker registers the bound methods."""

    @activity.defn
    async def release_bom(self, release: BomRelease) -> BomReleased:
        """Store the next BOM revision of the order once per task; add unknown items."""
        lines = ReleaseBom.parse({"lines": release.lines}).lines
        async with session_scope(self._engine) as session:
            existing = await session.execute(
                select(col(BomRevision.revision)).where(col(BomRevision.task_id) == release.task_id)
            )
            if (revision := existing.scalar_one_or_none()) is not None:  # a retry
                return BomReleased(revision=revision, new_items=[], line_count=len(lines))
            last = await session.execute(
                select(func.max(col(BomRevision.revision))).where(
                    col(BomRevision.order_no) == release.order_no
                )
            )
            revision = (last.scalar_one_or_none() or 0) + 1
            await store_revision(
                session,
                order_no=release.order_no,
                revision=revision,
                task_id=release.task_id,
                by=release.by,
                at=release.at,
                lines=lines,
            )
            new_items = await grow_item_master(
                session, order_no=release.order_no, at=release.at, lines=lines
            )
            await add_event(
                session,
                key=f"{release.order_no}:bom:{revision}",
                order_no=release.order_no,
                at=release.at,
                kind="bom_released",
                actor=release.by,
                summary=f"BOM revision {revision} released ({len(lines)} lines, "
                f"{len(new_items)} new items) to {', '.join(BOM_RECIPIENTS)}",
                detail={"revision": revision, "new_items": new_items},
            )
        return BomReleased(revision=revision, new_items=new_items, line_count=len(lines))

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
