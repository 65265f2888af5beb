"""Certificates and manuals production hands to quality per order (§8.4): kept one row per
document (kind and item), the order's timeline told; final inspection waits for them."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col
from temporalio import activity

from services.quality.models import HandedDocument
from shared.activities import DbActivities
from shared.db import session_scope
from shared.production_types import DocumentsHandedOver
from shared.timeline import add_event


class DocumentActivities(DbActivities):
    """Quality's record of what production handed over; the worker registers its methods."""

    @activity.defn
    async def record_documents(self, handed: DocumentsHandedOver) -> int:
        """Keep each document handed over (a second hand-over of the same kind and item
        replaces its reference); returns how many the order has now."""
        async with session_scope(self._engine) as session:
            for doc in handed.documents:
                values = {"ref": doc.ref, "task_id": handed.task_id, "handed_by": handed.by}
                await session.execute(
                    insert(HandedDocument)
                    .values(
                        order_no=handed.order_no,
                        kind=doc.kind,
                        item=doc.item,
                        handed_at=handed.at,
                        **values,
                    )
                    .on_conflict_do_update(
                        index_elements=["order_no", "kind", "item"],
                        set_={**values, "handed_at": handed.at},
                    )
                )
            kinds = sorted({doc.kind for doc in handed.documents})
            await add_event(
                session,
                key=f"{handed.task_id}:documents",
                order_no=handed.order_no,
                at=handed.at,
                kind="documents_handed_over",
                actor=handed.by,
                summary=f"{len(handed.documents)} {' and '.join(kinds)} document(s) handed to "
                "quality: " + ", ".join(f"{d.item} ({d.ref})" for d in handed.documents)[:300],
                detail={"task_id": handed.task_id, "count": len(handed.documents)},
            )
            return len(await documents_of(session, order_no=handed.order_no))


async def documents_of(session: AsyncSession, *, order_no: str) -> list[HandedDocument]:
    """The certificates and manuals handed over for the order, by kind and item."""
    rows = await session.execute(
        select(HandedDocument)
        .where(col(HandedDocument.order_no) == order_no)
        .order_by(col(HandedDocument.kind), col(HandedDocument.item))
    )
    return list(rows.scalars())
