"""Receiving against a PO and delivery note (P6.1): what is refused at the door and why, bad
receipts refused with nothing stored, and the lot's inspection answer checked against it."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col

from services.procurement.models import PoLine, PurchaseOrder
from services.warehouse.models import Receipt
from services.warehouse.receiving import ReceiptLineIn, judge_line
from tests.conftest import Stack
from tests.material_drivers import receive, stock

QTY = st.decimals(min_value=0, max_value=10_000, places=2, allow_nan=False, allow_infinity=False)


@given(noted=QTY, counted=QTY, damaged_share=st.fractions(0, 1), outstanding=QTY)
def test_every_noted_or_counted_unit_is_either_accepted_or_refused(
    noted: Decimal, counted: Decimal, damaged_share: Any, outstanding: Decimal
) -> None:
    damaged = (counted * Decimal(damaged_share.numerator) / damaged_share.denominator).quantize(
        Decimal("0.01"), rounding="ROUND_DOWN"
    )
    line = ReceiptLineIn(item="X", qty_noted=noted, qty_counted=counted, qty_damaged=damaged)
    outcome = judge_line(line, outstanding)
    assert outcome.accepted + outcome.refused == max(noted, counted)
    assert 0 <= outcome.accepted <= min(noted, counted) - damaged or outcome.accepted == 0
    assert outcome.accepted <= outstanding
    assert (outcome.refused > 0) == bool(outcome.reasons)


def test_a_clean_delivery_is_accepted_whole() -> None:
    line = ReceiptLineIn(item="X", qty_noted=Decimal(10), qty_counted=Decimal(10))
    outcome = judge_line(line, Decimal(10))
    assert (outcome.accepted, outcome.refused, outcome.reasons) == (Decimal(10), Decimal(0), ())


async def _open_po(engine: AsyncEngine, qty: int = 100) -> tuple[str, str]:
    """A stock PO (no order) for `qty` of a fresh item; returns (po_no, item)."""
    suffix = uuid.uuid4().hex[:8]
    po_no, item = f"PO-R-{suffix}", f"CABLE-{suffix}"
    async with engine.begin() as conn:
        await conn.execute(
            PurchaseOrder.__table__.insert().values(  # type: ignore[attr-defined]
                po_no=po_no,
                supplier="Far East Cable",
                order_no=None,
                promised_date=date.today() + timedelta(days=10),
                state="open",
                created_by="buyer",
                created_at=datetime.now(UTC),
            )
        )
        await conn.execute(
            PoLine.__table__.insert().values(  # type: ignore[attr-defined]
                po_no=po_no, line_no=1, item=item, qty=qty, qty_received=0
            )
        )
    return po_no, item


async def _receipts_of(engine: AsyncEngine, po_no: str) -> int:
    async with engine.connect() as conn:
        return int(
            (
                await conn.execute(select(func.count()).where(col(Receipt.po_no) == po_no))
            ).scalar_one()
        )


def _line(item: str, noted: float, counted: float, damaged: float = 0) -> dict[str, Any]:
    return {"item": item, "qty_noted": noted, "qty_counted": counted, "qty_damaged": damaged}


async def test_bad_receipts_are_refused_with_nothing_stored(
    stack: Stack, engine: AsyncEngine
) -> None:
    po_no, item = await _open_po(engine)
    cases: list[tuple[dict[str, Any], int, str]] = [
        ({"po_no": "PO-NOPE", "supplier": "Far East Cable"}, 422, "unknown_po"),
        ({"supplier": "Someone Else"}, 422, "wrong_supplier"),
        ({"lines": [_line("NOT-ON-PO", 1, 1)]}, 422, "item_not_on_po"),
        ({"lines": [_line(item, 5, 5, damaged=6)]}, 422, "invalid_request"),
        ({"lines": [_line(item, 1, 1), _line(item, 2, 2)]}, 422, "invalid_request"),
        ({"lines": [_line(item, -1, 1)]}, 422, "invalid_request"),
        ({"lines": []}, 422, "invalid_request"),
    ]
    for change, status, error in cases:
        body = {
            "po_no": po_no,
            "delivery_note_no": f"DN-{uuid.uuid4().hex[:6]}",
            "supplier": "Far East Cable",
            "lines": [_line(item, 10, 10)],
            **change,
        }
        response = await stack.http.post(
            "/warehouse/receipts", json=body, headers=stack.token("wang", "warehouse")
        )
        assert response.status_code == status, (change, response.text)
        assert response.json()["error"] == error, response.text
        assert response.json()["detail"]
    forbidden = await stack.http.post(
        "/warehouse/receipts",
        json={
            "po_no": po_no,
            "delivery_note_no": "DN-X",
            "supplier": "Far East Cable",
            "lines": [_line(item, 1, 1)],
        },
        headers=stack.token("sam", "sales"),
    )
    assert forbidden.status_code == 403
    assert await _receipts_of(engine, po_no) == 0
    assert (
        await stack.http.get(
            "/warehouse/stock", params={"item": item}, headers=stack.token("ops", "ops")
        )
    ).json()[0]["pending_inspection"] in ("0", 0)


async def test_mismatch_damage_and_over_delivery_are_refused_for_that_quantity(
    stack: Stack, engine: AsyncEngine
) -> None:
    po_no, item = await _open_po(engine, qty=100)
    first = await receive(
        stack, po_no, "Far East Cable", [_line(item, 80, 80, damaged=3)], note="DN-1"
    )
    assert first.status_code == 201, first.text
    (line,) = first.json()["lines"]
    assert (Decimal(line["qty_accepted"]), Decimal(line["qty_refused"])) == (77, 3)
    assert line["refusal"] == "3 damaged"
    assert first.json()["state"] == "pending_inspection" and first.json()["lot_no"]

    duplicate = await receive(stack, po_no, "Far East Cable", [_line(item, 1, 1)], note="DN-1")
    assert duplicate.status_code == 409
    assert duplicate.json()["error"] == "duplicate_delivery_note"
    assert first.json()["receipt_no"] in duplicate.json()["detail"]

    # 23 still expected: 30 counted against a note of 28 → 2 over the note, 5 over the PO.
    second = await receive(stack, po_no, "Far East Cable", [_line(item, 28, 30)], note="DN-2")
    (line,) = second.json()["lines"]
    assert (Decimal(line["qty_accepted"]), Decimal(line["qty_refused"])) == (23, 7)
    assert "counted 30 against 28" in line["refusal"] and "beyond the 23" in line["refusal"]

    third = await receive(stack, po_no, "Far East Cable", [_line(item, 4, 4)], note="DN-3")
    assert third.status_code == 201
    assert third.json()["state"] == "refused" and third.json()["lot_no"] is None
    row = await stock(stack, item)
    assert Decimal(row["pending_inspection"]) == 100 and Decimal(row["on_hand"]) == 0

    async with engine.begin() as conn:
        await conn.execute(
            update(PurchaseOrder).where(col(PurchaseOrder.po_no) == po_no).values(state="closed")
        )
    closed = await receive(stack, po_no, "Far East Cable", [_line(item, 1, 1)], note="DN-4")
    assert closed.status_code == 409 and closed.json()["error"] == "po_not_open"


def _numbers(receipt: dict[str, Any]) -> dict[str, Any]:
    """The receipt with its quantities as numbers (the stored ones carry four decimals)."""
    lines = [
        {k: Decimal(v) if k.startswith("qty_") else v for k, v in line.items()}
        for line in receipt["lines"]
    ]
    return {**receipt, "lines": lines}


async def test_a_receipt_posted_again_answers_the_one_booked(
    stack: Stack, engine: AsyncEngine
) -> None:
    # A clerk whose answer was lost posts the same note again: the receipt is booked once.
    po_no, item = await _open_po(engine, qty=100)
    lines = [_line(item, 100, 100)]
    first = await receive(stack, po_no, "Far East Cable", lines, note="DN-LOST")
    assert first.status_code == 201, first.text
    again = await receive(stack, po_no, "Far East Cable", lines, note="DN-LOST")
    assert again.status_code == 200, again.text
    assert _numbers(again.json()) == _numbers(first.json())
    assert await _receipts_of(engine, po_no) == 1
    assert Decimal((await stock(stack, item))["pending_inspection"]) == 100

    # Someone else posting that note, or other counts under it, is a second delivery: 409.
    other = await stack.http.post(
        "/warehouse/receipts",
        json={
            "po_no": po_no,
            "delivery_note_no": "DN-LOST",
            "supplier": "Far East Cable",
            "lines": lines,
        },
        headers=stack.token("li", "warehouse"),
    )
    assert other.status_code == 409, other.text
    assert other.json()["error"] == "duplicate_delivery_note"
    assert first.json()["receipt_no"] in other.json()["detail"]
    assert await _receipts_of(engine, po_no) == 1


async def test_the_inspection_answer_must_account_for_the_whole_lot_once(
    stack: Stack, engine: AsyncEngine
) -> None:
    po_no, item = await _open_po(engine, qty=10)
    receipt = await receive(stack, po_no, "Far East Cable", [_line(item, 10, 10)], note="DN-A")
    lot_no = receipt.json()["lot_no"]
    headers = stack.token("qa-li", "quality")
    task = await _inspection_task(stack, lot_no)
    url = f"/quality/tasks/{task['task_id']}/complete"
    wrong_sum = await stack.http.post(
        url,
        json={"lines": [{"item": item, "qualified_qty": 9, "rejected_qty": 0}]},
        headers=headers,
    )
    assert wrong_sum.status_code == 422 and "must equal the 10" in wrong_sum.json()["detail"]
    stranger = await stack.http.post(
        url,
        json={"lines": [{"item": "OTHER", "qualified_qty": 10, "rejected_qty": 0}]},
        headers=headers,
    )
    assert stranger.status_code == 422 and "not in lot" in stranger.json()["detail"]
    answer = {"lines": [{"item": item, "qualified_qty": 10, "rejected_qty": 0}]}
    done = await stack.http.post(url, json=answer, headers=headers)
    assert done.status_code == 200, done.text
    again = await stack.http.post(url, json=answer, headers=headers)
    assert again.status_code == 409
    row = await stock(stack, item)
    assert Decimal(row["on_hand"]) == 10 and Decimal(row["free"]) == 10


async def _inspection_task(stack: Stack, lot_no: str) -> dict[str, Any]:
    for _ in range(150):
        response = await stack.http.get(
            "/quality/tasks",
            params={"state": "open", "kind": "quality.incoming_inspection"},
            headers=stack.token("ops", "ops"),
        )
        found = [t for t in response.json() if t["context"].get("lot_no") == lot_no]
        if found:
            return dict(found[0])
        await asyncio.sleep(0.1)
    raise AssertionError(f"no inspection task for {lot_no}")


async def _po_for(engine: AsyncEngine, items: list[str], qty: int) -> str:
    po_no = f"PO-C-{uuid.uuid4().hex[:8]}"
    async with engine.begin() as conn:
        await conn.execute(
            PurchaseOrder.__table__.insert().values(  # type: ignore[attr-defined]
                po_no=po_no,
                supplier="Far East Cable",
                order_no=None,
                promised_date=date.today() + timedelta(days=10),
                state="open",
                created_by="buyer",
                created_at=datetime.now(UTC),
            )
        )
        for line_no, item in enumerate(items, start=1):
            await conn.execute(
                PoLine.__table__.insert().values(  # type: ignore[attr-defined]
                    po_no=po_no, line_no=line_no, item=item, qty=qty, qty_received=0
                )
            )
    return po_no


async def test_concurrent_receipts_of_the_same_items_all_land(
    stack: Stack, engine: AsyncEngine
) -> None:
    items = [f"TERM-{uuid.uuid4().hex[:6]}-{n}" for n in range(6)]
    pos = [await _po_for(engine, items, qty=10) for _ in range(4)]
    receipts = [
        receive(
            stack,
            po_no,
            "Far East Cable",
            [_line(item, 10, 10) for item in (items if n % 2 else list(reversed(items)))],
            note=f"DN-{po_no}",
        )
        for n, po_no in enumerate(pos)
    ]
    answers = await asyncio.gather(*receipts)
    assert [a.status_code for a in answers] == [201] * len(pos), [a.text for a in answers]
    for item in items:
        assert Decimal((await stock(stack, item))["pending_inspection"]) == 10 * len(pos)
