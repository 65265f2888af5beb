"""Quality activities: the incoming inspection's record (P6.2-6.3) and NCR judgements.

Every write is idempotent: a retry after the first attempt committed changes nothing.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col
from temporalio import activity
from temporalio.exceptions import ApplicationError

from services.procurement.service import owe_again
from services.quality.assembly_ncr import cover_scrapped, judge_assembly
from services.quality.documents import DocumentActivities
from services.quality.final_inspection import FinalInspectionActivities
from services.quality.models import Inspection, Ncr, ReleasePass
from services.warehouse.receiving.service import (
    book_inspection,
    lot_receipt,
    mark_inspected,
    receipt_lines,
    receipt_of_lot,
)
from services.warehouse.stock import add_lot, allocate, change_stock, record, reserved_by
from shared.activities import DbActivities
from shared.db import session_scope
from shared.escalations.activities import EscalationActivities
from shared.material_types import (
    Allocation,
    AssemblyNcrClosed,
    AssemblyNcrJudged,
    ConcessionRequest,
    InspectionRecorded,
    InspectionRequested,
    InspectionResult,
    NcrClosed,
    NcrJudged,
    NcrSummary,
)
from shared.tasks.activities import TaskActivities
from shared.tasks.service import detach_tasks
from shared.timeline import add_event
from shared.workflow_ids import inspection_workflow_id

ZERO = Decimal(0)


class QualityActivities(DbActivities):
    """Quality's automatic work; the worker registers the bound methods."""

    @activity.defn
    async def request_inspection(self, request: InspectionRequested) -> None:
        """Record the inspection request and its due time."""
        async with session_scope(self._engine) as session:
            receipt = await receipt_of_lot(session, lot_no=request.lot_no)
            if receipt is None:  # the workflow saw it stored first: a lot no receipt names
                raise ApplicationError(f"no receipt has lot {request.lot_no}", non_retryable=True)
            await session.execute(
                insert(Inspection)
                .values(
                    lot_no=request.lot_no,
                    receipt_no=receipt.receipt_no,
                    po_no=receipt.po_no,
                    supplier=receipt.supplier,
                    order_no=receipt.order_no,
                    workflow_id=request.workflow_id,
                    state="pending",
                    requested_at=request.at,
                    due_at=request.due_at,
                )
                .on_conflict_do_nothing(index_elements=["lot_no"])
            )

    @activity.defn
    async def record_inspection(self, result: InspectionResult) -> InspectionRecorded:
        """Qualified goods into stock (their lot) and reserved for the orders that need them,
        earliest required date first; rejected goods into NCRs."""
        async with session_scope(self._engine) as session:
            inspection = (
                await session.execute(
                    select(Inspection)
                    .where(col(Inspection.lot_no) == result.lot_no)
                    .with_for_update()
                )
            ).scalar_one()
            if inspection.state == "done":  # a retry after the first attempt committed
                stored = (
                    await session.execute(select(Ncr).where(col(Ncr.lot_no) == result.lot_no))
                ).scalars()
                return InspectionRecorded(
                    ncrs=[_summary(n) for n in stored],
                    allocation=Allocation(reserved=await reserved_by(session, result.lot_no)),
                )
            receipt = await lot_receipt(session, lot_no=result.lot_no)
            lines = {
                line.item: line
                for line in await receipt_lines(session, receipt_no=receipt.receipt_no)
            }
            ncrs: list[NcrSummary] = []
            qualified_items = []
            # Stock rows are locked item by item in name order, as every writer does.
            for answer in sorted(result.lines, key=lambda line: str(line["item"])):
                line = lines[answer["item"]]
                qualified = Decimal(str(answer["qualified_qty"]))
                rejected = Decimal(str(answer["rejected_qty"]))
                book_inspection(
                    line, qualified=qualified, rejected=rejected, defect=answer.get("defect")
                )
                await change_stock(
                    session, line.item, at=result.at, pending=-(qualified + rejected)
                )
                common: dict[str, Any] = {
                    "item": line.item,
                    "by": result.by,
                    "at": result.at,
                    "lot_no": result.lot_no,
                    "order_no": receipt.order_no,
                    "receipt_no": receipt.receipt_no,
                }
                if qualified > 0:
                    qualified_items.append(line.item)
                    await add_lot(
                        session,
                        lot_no=result.lot_no,
                        item=line.item,
                        qty=qualified,
                        source="receipt",
                        at=result.at,
                        receipt_no=receipt.receipt_no,
                        po_no=receipt.po_no,
                        supplier=receipt.supplier,
                        supplier_lot=line.supplier_lot,
                    )
                    await record(session, kind="qualified", qty=qualified, **common)
                if rejected > 0:
                    ncr = Ncr(
                        ncr_no=f"NCR-{result.lot_no}-{line.line_no}",
                        lot_no=result.lot_no,
                        receipt_no=receipt.receipt_no,
                        po_no=receipt.po_no,
                        supplier=receipt.supplier,
                        order_no=receipt.order_no,
                        item=line.item,
                        qty=rejected,
                        defect=line.defect or "nonconforming",
                        state="open",
                        created_at=result.at,
                    )
                    session.add(ncr)
                    ncrs.append(_summary(ncr))
                    await record(session, kind="rejected", qty=rejected, ref=ncr.ncr_no, **common)
            inspection.state = "done"
            inspection.inspected_at, inspection.inspected_by = result.at, result.by
            inspection.within_sla = inspection.due_at is None or result.at <= inspection.due_at
            mark_inspected(receipt)
            given = await allocate(
                session, qualified_items, by=result.by, at=result.at, ref=result.lot_no
            )
            await _tell_orders(session, result, receipt.order_no, ncrs, given)
        return InspectionRecorded(ncrs=ncrs, allocation=Allocation(reserved=given))

    @activity.defn
    async def judge_ncr(self, judged: NcrJudged) -> NcrClosed:
        """Carry out quality's judgement: concession into stock, return or repair at the
        supplier on a release pass, or scrap; what leaves is owed again on the PO at once (a
        scrapped quantity of a cancelled PO is requisitioned again for its order)."""
        async with session_scope(self._engine) as session:
            ncr = (
                await session.execute(
                    select(Ncr).where(col(Ncr.ncr_no) == judged.ncr_no).with_for_update()
                )
            ).scalar_one()
            if ncr.state == "closed":  # a retry after the first attempt committed
                issued = await session.get(ReleasePass, f"RP-{ncr.ncr_no.removeprefix('NCR-')}")
                again = []
                if ncr.disposition == "scrap":  # keyed by the NCR: found again, not made
                    again = await cover_scrapped(session, ncr, qty=Decimal(ncr.qty), at=judged.at)
                return NcrClosed(
                    pass_no=issued.pass_no if issued else None,
                    allocation=Allocation(reserved=await reserved_by(session, ncr.ncr_no)),
                    requisitions=again,
                )
            ncr.state, ncr.disposition = "closed", judged.disposition
            ncr.comment, ncr.judged_by, ncr.judged_at = judged.comment, judged.by, judged.at
            qty = Decimal(ncr.qty)
            common: dict[str, Any] = {
                "item": ncr.item,
                "qty": qty,
                "by": judged.by,
                "at": judged.at,
                "lot_no": ncr.lot_no,
                "order_no": ncr.order_no,
                "receipt_no": ncr.receipt_no,
            }
            pass_no = None
            given: dict[str, dict[str, Decimal]] = {}
            requisitions = []
            if judged.disposition == "concession":
                await add_lot(
                    session,
                    lot_no=_incoming_lot(ncr),
                    item=ncr.item,
                    qty=qty,
                    source="concession",
                    at=judged.at,
                    receipt_no=ncr.receipt_no,
                    po_no=ncr.po_no,
                    supplier=ncr.supplier,
                )
                await record(session, kind="concession", ref=ncr.ncr_no, **common)
                given = await allocate(
                    session, [ncr.item], by=judged.by, at=judged.at, ref=ncr.ncr_no
                )
            else:
                if judged.disposition in ("return", "repair"):
                    pass_no = f"RP-{ncr.ncr_no.removeprefix('NCR-')}"
                    session.add(
                        ReleasePass(
                            pass_no=pass_no,
                            ncr_no=ncr.ncr_no,
                            supplier=ncr.supplier,
                            item=ncr.item,
                            qty=qty,
                            reason=judged.disposition,
                            issued_by=judged.by,
                            issued_at=judged.at,
                        )
                    )
                    await record(session, kind="released", ref=pass_no, **common)
                    # Returned or repaired goods come back: the supplier owes them again.
                    if ncr.po_no:
                        await owe_again(session, po_no=ncr.po_no, item=ncr.item, qty=qty)
                else:  # scrapped here and written off, and had again at once
                    await record(session, kind="scrapped", ref=ncr.ncr_no, **common)
                    requisitions = await cover_scrapped(session, ncr, qty=qty, at=judged.at)
            if ncr.order_no:
                leaving = f", release pass {pass_no}" if pass_no else ""
                await add_event(
                    session,
                    key=f"{ncr.ncr_no}:judged",
                    order_no=ncr.order_no,
                    at=judged.at,
                    kind="ncr",
                    actor=judged.by,
                    summary=f"{ncr.ncr_no} ({qty} {ncr.item}) judged {judged.disposition}{leaving}"
                    + (f": {judged.comment}" if judged.comment else ""),
                    detail={
                        "ncr_no": ncr.ncr_no,
                        "disposition": judged.disposition,
                        "pass_no": pass_no,
                    },
                )
        return NcrClosed(
            pass_no=pass_no, allocation=Allocation(reserved=given), requisitions=requisitions
        )

    @activity.defn
    async def judge_assembly_ncr(self, judged: AssemblyNcrJudged) -> AssemblyNcrClosed:
        """Carry out quality's judgement of nonconforming material found in assembly: what
        leaves the order (return, repair, scrap) is replaced at once (services/quality/
        assembly_ncr.py)."""
        async with session_scope(self._engine) as session:
            return AssemblyNcrClosed(lines=await judge_assembly(session, judged))

    @activity.defn
    async def request_concession(self, request: ConcessionRequest) -> None:
        """Planning asks quality to accept nonconforming goods as they are (§5.4)."""
        async with session_scope(self._engine) as session:
            ncr = await session.get(Ncr, request.ncr_no)
            if ncr is None:
                raise ApplicationError(f"{request.ncr_no} does not exist", non_retryable=True)
            note = f"concession requested by {request.by} for {request.order_no}"
            if ncr.state == "open" and note not in (ncr.comment or ""):
                ncr.comment = f"{ncr.comment}; {note}" if ncr.comment else note
            await add_event(
                session,
                key=f"{request.ncr_no}:concession_requested:{request.order_no}",
                order_no=request.order_no,
                at=request.at,
                kind="ncr",
                actor=request.by,
                summary=f"planning asks quality for a concession on {request.ncr_no}"
                + ("" if ncr.state == "open" else f" (already judged {ncr.disposition})"),
                detail={"ncr_no": request.ncr_no},
            )

    @activity.defn
    async def detach_inspections(self, order_no: str) -> list[str]:
        """A cancelled order's goods still wait for quality: their pending inspections and
        open NCRs carry on for stock. Returns the inspection workflows to tell."""
        async with session_scope(self._engine) as session:
            lots = set()
            for inspection in (
                await session.execute(
                    select(Inspection).where(
                        col(Inspection.order_no) == order_no, col(Inspection.state) == "pending"
                    )
                )
            ).scalars():
                inspection.order_no = None
                lots.add(inspection.lot_no)
            for ncr in (
                await session.execute(
                    select(Ncr).where(col(Ncr.order_no) == order_no, col(Ncr.state) == "open")
                )
            ).scalars():
                ncr.order_no = None
                lots.add(_incoming_lot(ncr))
            await detach_tasks(
                session, department="quality", order_no=order_no, prefix="inspection-"
            )
        return sorted(inspection_workflow_id(lot) for lot in lots)


def _incoming_lot(ncr: Ncr) -> str:
    """The lot an incoming NCR's goods were received in (every incoming NCR has one)."""
    if ncr.lot_no is None:
        raise ApplicationError(f"{ncr.ncr_no} has no incoming lot", non_retryable=True)
    return ncr.lot_no


def _summary(ncr: Ncr) -> NcrSummary:
    return NcrSummary(
        ncr_no=ncr.ncr_no, item=ncr.item, qty=ncr.qty, defect=ncr.defect, order_no=ncr.order_no
    )


async def _tell_orders(
    session: AsyncSession,
    result: InspectionResult,
    receipt_order: str | None,
    ncrs: list[NcrSummary],
    given: dict[str, dict[str, Decimal]],
) -> None:
    """Timeline events: the lot's result on the PO's order, reservations on the orders served."""
    if receipt_order:
        rejected = ", ".join(f"{n.ncr_no}: {n.qty} {n.item} ({n.defect})" for n in ncrs)
        await add_event(
            session,
            key=f"{result.lot_no}:inspected",
            order_no=receipt_order,
            at=result.at,
            kind="inspection",
            actor=result.by,
            summary=f"lot {result.lot_no} inspected" + (f"; rejected {rejected}" if ncrs else ""),
            detail={"lot_no": result.lot_no, "lines": result.lines},
        )
    for order_no, items in given.items():
        await add_event(
            session,
            key=f"{result.lot_no}:reserved:{order_no}",
            order_no=order_no,
            at=result.at,
            kind="reservation",
            actor="orderflow",
            summary=f"reserved from lot {result.lot_no}: "
            + ", ".join(f"{qty} {item}" for item, qty in items.items()),
            detail={"lot_no": result.lot_no, "items": {k: str(v) for k, v in items.items()}},
        )


ACTIVITIES: list[type] = [
    TaskActivities,
    EscalationActivities,
    QualityActivities,
    DocumentActivities,
    FinalInspectionActivities,
]
