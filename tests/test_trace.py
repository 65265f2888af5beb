"""Traceability (`GET /warehouse/trace`, `GET /orders/{order_no}/trace`) on the real stack."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col

from services.warehouse.models import (
    StockLot,
)
from services.warehouse.stock import add_lot, reserve
from shared.db import session_scope
from tests.conftest import Stack
from tests.helpers import create_order
from tests.trace_drivers import (
    get,
    hours,
    pick,
    received_lot,
    requirement,
    sfx,
)

D = Decimal


# ------------------------------------------------------------------------------------------
# traceability


async def test_lot_traces_forwards_to_the_order_that_picked_it_and_the_order_back_to_it(
    stack: Stack, engine: AsyncEngine
) -> None:
    item = f"VS1-{sfx()}"
    traced_order, other_order = await create_order(stack), await create_order(stack)
    async with session_scope(engine) as session:
        lot = await received_lot(session, item, received=10, rejected=2, at=hours(0))
        await add_lot(
            session, lot_no=f"OPEN-{sfx()}", item=item, qty=D(3), source="opening", at=hours(1)
        )
        opening = (
            await session.execute(
                select(StockLot).where(
                    col(StockLot.item) == item, col(StockLot.source) == "opening"
                )
            )
        ).scalar_one()
        session.add(requirement(traced_order, item, 5, 30))
        await reserve(session, order_no=traced_order, item=item, qty=D(5), by="mrp", at=hours(4))
        await reserve(session, order_no=other_order, item=item, qty=D(3), by="mrp", at=hours(4))
        await pick(session, traced_order, item, lot.lot_no, 5, hours(6))
        await pick(session, other_order, item, lot.lot_no, 2, hours(6))
        await pick(session, other_order, item, opening.lot_no, 1, hours(7))

    trace = await get(stack, "/warehouse/trace", "quality", lot=lot.lot_no)
    assert trace["lot_no"] == lot.lot_no and len(trace["lots"]) == 1
    (found,) = trace["lots"]
    assert (found["source"], found["supplier"], found["po_no"]) == ("receipt", "Chint", lot.po_no)
    assert found["receipt"]["receipt_no"] == lot.receipt_no
    assert found["receipt"]["delivery_note_no"] == lot.delivery_note_no
    assert found["receipt"]["received_by"] == "wh-wang"
    assert found["inspection"]["inspected_by"] == "qa-li"
    (line,) = found["items"]
    assert line["item"] == item and line["supplier_lot"] == lot.supplier_lot
    assert D(line["received"]) == 10
    assert line["inspection"]["inspected_by"] == "qa-li"
    assert line["inspection"]["within_sla"] is True
    assert (D(line["inspection"]["qualified"]), D(line["inspection"]["rejected"])) == (8, 2)
    (ncr,) = line["ncrs"]
    assert ncr["disposition"] == "return" and D(ncr["qty"]) == 2
    assert ncr["release_pass"]["pass_no"].startswith("RP-")
    assert (D(line["stock"]["qty_in"]), D(line["stock"]["qty_left"])) == (8, 1)
    uses = {use["order_no"]: use for use in line["orders"]}
    assert set(uses) == {traced_order, other_order}
    assert D(uses[traced_order]["picked"]) == 5 and D(uses[traced_order]["reserved"]) == 0
    assert D(uses[other_order]["picked"]) == 2 and D(uses[other_order]["reserved"]) == 0
    assert [m["kind"] for m in found["movements"]] == [
        "received",
        "qualified",
        "rejected",
        "picked",
        "picked",
    ]

    # Every lot of the item, newest first.
    by_item = await get(stack, "/warehouse/trace", "ops", item=item)
    assert [t["lot_no"] for t in by_item["lots"]] == [opening.lot_no, lot.lot_no]
    assert by_item["lots"][0]["source"] == "opening" and by_item["lots"][0]["receipt"] is None

    back = await get(stack, f"/orders/{traced_order}/trace", "quality")
    assert back["complete_traceability"] is True
    (entry,) = back["items"]
    assert (entry["item"], D(entry["required"]), D(entry["reserved"])) == (item, 5, 5)
    assert (D(entry["picked"]), D(entry["untraced"])) == (5, 0)
    (from_lot,) = entry["lots"]
    assert from_lot == {
        **from_lot,
        "lot_no": lot.lot_no,
        "supplier": "Chint",
        "supplier_lot": lot.supplier_lot,
        "po_no": lot.po_no,
        "receipt_no": lot.receipt_no,
        "delivery_note_no": lot.delivery_note_no,
        "inspected_by": "qa-li",
        "traceable": True,
    }
    assert D(from_lot["qty"]) == 5

    # Opening stock has no receipt behind it: that picked unit cannot be traced.
    partial = await get(stack, f"/orders/{other_order}/trace", "ops")
    assert partial["complete_traceability"] is False
    (entry,) = partial["items"]
    assert (D(entry["picked"]), D(entry["untraced"])) == (3, 1)
    assert {(t["lot_no"], t["traceable"]) for t in entry["lots"]} == {
        (lot.lot_no, True),
        (opening.lot_no, False),
    }


async def test_trace_needs_a_lot_or_item_a_known_one_and_the_right_role(stack: Stack) -> None:
    order_no = await create_order(stack)
    quality = stack.token("qa", "quality")
    missing = await stack.http.get("/warehouse/trace", headers=quality)
    assert missing.status_code == 422
    assert missing.json()["error"] == "invalid_request" and "lot" in missing.json()["detail"]

    for params in ({"lot": f"IL-{sfx()}"}, {"item": f"NOPE-{sfx()}"}):
        unknown = await stack.http.get("/warehouse/trace", params=params, headers=quality)
        assert unknown.status_code == 404, unknown.text
        assert unknown.json()["error"] == "not_found"
    unknown_order = await stack.http.get(f"/orders/SO-{sfx()}/trace", headers=quality)
    assert unknown_order.status_code == 404 and unknown_order.json()["error"] == "not_found"

    for path, params in (
        ("/warehouse/trace", {"item": "anything"}),
        (f"/orders/{order_no}/trace", {}),
    ):
        for roles in (("warehouse",), ("sales", "production")):
            refused = await stack.http.get(path, params=params, headers=stack.token("x", *roles))
            assert refused.status_code == 403, (path, roles, refused.text)
            assert refused.json()["error"] == "forbidden"
        allowed = await stack.http.get(path, params=params, headers=stack.token("a", "admin"))
        assert allowed.status_code in (200, 404)
    nothing_picked = await get(stack, f"/orders/{order_no}/trace", "admin")
    assert nothing_picked == {
        "order_no": order_no,
        "complete_traceability": True,
        "items": [],
    }
