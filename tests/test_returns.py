"""Returns to stock (P7.2, `POST /warehouse/returns`) on the real stack."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncEngine

from services.warehouse.stock import reserve
from shared.db import session_scope
from tests.conftest import Stack
from tests.helpers import create_order
from tests.trace_drivers import (
    get,
    holding,
    hours,
    lot_left,
    movement_count,
    pick,
    post_return,
    received_lot,
    requirement,
    sfx,
    stock_of,
)

D = Decimal


# ------------------------------------------------------------------------------------------
# returns


async def test_engineering_change_return_unreserves_then_returns_picked_and_feeds_a_short_order(
    stack: Stack, engine: AsyncEngine
) -> None:
    item = f"BOLT-{sfx()}"
    changed, waiting = await create_order(stack), await create_order(stack)
    async with session_scope(engine) as session:
        lot = await received_lot(session, item, received=6, at=hours(0))
        # The changed order still counts 6 (MRP has not run the DCN yet); the other is short 2.
        session.add(requirement(changed, item, 6, 10))
        session.add(requirement(waiting, item, 2, 20))
        await reserve(session, order_no=changed, item=item, qty=D(6), by="mrp", at=hours(4))
        await pick(session, changed, item, lot.lot_no, 4, hours(5))
    assert await stock_of(stack, item) == {
        "on_hand": 2,
        "free": 0,
        "reserved": {changed: 2},
    }

    response = await post_return(
        stack,
        {
            "kind": "engineering_change",
            "order_no": changed,
            "reason": "DCN-7: two bolts fewer per frame",
            "lines": [{"item": item, "qty": 3}],
        },
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["return_no"].startswith("RT-") and body["kind"] == "engineering_change"
    (line,) = body["lines"]
    assert (D(line["unreserved"]), D(line["returned"])) == (2, 1)
    assert [(t["lot_no"], D(t["qty"])) for t in line["lots"]] == [(lot.lot_no, 1)]
    # The freed stock goes to the other order short of it, not back to the changed one.
    assert {o: {i: D(q) for i, q in per.items()} for o, per in body["allocated"].items()} == {
        waiting: {item: D(2)}
    }

    assert await stock_of(stack, item) == {"on_hand": 3, "free": 1, "reserved": {waiting: 2}}
    assert await holding(engine, changed, item) == (3, 3)
    assert await lot_left(engine, lot.lot_no, item) == 3
    view = await get(stack, f"/orders/{changed}", "ops")
    (event,) = [e for e in view["timeline"] if e["kind"] == "material_return"]
    assert body["return_no"] in event["summary"] and event["actor"] == "wh-zhao"

    # The lot's genealogy shows the unit coming back from the order.
    trace = await get(stack, "/warehouse/trace", "quality", lot=lot.lot_no, item=item)
    (use,) = trace["lots"][0]["items"][0]["orders"]
    assert (D(use["picked"]), D(use["returned"])) == (4, 1)
    back = await get(stack, f"/orders/{changed}/trace", "quality")
    assert [(t["lot_no"], D(t["qty"])) for t in back["items"][0]["lots"]] == [(lot.lot_no, 3)]

    # More than the order holds: refused, naming the item and what the order holds.
    before = (await stock_of(stack, item), await movement_count(engine, item))
    over = await post_return(
        stack,
        {
            "kind": "engineering_change",
            "order_no": changed,
            "reason": "DCN-8",
            "lines": [{"item": item, "qty": 4}],
        },
    )
    assert over.status_code == 422, over.text
    assert over.json()["error"] == "return_exceeds_holding"
    assert item in over.json()["detail"] and "holds 3" in over.json()["detail"]
    assert (await stock_of(stack, item), await movement_count(engine, item)) == before
    assert await holding(engine, changed, item) == (3, 3)


async def test_leftover_goes_back_into_the_lots_it_was_picked_from_and_a_bad_line_refuses_all(
    stack: Stack, engine: AsyncEngine
) -> None:
    item, other_item = f"CABLE-{sfx()}", f"LUG-{sfx()}"
    order_no = await create_order(stack)
    async with session_scope(engine) as session:
        first = await received_lot(session, item, received=3, at=hours(0))
        second = await received_lot(session, item, received=5, at=hours(1))
        lugs = await received_lot(session, other_item, received=4, at=hours(1))
        for what, qty in ((item, 5), (other_item, 4)):
            await reserve(session, order_no=order_no, item=what, qty=D(qty), by="mrp", at=hours(2))
        await pick(session, order_no, item, first.lot_no, 3, hours(3))
        await pick(session, order_no, item, second.lot_no, 2, hours(4))
        await pick(session, order_no, other_item, lugs.lot_no, 2, hours(4))

    # A valid line and one returning more than was picked: nothing at all is booked.
    before = [
        (await stock_of(stack, what), await movement_count(engine, what))
        for what in (item, other_item)
    ]
    refused = await post_return(
        stack,
        {
            "kind": "leftover",
            "order_no": order_no,
            "reason": "unused after assembly",
            "lines": [{"item": item, "qty": 1}, {"item": other_item, "qty": 3}],
        },
    )
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"] == "return_exceeds_picked"
    assert other_item in refused.json()["detail"] and "picked 2" in refused.json()["detail"]
    after = [
        (await stock_of(stack, what), await movement_count(engine, what))
        for what in (item, other_item)
    ]
    assert after == before
    assert await holding(engine, order_no, item) == (5, 5)

    for line, error in (
        ({"item": item, "qty": 1, "lot_no": f"IL-{sfx()}"}, "unknown_lot"),
        ({"item": item, "qty": 3, "lot_no": second.lot_no}, "return_exceeds_lot"),
    ):
        wrong_lot = await post_return(
            stack,
            {"kind": "leftover", "order_no": order_no, "reason": "unused", "lines": [line]},
        )
        assert wrong_lot.status_code == 422, wrong_lot.text
        assert wrong_lot.json()["error"] == error
    assert await stock_of(stack, item) == before[0][0]

    # Four back: the two of the lot picked last, then two of the first.
    response = await post_return(
        stack,
        {
            "kind": "leftover",
            "order_no": order_no,
            "reason": "unused after assembly",
            "lines": [{"item": item, "qty": 4}],
        },
    )
    assert response.status_code == 201, response.text
    (line,) = response.json()["lines"]
    assert (D(line["unreserved"]), D(line["returned"])) == (0, 4)
    assert [(t["lot_no"], D(t["qty"])) for t in line["lots"]] == [
        (second.lot_no, 2),
        (first.lot_no, 2),
    ]
    assert await stock_of(stack, item) == {"on_hand": 7, "free": 7, "reserved": {}}
    assert await holding(engine, order_no, item) == (1, 1)
    assert await lot_left(engine, first.lot_no, item) == 2
    assert await lot_left(engine, second.lot_no, item) == 5
    view = await get(stack, f"/orders/{order_no}", "ops")
    assert any(e["kind"] == "material_return" for e in view["timeline"])
    back = await get(stack, f"/orders/{order_no}/trace", "quality")
    entry = next(e for e in back["items"] if e["item"] == item)
    assert D(entry["picked"]) == 1
    assert [(t["lot_no"], D(t["qty"])) for t in entry["lots"]] == [(first.lot_no, 1)]


async def test_aftersales_return_becomes_a_return_lot_that_a_short_order_gets(
    stack: Stack, engine: AsyncEngine
) -> None:
    item = f"RELAY-{sfx()}"
    short_order = await create_order(stack)
    async with session_scope(engine) as session:
        lot = await received_lot(session, item, received=2, at=hours(0))
        session.add(requirement(short_order, item, 6, 5))
        await reserve(session, order_no=short_order, item=item, qty=D(2), by="mrp", at=hours(4))

    response = await post_return(
        stack,
        {
            "kind": "aftersales",
            "reason": "customer sent back spares unused",
            "lines": [{"item": item, "qty": 3}, {"item": item, "qty": 1, "lot_no": lot.lot_no}],
        },
    )
    assert response.status_code == 201, response.text
    body = response.json()
    return_no = body["return_no"]
    assert body["order_no"] is None
    assert [[(t["lot_no"], D(t["qty"])) for t in line["lots"]] for line in body["lines"]] == [
        [(return_no, 3)],
        [(lot.lot_no, 1)],
    ]
    assert {o: {i: D(q) for i, q in per.items()} for o, per in body["allocated"].items()} == {
        short_order: {item: D(4)}
    }
    assert await stock_of(stack, item) == {"on_hand": 6, "free": 0, "reserved": {short_order: 6}}
    assert await lot_left(engine, lot.lot_no, item) == 3

    trace = await get(stack, "/warehouse/trace", "quality", lot=return_no)
    (returned,) = trace["lots"]
    assert returned["source"] == "return" and returned["receipt"] is None
    assert (D(returned["items"][0]["stock"]["qty_in"]), returned["items"][0]["item"]) == (3, item)
    assert [m["kind"] for m in returned["movements"]] == ["returned"]
    assert returned["movements"][0]["detail"]["kind"] == "aftersales"

    # Back from the customer of an order: the order's timeline tells material control.
    from_site = await post_return(
        stack,
        {
            "kind": "aftersales",
            "order_no": short_order,
            "reason": "spare left on site",
            "lines": [{"item": item, "qty": 1}],
        },
    )
    assert from_site.status_code == 201, from_site.text
    assert from_site.json()["allocated"] == {}  # the order already holds all it needs
    view = await get(stack, f"/orders/{short_order}", "ops")
    returns = [e["detail"]["return_no"] for e in view["timeline"] if e["kind"] == "material_return"]
    assert returns == [from_site.json()["return_no"]]
    assert (await stock_of(stack, item))["free"] == 1

    unknown = await post_return(
        stack,
        {"kind": "aftersales", "reason": "?", "lines": [{"item": f"NEVER-{sfx()}", "qty": 1}]},
    )
    assert unknown.status_code == 422 and unknown.json()["error"] == "unknown_item"


async def test_returns_refuse_bad_requests_unknown_orders_and_other_roles(stack: Stack) -> None:
    line = {"item": f"X-{sfx()}", "qty": 1}
    for body in (
        {"kind": "leftover", "reason": "no order", "lines": [line]},
        {"kind": "leftover", "order_no": "SO-1", "reason": "zero", "lines": [{**line, "qty": 0}]},
        {"kind": "scrap", "order_no": "SO-1", "reason": "bad kind", "lines": [line]},
        {"kind": "aftersales", "reason": "   ", "lines": [line]},
        {"kind": "aftersales", "reason": "no lines", "lines": []},
    ):
        response = await post_return(stack, body)
        assert response.status_code == 422, (body, response.text)
        assert response.json()["error"] == "invalid_request"
    missing = await post_return(
        stack, {"kind": "leftover", "order_no": f"SO-{sfx()}", "reason": "r", "lines": [line]}
    )
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"
    for roles in (("quality",), ("ops",), ("production",)):
        refused = await post_return(
            stack, {"kind": "aftersales", "reason": "r", "lines": [line]}, *roles
        )
        assert refused.status_code == 403 and refused.json()["error"] == "forbidden"


async def test_a_retried_return_with_its_idempotency_key_is_booked_once(
    stack: Stack, engine: AsyncEngine
) -> None:
    item = f"GASKET-{sfx()}"
    async with session_scope(engine) as session:
        await received_lot(session, item, received=1, at=hours(0))
    body = {"kind": "aftersales", "reason": "returned by site", "lines": [{"item": item, "qty": 5}]}
    headers = {**stack.token("wh-zhao", "warehouse"), "Idempotency-Key": f"ret-{item}"}
    first = await stack.http.post("/warehouse/returns", json=body, headers=headers)
    again = await stack.http.post("/warehouse/returns", json=body, headers=headers)
    assert first.status_code == again.status_code == 201, (first.text, again.text)
    assert again.json() == first.json()
    assert (await stock_of(stack, item))["on_hand"] == 6

    other = await stack.http.post(
        "/warehouse/returns",
        json={**body, "lines": [{"item": item, "qty": 7}]},
        headers=headers,
    )
    assert other.status_code == 422 and other.json()["error"] == "idempotency_key_reused"
    assert first.json()["return_no"] in other.json()["detail"]
    assert (await stock_of(stack, item))["on_hand"] == 6
