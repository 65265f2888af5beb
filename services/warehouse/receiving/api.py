"""Receiving against a purchase order and its delivery note (P6.1): `POST /warehouse/receipts`.

Each line is counted against the note: a count that differs from it, damaged goods and anything
beyond what the PO still expects are refused at the door (and the buyer is told at once); the
rest waits in the pending-inspection area as one inspection lot, and the lot's
`IncomingInspectionWorkflow` starts inside the same transaction, so a receipt is stored only
when its inspection clock runs.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from fastapi import APIRouter, Response, status
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client
from temporalio.common import WorkflowIDReusePolicy
from temporalio.service import RPCError

from services.procurement.service import Receivable, lock_po_lines, lock_purchase_order
from services.warehouse.models import Receipt, ReceiptLine
from services.warehouse.receiving.schemas import ReceiptIn, ReceiptLineOut, ReceiptOut
from services.warehouse.receiving.service import (
    judge_line,
    receipt_lines,
    receipt_of_note,
    same_count,
)
from services.warehouse.stock import change_stock, record
from shared.deps import CurrentUser, SessionDep, SettingsDep, TemporalDep
from shared.errors import conflict, invalid, unavailable
from shared.material_types import InspectionLot, LotLine
from shared.temporal import workflow_queue
from shared.timeline import add_event
from shared.workflow_ids import inspection_workflow_id
from workflows.clients import IncomingInspectionWorkflow, tell_promise_watches

receipt_router = APIRouter(tags=["warehouse"])


@receipt_router.post(
    "/receipts",
    status_code=status.HTTP_201_CREATED,
    response_model=ReceiptOut,
    responses={200: {"model": ReceiptOut, "description": "The same receipt posted again"}},
)
async def receive(
    body: ReceiptIn,
    session: SessionDep,
    temporal: TemporalDep,
    settings: SettingsDep,
    user: CurrentUser,
    response: Response,
) -> ReceiptOut:
    """Receive a delivery against its PO and delivery note; the accepted rest awaits quality.

    The note is the receipt's identity: the same clerk posting the same note with the same PO
    and lines again (an answer lost on the way) gets the stored receipt with 200, booked once;
    any other receipt of a note already received is 409."""
    user.require(("warehouse",), "receiving goods")
    stored = await receipt_of_note(
        session, supplier=body.supplier, delivery_note_no=body.delivery_note_no
    )
    if stored is not None:
        return await _resent(session, stored, body, by=user.sub, response=response)
    receivable = await _open_po(session, body)
    po = receivable.po
    seq = (await session.execute(text("SELECT nextval('warehouse.receipt_seq')"))).scalar_one()
    receipt_no, lot_no = f"GR-{seq:06d}", f"IL-{seq:06d}"
    now = datetime.now(UTC)
    receipt = Receipt(
        receipt_no=receipt_no,
        po_no=po.po_no,
        delivery_note_no=body.delivery_note_no,
        supplier=body.supplier,
        order_no=po.order_no,
        state="counting",
        received_by=user.sub,
        received_at=now,
    )
    session.add(receipt)
    try:
        await session.flush()
    except IntegrityError as exc:  # the same note, received by a concurrent request
        raise conflict(
            "duplicate_delivery_note",
            f"delivery note {body.delivery_note_no} of {body.supplier} was received already",
        ) from exc
    out_lines, lot_lines, refusals = [], [], []
    # Stock rows are locked item by item in name order, as every writer does: no deadlocks.
    numbered = sorted(enumerate(body.lines, start=1), key=lambda pair: pair[1].item)
    for line_no, line in numbered:
        outcome = judge_line(line, receivable.outstanding(line.item))
        receivable.book(line.item, outcome.accepted)
        refusal = "; ".join(outcome.reasons) or None
        session.add(
            ReceiptLine(
                receipt_no=receipt_no,
                line_no=line_no,
                item=line.item,
                supplier_lot=line.supplier_lot,
                qty_noted=line.qty_noted,
                qty_counted=line.qty_counted,
                qty_damaged=line.qty_damaged,
                qty_accepted=outcome.accepted,
                qty_refused=outcome.refused,
                refusal=refusal,
            )
        )
        out_lines.append(
            ReceiptLineOut(
                line_no=line_no,
                **line.model_dump(),
                qty_accepted=outcome.accepted,
                qty_refused=outcome.refused,
                refusal=refusal,
            )
        )
        detail = {
            "supplier": body.supplier,
            "supplier_lot": line.supplier_lot,
            "delivery_note_no": body.delivery_note_no,
        }
        if outcome.accepted > 0:
            lot_lines.append(
                LotLine(
                    line_no=line_no,
                    item=line.item,
                    qty=outcome.accepted,
                    supplier_lot=line.supplier_lot,
                )
            )
            await change_stock(session, line.item, at=now, pending=outcome.accepted)
            await record(
                session,
                kind="received",
                item=line.item,
                qty=outcome.accepted,
                by=user.sub,
                at=now,
                lot_no=lot_no,
                order_no=po.order_no,
                receipt_no=receipt_no,
                ref=po.po_no,
                detail=detail,
            )
        if outcome.refused > 0:
            refusals.append(f"{line.item}: {outcome.refused} refused ({refusal})")
            await record(
                session,
                kind="refused",
                item=line.item,
                qty=outcome.refused,
                by=user.sub,
                at=now,
                order_no=po.order_no,
                receipt_no=receipt_no,
                ref=po.po_no,
                detail={**detail, "reason": refusal},
            )
    out_lines.sort(key=lambda out: out.line_no)
    lot_lines.sort(key=lambda lot_line: lot_line.line_no)
    receipt.state = "pending_inspection" if lot_lines else "refused"
    receipt.lot_no = lot_no if lot_lines else None
    state = receipt.state
    if po.order_no:
        await add_event(
            session,
            key=f"{receipt_no}:received",
            order_no=po.order_no,
            at=now,
            kind="receipt",
            actor=user.sub,
            summary=f"{receipt_no} on {po.po_no} (note {body.delivery_note_no}): "
            + (f"lot {lot_no} awaits inspection" if lot_lines else "every line refused")
            + (f"; refused {'; '.join(refusals)}" if refusals else ""),
            detail={"receipt_no": receipt_no, "lot_no": receipt.lot_no, "refused": refusals},
        )
    await session.flush()
    workflow_id = await _start_inspection(
        temporal,
        InspectionLot(
            lot_no=lot_no,
            receipt_no=receipt_no,
            po_no=po.po_no,
            supplier=body.supplier,
            order_no=po.order_no,
            lines=lot_lines,
            refusals=refusals,
            received_at=now,
            queue_prefix=settings.task_queue_prefix,
        ),
    )
    await session.commit()
    await tell_promise_watches(temporal, _filled(receivable, {line.item for line in lot_lines}))
    return ReceiptOut(
        receipt_no=receipt_no,
        lot_no=receipt.lot_no,
        inspection_workflow_id=workflow_id,
        po_no=po.po_no,
        delivery_note_no=body.delivery_note_no,
        supplier=body.supplier,
        order_no=po.order_no,
        state=state,
        received_by=user.sub,
        received_at=now,
        lines=out_lines,
    )


async def _resent(
    session: AsyncSession, stored: Receipt, body: ReceiptIn, *, by: str, response: Response
) -> ReceiptOut:
    """The stored receipt when `body` is the same receipt posted again; 409 otherwise."""
    lines = sorted(
        await receipt_lines(session, receipt_no=stored.receipt_no), key=lambda line: line.line_no
    )
    if not same_count(stored, lines, po_no=body.po_no, by=by, counted=body.lines):
        raise conflict(
            "duplicate_delivery_note",
            f"delivery note {body.delivery_note_no} of {body.supplier} was received as "
            f"{stored.receipt_no} by {stored.received_by} with other lines; a new delivery "
            "needs its own note number",
        )
    response.status_code = status.HTTP_200_OK
    return ReceiptOut(
        receipt_no=stored.receipt_no,
        lot_no=stored.lot_no,
        inspection_workflow_id=inspection_workflow_id(stored.lot_no) if stored.lot_no else None,
        po_no=stored.po_no,
        delivery_note_no=stored.delivery_note_no,
        supplier=stored.supplier,
        order_no=stored.order_no,
        state=stored.state,
        received_by=stored.received_by,
        received_at=stored.received_at,
        lines=[
            ReceiptLineOut(
                line_no=line.line_no,
                item=line.item,
                supplier_lot=line.supplier_lot,
                qty_noted=line.qty_noted,
                qty_counted=line.qty_counted,
                qty_damaged=line.qty_damaged,
                qty_accepted=line.qty_accepted,
                qty_refused=line.qty_refused,
                refusal=line.refusal,
            )
            for line in lines
        ],
    )


def _filled(receivable: Receivable, items: set[str]) -> list[str]:
    """The requisitions whose PO lines of `items` have now received all they ordered: their
    promise watches have nothing left to ask."""
    return [
        line.requisition_key
        for line in receivable.lines
        if line.item in items
        and line.requisition_key is not None
        and Decimal(line.qty_received) >= Decimal(line.qty)
    ]


async def _open_po(session: AsyncSession, body: ReceiptIn) -> Receivable:
    """The PO the delivery is for, locked, with its lines; refuses what cannot be received."""
    po = await lock_purchase_order(session, po_no=body.po_no)
    if po is None:
        raise invalid("unknown_po", f"purchase order {body.po_no} does not exist")
    if po.supplier != body.supplier:
        raise invalid(
            "wrong_supplier",
            f"{po.po_no} was placed with {po.supplier}, not {body.supplier}",
        )
    if po.state != "open":
        raise conflict("po_not_open", f"{po.po_no} is {po.state}; nothing more is expected on it")
    receivable = await lock_po_lines(session, po=po)
    unknown = sorted({line.item for line in body.lines} - receivable.items)
    if unknown:
        raise invalid(
            "item_not_on_po",
            f"{', '.join(unknown)} not on {po.po_no}; it orders "
            f"{', '.join(sorted(receivable.items))}",
        )
    return receivable


async def _start_inspection(temporal: Client, lot: InspectionLot) -> str:
    """Start the lot's workflow before the receipt commits: if Temporal refuses, nothing is
    stored and the warehouse can post the receipt again."""
    workflow_id = inspection_workflow_id(lot.lot_no)
    try:
        await temporal.start_workflow(
            IncomingInspectionWorkflow.run,
            lot,
            id=workflow_id,
            task_queue=workflow_queue(lot.queue_prefix),
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            static_summary=f"inspect {lot.lot_no} from {lot.supplier} ({lot.po_no})"[:200],
        )
    except RPCError as exc:
        raise unavailable(f"Temporal did not start the inspection: {exc.message}") from exc
    return workflow_id
