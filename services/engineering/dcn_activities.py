"""Engineering's activities for a design change notice (DCN): read the order's newest BOM,
and issue the DCN as revision N+1 (`dcn.py` holds the rules that apply its changes)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col
from temporalio import activity
from temporalio.exceptions import ApplicationError

from services.engineering.dcn import (
    NO_BOM,
    AppliedChanges,
    BomSnapshot,
    DcnIssue,
    DcnIssued,
    ItemFacts,
    describe,
)
from services.engineering.models import BomLineRow, BomRevision, DesignChangeNotice, Item
from services.engineering.revisions import grow_item_master, store_revision
from shared.activities import DbActivities
from shared.db import session_scope
from shared.payloads import BomLine
from shared.timeline import add_event


class DesignChangeActivities(DbActivities):
    """Engineering's side of a DCN; the worker registers the bound methods."""

    @activity.defn
    async def bom_snapshot(self, order_no: str) -> BomSnapshot:
        """The order's newest BOM revision and its DCN numbers."""
        async with session_scope(self._engine) as session:
            return await read_bom_snapshot(session, order_no)

    @activity.defn
    async def issue_dcn(self, issue: DcnIssue) -> DcnIssued:
        """Apply the DCN to the newest revision as revision N+1 (none when it changes no BOM
        line), add unknown items to the item master, keep the DCN; once per design problem."""
        async with session_scope(self._engine) as session:
            # One DCN of an order at a time: each builds on the revision the last one made.
            await session.execute(
                select(func.pg_advisory_xact_lock(func.hashtext(f"bom:{issue.order_no}")))
            )
            kept = (
                await session.execute(
                    select(DesignChangeNotice).where(
                        col(DesignChangeNotice.issue_no) == issue.issue_no
                    )
                )
            ).scalar_one_or_none()
            if kept is not None:  # a retry after the first attempt committed
                return DcnIssued(
                    dcn_no=kept.dcn_no,
                    from_revision=kept.from_revision,
                    to_revision=kept.to_revision,
                    changes=kept.changes,
                    within_sla=kept.within_sla,
                )
            snapshot = await read_bom_snapshot(session, issue.order_no)
            master = await read_item_master(session, {change.item for change in issue.changes})
            applied = snapshot.check(issue.dcn_no, issue.changes, master)
            if applied.problems:
                return DcnIssued(
                    dcn_no=issue.dcn_no,
                    from_revision=snapshot.revision,
                    to_revision=snapshot.revision,
                    refused="; ".join(applied.problems),
                    snapshot=snapshot,
                )
            return await self._issue(session, issue, snapshot.revision, applied)

    async def _issue(
        self, session: AsyncSession, issue: DcnIssue, revision: int, applied: AppliedChanges
    ) -> DcnIssued:
        to_revision = revision + 1 if applied.changes else revision
        new_items: list[str] = []
        if applied.changes:
            await store_revision(
                session,
                order_no=issue.order_no,
                revision=to_revision,
                task_id=issue.task_id,
                by=issue.by,
                at=issue.at,
                lines=applied.lines,
            )
            added = [line for line in applied.lines if line.item in applied.added_items]
            new_items = await grow_item_master(
                session, order_no=issue.order_no, at=issue.at, lines=added
            )
        within_sla = issue.at <= issue.due_at
        session.add(
            DesignChangeNotice(
                order_no=issue.order_no,
                dcn_no=issue.dcn_no,
                issue_no=issue.issue_no,
                summary=issue.summary,
                changes=applied.changes,
                from_revision=revision,
                to_revision=to_revision,
                requested_at=issue.requested_at,
                issued_by=issue.by,
                issued_at=issue.at,
                within_sla=within_sla,
            )
        )
        late = "" if within_sla else f", {_hours(issue.at - issue.due_at)} after it was due"
        await add_event(
            session,
            key=f"{issue.order_no}:dcn:{issue.dcn_no}",
            order_no=issue.order_no,
            at=issue.at,
            kind="design_change",
            actor=issue.by,
            summary=f"{issue.dcn_no} issued for {issue.issue_no}: {issue.summary} (BOM revision "
            f"{revision} → {to_revision}: {describe(applied.changes)}{late})",
            detail={
                "dcn_no": issue.dcn_no,
                "issue_no": issue.issue_no,
                "from_revision": revision,
                "to_revision": to_revision,
                "changes": applied.changes,
                "new_items": new_items,
                "within_sla": within_sla,
            },
        )
        return DcnIssued(
            dcn_no=issue.dcn_no,
            from_revision=revision,
            to_revision=to_revision,
            changes=applied.changes,
            new_items=new_items,
            within_sla=within_sla,
        )


async def read_bom_snapshot(session: AsyncSession, order_no: str) -> BomSnapshot:
    revision = (
        await session.execute(
            select(func.max(col(BomRevision.revision))).where(col(BomRevision.order_no) == order_no)
        )
    ).scalar_one_or_none()
    if revision is None:
        raise ApplicationError(
            f"order {order_no} has no released BOM to change", type=NO_BOM, non_retryable=True
        )
    rows = (
        await session.execute(
            select(BomLineRow)
            .where(col(BomLineRow.order_no) == order_no, col(BomLineRow.revision) == revision)
            .order_by(col(BomLineRow.line_no))
        )
    ).scalars()
    dcn_nos = (
        await session.execute(
            select(col(DesignChangeNotice.dcn_no)).where(
                col(DesignChangeNotice.order_no) == order_no
            )
        )
    ).scalars()
    return BomSnapshot(
        order_no=order_no,
        revision=revision,
        lines=[
            BomLine(
                item=row.item,
                parent=row.parent,
                qty_per=float(row.qty_per),
                make_or_buy="make" if row.make_or_buy == "make" else "buy",
                lead_days=row.lead_days,
                supplier=row.supplier,
                special=row.special,
            )
            for row in rows
        ],
        dcn_nos=sorted(dcn_nos),
    )


async def read_item_master(session: AsyncSession, items: set[str]) -> dict[str, ItemFacts]:
    rows = (await session.execute(select(Item).where(col(Item.item).in_(items)))).scalars()
    return {
        row.item: ItemFacts(row.make_or_buy, row.supplier, row.lead_days, row.special)
        for row in rows
    }


def _hours(delta: timedelta) -> str:
    return f"{delta.total_seconds() / 3600:.1f} h"
