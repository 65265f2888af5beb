"""Receiving's rules and the receipt rows other departments read or change: what of a counted
line is accepted (`judge_line`), and the receipt of an inspection lot that quality records its
result on. Every function that touches the database takes the caller's session."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.warehouse.models import Receipt, ReceiptLine
from services.warehouse.receiving.schemas import ZERO, ReceiptLineIn

# Receipts whose goods still wait for quality.
WAITING_RECEIPT = ("counting", "pending_inspection")


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


async def receipt_of_lot(session: AsyncSession, *, lot_no: str) -> Receipt | None:
    """The receipt that made the inspection lot; None when no receipt names it."""
    rows = await session.execute(select(Receipt).where(col(Receipt.lot_no) == lot_no))
    return rows.scalar_one_or_none()


async def lot_receipt(session: AsyncSession, *, lot_no: str) -> Receipt:
    """The receipt that made the inspection lot; raises `NoResultFound` when none does."""
    rows = await session.execute(select(Receipt).where(col(Receipt.lot_no) == lot_no))
    return rows.scalar_one()


async def receipt_lines(session: AsyncSession, *, receipt_no: str) -> list[ReceiptLine]:
    """The receipt's lines, in no set order."""
    rows = await session.execute(
        select(ReceiptLine).where(col(ReceiptLine.receipt_no) == receipt_no)
    )
    return list(rows.scalars())


async def receipt_of_note(
    session: AsyncSession, *, supplier: str, delivery_note_no: str
) -> Receipt | None:
    """The receipt booked for the supplier's delivery note; None when none is."""
    rows = await session.execute(
        select(Receipt).where(
            col(Receipt.supplier) == supplier,
            col(Receipt.delivery_note_no) == delivery_note_no,
        )
    )
    return rows.scalar_one_or_none()


def same_count(
    receipt: Receipt, lines: list[ReceiptLine], *, po_no: str, by: str, counted: list[ReceiptLineIn]
) -> bool:
    """Whether a receipt posted again is the one stored: the same PO, clerk and lines (a client
    resending after a lost answer), not a second delivery that reuses the note's number."""
    stored = sorted(
        (line.item, line.supplier_lot or "", line.qty_noted, line.qty_counted, line.qty_damaged)
        for line in lines
    )
    posted = sorted(
        (line.item, line.supplier_lot or "", line.qty_noted, line.qty_counted, line.qty_damaged)
        for line in counted
    )
    return (receipt.po_no, receipt.received_by, stored) == (po_no, by, posted)


def book_inspection(
    line: ReceiptLine, *, qualified: Decimal, rejected: Decimal, defect: str | None
) -> None:
    """Quality's verdict on one receipt line (a row `receipt_lines` returned)."""
    line.qty_qualified, line.qty_rejected = qualified, rejected
    line.defect = defect


def mark_inspected(receipt: Receipt) -> None:
    """The receipt's lot has been inspected (a row `receipt_of_lot` returned)."""
    receipt.state = "inspected"


async def lots_waiting_for_quality(session: AsyncSession, *, order_no: str) -> list[str]:
    """The inspection lots of the order's receipts still waiting for quality."""
    lots = await session.execute(
        select(col(Receipt.lot_no)).where(
            col(Receipt.order_no) == order_no,
            col(Receipt.state).in_(WAITING_RECEIPT),
            col(Receipt.lot_no).is_not(None),
        )
    )
    return [lot for lot in lots.scalars().all() if lot]
