"""What a cancelled order has cost so far: received material at its PO price, work done
(material picked into production at its lot's PO price, plus labour since the production
start), and open commitments on the purchase orders the cancellation stops."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.planning.milestones import actuals
from services.procurement.service import po_lines_of_order, priced_lines
from services.warehouse.lots import lot_sources, picked_lots
from shared.production_types import CancellationCost
from shared.working_time.calendar import FactoryCalendar

ZERO = Decimal(0)
CENT = Decimal("0.01")


# One contribution to a cancellation's cost, as the result's `detail` lists it.
@dataclass
class _Charge:
    kind: str  # received, open_commitment, picked, labour
    counted_in: str  # received_material, open_commitments, work_done
    item: str | None
    qty: Decimal
    unit_price: Decimal | None
    po_no: str | None = None
    note: str | None = None
    counts: bool = True  # False: listed, but its value is already in another line

    @property
    def amount(self) -> Decimal:
        if self.unit_price is None or not self.counts:
            return ZERO.quantize(CENT)
        return (self.qty * self.unit_price).quantize(CENT, rounding=ROUND_HALF_UP)

    def detail(self) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "kind": self.kind,
            "counted_in": self.counted_in,
            "item": self.item,
            "qty": _text(self.qty),
            "unit_price": None if self.unit_price is None else _text(self.unit_price),
            "amount": str(self.amount),
            "po_no": self.po_no,
            "unpriced": self.unit_price is None,
        }
        if self.note:
            entry["note"] = self.note
        return entry


def _text(value: Decimal) -> str:
    """A quantity or price as plain text without trailing zeros (`4`, `12.5`)."""
    return f"{value.normalize():f}"


def cost_of(currency: str, charges: list[_Charge]) -> CancellationCost:
    """The three sums of the charges (in the order's currency), with every charge listed."""
    totals: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for charge in charges:
        totals[charge.counted_in] += charge.amount
    received, work, committed = (
        totals["received_material"],
        totals["work_done"],
        totals["open_commitments"],
    )
    return CancellationCost(
        currency=currency,
        received_material=received.quantize(CENT),
        work_done=work.quantize(CENT),
        open_commitments=committed.quantize(CENT),
        total=(received + work + committed).quantize(CENT),
        detail=[charge.detail() for charge in charges],
    )


async def charges_of(
    session: AsyncSession,
    order_no: str,
    *,
    cancelled_pos: set[str],
    picked: dict[str, Decimal],
    on: date,
    labour_per_day: Decimal,
    calendar: FactoryCalendar,
) -> list[_Charge]:
    """Received material and open commitments of the order's POs, picked material and labour."""
    charges: list[_Charge] = []
    own_pos: set[str] = set()
    for line in await po_lines_of_order(session, order_no=order_no):
        own_pos.add(line.po_no)
        price = None if line.unit_price is None else Decimal(line.unit_price)
        received, ordered = Decimal(line.qty_received), Decimal(line.qty)
        if received > 0:
            charges.append(
                _Charge("received", "received_material", line.item, received, price, line.po_no)
            )
        if line.po_no in cancelled_pos and ordered > received:
            charges.append(
                _Charge(
                    "open_commitment",
                    "open_commitments",
                    line.item,
                    ordered - received,
                    price,
                    line.po_no,
                    note="ordered, not delivered: the supplier may still charge it",
                )
            )
    charges += await _picked_charges(session, order_no, picked, own_pos)
    labour = await _labour(session, order_no, on, labour_per_day, calendar)
    return charges + ([labour] if labour is not None else [])


async def _picked_charges(
    session: AsyncSession, order_no: str, picked: dict[str, Decimal], own_pos: set[str]
) -> list[_Charge]:
    """Material picked into production, priced at the PO its lot came in on. Material bought on
    the order's own POs is already counted as received, so it is listed without adding again."""
    picks = [pick for pick in await picked_lots(session, order_no) if pick.item in picked]
    lots = await lot_sources(session, lots={pick.lot_no for pick in picks if pick.lot_no})
    prices = await _po_prices(session, {(po, item) for (_, item), po in lots.items() if po})
    charges: list[_Charge] = []
    for item in sorted(picked):
        left = picked[item]
        for pick in sorted((p for p in picks if p.item == item), key=lambda p: p.lot_no or ""):
            qty = min(left, pick.qty)
            if qty <= 0:
                break
            left -= qty
            po_no = lots.get((pick.lot_no or "", item))
            charges.append(_picked(item, qty, pick.lot_no, po_no, prices, own_pos))
        if left > 0:
            charges.append(
                _Charge(
                    "picked",
                    "work_done",
                    item,
                    left,
                    None,
                    note="picked, but the ledger names no lot to price it by",
                )
            )
    return charges


def _picked(
    item: str,
    qty: Decimal,
    lot_no: str | None,
    po_no: str | None,
    prices: dict[tuple[str, str], Decimal],
    own_pos: set[str],
) -> _Charge:
    """One lot's share of a picked item."""
    if po_no is not None and po_no in own_pos:
        return _Charge(
            "picked",
            "received_material",
            item,
            qty,
            prices.get((po_no, item)),
            po_no,
            note=f"from lot {lot_no}, bought on this order's {po_no}: counted as received",
            counts=False,
        )
    source = f"from lot {lot_no}" + (f" (bought on {po_no})" if po_no else " (no purchase order)")
    return _Charge(
        "picked",
        "work_done",
        item,
        qty,
        prices.get((po_no, item)) if po_no else None,
        po_no,
        note=f"{source}; in the workshop, stays with the order",
    )


async def _po_prices(
    session: AsyncSession, wanted: set[tuple[str, str]]
) -> dict[tuple[str, str], Decimal]:
    """The unit price of an item on a PO (quantity-weighted over its priced lines)."""
    if not wanted:
        return {}
    rows = await priced_lines(session, po_nos={po for po, _ in wanted})
    value: dict[tuple[str, str], Decimal] = defaultdict(lambda: ZERO)
    qty: dict[tuple[str, str], Decimal] = defaultdict(lambda: ZERO)
    for line in rows:
        key = (line.po_no, line.item)
        value[key] += Decimal(line.qty) * Decimal(line.unit_price or 0)
        qty[key] += Decimal(line.qty)
    return {
        key: (value[key] / qty[key]).quantize(Decimal("0.0001")) for key in wanted if qty.get(key)
    }


async def _labour(
    session: AsyncSession, order_no: str, on: date, per_day: Decimal, calendar: FactoryCalendar
) -> _Charge | None:
    """Production working days (the plant's calendar) from the production start actual to the
    cancellation's local date (or to the production end actual, when production had ended),
    at the labour cost per day."""
    actual = await actuals(session, order_no=order_no, names=("production_start", "production_end"))
    start = actual.get("production_start")
    if start is None:
        return None
    end = min(on, actual.get("production_end") or on)
    days = Decimal(calendar.working_days_between(start, end))
    return _Charge(
        "labour",
        "work_done",
        None,
        days,
        per_day if per_day > 0 else None,
        note=f"production working days from {start.isoformat()} to {end.isoformat()}"
        + ("" if per_day > 0 else "; ORDERFLOW_LABOUR_COST_PER_DAY is not set"),
    )
