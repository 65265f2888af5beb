"""Receiving against a purchase order and its delivery note (P6.1): `POST /warehouse/receipts`.

Each line is counted against the note: a count that differs from it, damaged goods and anything
beyond what the PO still expects are refused at the door (and the buyer is told at once); the
rest waits in the pending-inspection area as one inspection lot, and the lot's
`IncomingInspectionWorkflow` starts inside the same transaction, so a receipt is stored only
when its inspection clock runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, status
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col
from temporalio.client import Client
from temporalio.common import WorkflowIDReusePolicy
from temporalio.service import RPCError

from services.procurement.models import PoLine, PurchaseOrder
from services.warehouse.models import Receipt, ReceiptLine
from services.warehouse.stock import change_stock, record
from shared.deps import CurrentUser, SessionDep, SettingsDep, TemporalDep
from shared.errors import conflict, invalid, unavailable
from shared.material_types import InspectionLot, LotLine
from shared.temporal import workflow_queue
from shared.timeline import add_event
from shared.workflow_ids import inspection_workflow_id
from workflows.clients import IncomingInspectionWorkflow

receipt_router = APIRouter(tags=["warehouse"])

Qty = Annotated[Decimal, Field(ge=0, max_digits=18, decimal_places=4)]
ZERO = Decimal(0)


class ReceiptLineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    item: str = Field(min_length=1, max_length=64)
    qty_noted: Qty
    qty_counted: Qty
    qty_damaged: Qty = ZERO
    supplier_lot: str | None = Field(default=None, max_length=64)

    @model_validator(mode="after")
    def _damaged_within_counted(self) -> ReceiptLineIn:
        if self.qty_damaged > self.qty_counted:
            raise ValueError(
                f"qty_damaged {self.qty_damaged} exceeds qty_counted {self.qty_counted}"
            )
        return self


# API.md `POST /warehouse/receipts`.
class ReceiptIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    po_no: str = Field(min_length=1, max_length=64)
    delivery_note_no: str = Field(min_length=1, max_length=64)
    supplier: str = Field(min_length=1, max_length=128)
    lines: list[ReceiptLineIn] = Field(min_length=1, max_length=500)

    @model_validator(mode="after")
    def _one_line_per_item(self) -> ReceiptIn:
        items = [line.item for line in self.lines]
        repeated = sorted({item for item in items if items.count(item) > 1})
        if repeated:
            raise ValueError(f"each item once per receipt; repeated: {', '.join(repeated)}")
        return self


class ReceiptLineOut(BaseModel):
    line_no: int
    item: str
    supplier_lot: str | None
    qty_noted: Decimal
    qty_counted: Decimal
    qty_damaged: Decimal
    qty_accepted: Decimal
    qty_refused: Decimal
    refusal: str | None


class ReceiptOut(BaseModel):
    receipt_no: str
    lot_no: str | None
    inspection_workflow_id: str | None
    po_no: str
    delivery_note_no: str
    supplier: str
    order_no: str | None
    state: str
    received_by: str
    received_at: datetime
    lines: list[ReceiptLineOut]


@dataclass(frozen=True)
class LineOutcome:
    accepted: Decimal
    refused: Decimal
    reasons: tuple[str, ...]


def judge_line(line: ReceiptLineIn, outstanding: Decimal) -> LineOutcome:
    """What of one counted line goes to inspection and what is refused at the door, and why.

    Only what the note and the count agree on and is undamaged can be accepted, and no more
    than the PO still expects; every other unit the note or the count names is refused.
    """
    reasons = []
    agreed = min(line.qty_noted, line.qty_counted)
    if line.qty_counted != line.qty_noted:
        reasons.append(f"counted {line.qty_counted} against {line.qty_noted} on the note")
    sound = max(agreed - line.qty_damaged, ZERO)
    if line.qty_damaged:
        reasons.append(f"{line.qty_damaged} damaged")
    accepted = min(sound, max(outstanding, ZERO))
    if accepted < sound:
        reasons.append(f"{sound - accepted} beyond the {max(outstanding, ZERO)} the PO expects")
    refused = max(line.qty_noted, line.qty_counted) - accepted
    return LineOutcome(accepted=accepted, refused=refused, reasons=tuple(reasons))


@receipt_router.post("/receipts", status_code=status.HTTP_201_CREATED, response_model=ReceiptOut)
async def receive(
    body: ReceiptIn,
    session: SessionDep,
    temporal: TemporalDep,
    settings: SettingsDep,
    user: CurrentUser,
) -> ReceiptOut:
    """Receive a delivery against its PO and delivery note; the accepted rest awaits quality."""
    user.require(("warehouse",), "receiving goods")
    po, lines = await _open_po(session, body)
    duplicate = (
        await session.execute(
            select(Receipt).where(
                col(Receipt.supplier) == body.supplier,
                col(Receipt.delivery_note_no) == body.delivery_note_no,
            )
        )
    ).scalar_one_or_none()
    if duplicate is not None:
        raise conflict(
            "duplicate_delivery_note",
            f"delivery note {body.delivery_note_no} of {body.supplier} was received as "
            f"{duplicate.receipt_no}",
        )
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
        po_lines = [pl for pl in lines if pl.item == line.item]
        outstanding = sum((Decimal(pl.qty) - Decimal(pl.qty_received) for pl in po_lines), ZERO)
        outcome = judge_line(line, outstanding)
        _book_on_po(po_lines, outcome.accepted)
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


async def _open_po(session: AsyncSession, body: ReceiptIn) -> tuple[PurchaseOrder, list[PoLine]]:
    """The PO the delivery is for, locked, with its lines; refuses what cannot be received."""
    po = (
        await session.execute(
            select(PurchaseOrder).where(col(PurchaseOrder.po_no) == body.po_no).with_for_update()
        )
    ).scalar_one_or_none()
    if po is None:
        raise invalid("unknown_po", f"purchase order {body.po_no} does not exist")
    if po.supplier != body.supplier:
        raise invalid(
            "wrong_supplier",
            f"{po.po_no} was placed with {po.supplier}, not {body.supplier}",
        )
    if po.state != "open":
        raise conflict("po_not_open", f"{po.po_no} is {po.state}; nothing more is expected on it")
    lines = list(
        (
            await session.execute(
                select(PoLine)
                .where(col(PoLine.po_no) == po.po_no)
                .order_by(col(PoLine.line_no))
                .with_for_update()
            )
        ).scalars()
    )
    unknown = sorted({line.item for line in body.lines} - {line.item for line in lines})
    if unknown:
        raise invalid(
            "item_not_on_po",
            f"{', '.join(unknown)} not on {po.po_no}; it orders "
            f"{', '.join(sorted({line.item for line in lines}))}",
        )
    return po, lines


def _book_on_po(lines: list[PoLine], qty: Decimal) -> None:
    """Count accepted goods against the PO's lines of that item, first line first."""
    for line in lines:
        take = min(qty, Decimal(line.qty) - Decimal(line.qty_received))
        if take > 0:
            line.qty_received = Decimal(line.qty_received) + take
            qty -= take


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
