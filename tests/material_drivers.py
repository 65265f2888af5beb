"""Drivers of the materials phases (P3-P7) shared by the materials tests: a two-level BOM,
purchase orders placed for it, receipts and inspections over HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import httpx

from tests.conftest import Stack
from tests.drivers import to_master_plan
from tests.helpers import MARGIN, advance_to, complete_ok, create_order, wait_task

SETS = 6  # the order_body's six KYN28-12 sets

# §8.4: the component certificates and manuals production hands to quality during production;
# final inspection waits for them (`production.hand_over_documents`).
DOCUMENTS: dict[str, Any] = {
    "documents": [
        {"kind": "certificate", "item": "VS1 breaker", "ref": "CERT-VS1-1"},
        {"kind": "manual", "item": "KYN28-12", "ref": "MAN-KYN28-12"},
    ]
}


def two_level_bom(suffix: str) -> list[dict[str, Any]]:
    """KYN28-12 ← frame (made) ← 48 bolts (bought); KYN28-12 ← breaker (bought, special)."""
    return [
        {"item": "KYN28-12", "qty_per": 1, "make_or_buy": "make"},
        {"item": f"FRAME-{suffix}", "parent": "KYN28-12", "qty_per": 1, "make_or_buy": "make"},
        {
            "item": f"VS1-{suffix}",
            "parent": "KYN28-12",
            "qty_per": 1,
            "make_or_buy": "buy",
            "supplier": "Chint",
            "lead_days": 30,
            "special": True,
        },
        {
            "item": f"BOLT-{suffix}",
            "parent": f"FRAME-{suffix}",
            "qty_per": 48,
            "make_or_buy": "buy",
            "supplier": "Fastenal",
        },
    ]


def milestones(view: dict[str, Any]) -> dict[str, date]:
    return {m["name"]: date.fromisoformat(m["planned"]) for m in view["milestones"]}


def production_start(view: dict[str, Any], shift_start_hour: int = 8) -> datetime:
    day = milestones(view)["production_start"]
    return datetime.combine(day, time(hour=shift_start_hour), tzinfo=UTC)


async def to_materials(
    stack: Stack,
    suffix: str,
    *,
    drawings: bool = True,
    special_operations: list[str] | None = None,
) -> tuple[str, dict[str, Any]]:
    """An order through review and plan, its two-level BOM (and drawings) released."""
    order_no = await create_order(stack)
    await to_master_plan(stack, order_no)
    await complete_ok(stack, "planning.master_plan", order_no, {"accept_proposal": True})
    bom: dict[str, Any] = {"lines": two_level_bom(suffix)}
    if special_operations:
        bom["special_operations"] = special_operations
    view = await complete_ok(stack, "engineering.release_bom", order_no, bom)
    if drawings:
        view = await complete_ok(
            stack,
            "engineering.release_drawings",
            order_no,
            {"drawings": [{"number": f"DWG-{suffix}", "title": "general arrangement", "rev": "A"}]},
        )
    assert view["stage"] == "materials", view["stage"]
    return order_no, view


async def place_orders(
    stack: Stack,
    order_no: str,
    suffix: str,
    *,
    breaker_promised: date,
    prices: tuple[Decimal, Decimal] | None = None,
) -> tuple[str, str]:
    """Approve the special breaker and place both POs, with (bolt, breaker) unit prices when
    given; returns (bolt PO, breaker PO)."""
    bolts_po, breakers_po = f"PO-B-{suffix}", f"PO-V-{suffix}"
    required = milestones(await order_view(stack, order_no))["material_required"]
    bolt_price, breaker_price = ({"unit_price": float(p)} for p in prices) if prices else ({}, {})
    await complete_ok(
        stack,
        "procurement.place_po",
        order_no,
        {
            "supplier": "Fastenal",
            "promised_date": (required - timedelta(days=5)).isoformat(),
            "po_no": bolts_po,
            **bolt_price,
        },
    )
    await complete_ok(
        stack,
        "procurement.special_approval",
        order_no,
        {"approved": True, "comment": "single source"},
        roles=("division",),
    )
    await complete_ok(
        stack,
        "procurement.place_po",
        order_no,
        {
            "supplier": "Chint",
            "promised_date": breaker_promised.isoformat(),
            "po_no": breakers_po,
            **breaker_price,
        },
    )
    return bolts_po, breakers_po


async def receive(
    stack: Stack,
    po_no: str,
    supplier: str,
    lines: list[dict[str, Any]],
    *,
    note: str | None = None,
) -> httpx.Response:
    return await stack.http.post(
        "/warehouse/receipts",
        json={
            "po_no": po_no,
            "delivery_note_no": note or f"DN-{po_no}-{len(lines)}-{id(lines)}",
            "supplier": supplier,
            "lines": lines,
        },
        headers=stack.token("wang", "warehouse"),
    )


async def receive_ok(stack: Stack, *args: Any, **kwargs: Any) -> dict[str, Any]:
    response = await receive(stack, *args, **kwargs)
    # 201 booked; 200 only for a receipt a retrying client resent after its answer was lost.
    resent = response.status_code == 200 and response.extensions.get("resent")
    assert response.status_code == 201 or resent, response.text
    return dict(response.json())


async def inspect(
    stack: Stack, order_no: str, lot_no: str, lines: list[dict[str, Any]]
) -> dict[str, Any]:
    """Complete the lot's incoming inspection (the quality inbox lists it under the order)."""
    task = await wait_task(stack, "quality.incoming_inspection", order_no)
    while task["context"]["lot_no"] != lot_no:  # an earlier lot of the order still open
        tasks = await inbox_tasks(stack, "quality", order_no, "quality.incoming_inspection")
        task = next(t for t in tasks if t["context"]["lot_no"] == lot_no)
    response = await stack.http.post(
        f"/quality/tasks/{task['task_id']}/complete",
        json={"lines": lines},
        headers=stack.token("qa-li", "quality"),
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


async def inbox_tasks(
    stack: Stack, dept: str, order_no: str, kind: str, state: str = "open"
) -> list[dict[str, Any]]:
    response = await stack.http.get(
        f"/{dept}/tasks",
        params={"order_no": order_no, "kind": kind, "state": state},
        headers=stack.token("ops-bot", "ops"),
    )
    assert response.status_code == 200, response.text
    return list(response.json())


async def order_view(stack: Stack, order_no: str) -> dict[str, Any]:
    response = await stack.http.get(f"/orders/{order_no}", headers=stack.token("ops-bot", "ops"))
    assert response.status_code == 200, response.text
    return dict(response.json())


async def stock(stack: Stack, item: str) -> dict[str, Any]:
    response = await stack.http.get(
        "/warehouse/stock", params={"item": item}, headers=stack.token("ops-bot", "ops")
    )
    assert response.status_code == 200, response.text
    (row,) = response.json()
    return dict(row)


async def open_chases(stack: Stack, order_no: str, expected: list[str]) -> list[str]:
    """The items of the order's open chase tasks once they are `expected` (the re-check runs
    when the reservation signal reaches the order, just after the inspection answers)."""
    deadline = asyncio.get_running_loop().time() + 15
    while True:
        tasks = await inbox_tasks(stack, "procurement", order_no, "procurement.chase_supply")
        items = sorted(t["context"]["item"] for t in tasks)
        if items == sorted(expected) or asyncio.get_running_loop().time() > deadline:
            return items
        await asyncio.sleep(0.05)


async def wait_view(
    stack: Stack, order_no: str, ready: Callable[[dict[str, Any]], bool], what: str
) -> dict[str, Any]:
    """The order view once `ready` holds (work a timer started may still be running)."""
    deadline = asyncio.get_running_loop().time() + 15
    while True:
        view = await order_view(stack, order_no)
        if ready(view):
            return view
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{order_no}: no {what} in {view}")
        await asyncio.sleep(0.05)


async def receive_in_full(
    stack: Stack, order_no: str, suffix: str, bolts_po: str, breakers_po: str
) -> None:
    """Both POs of `place_orders` delivered in full and passed by incoming inspection."""
    for po_no, supplier, item, qty in (
        (bolts_po, "Fastenal", f"BOLT-{suffix}", 288),
        (breakers_po, "Chint", f"VS1-{suffix}", SETS),
    ):
        receipt = await receive_ok(
            stack, po_no, supplier, [{"item": item, "qty_noted": qty, "qty_counted": qty}]
        )
        await inspect(
            stack,
            order_no,
            receipt["lot_no"],
            [{"item": item, "qualified_qty": qty, "rejected_qty": 0}],
        )


async def to_production(
    stack: Stack, ts_env: Any, suffix: str, *, special_operations: list[str] | None = None
) -> tuple[str, dict[str, Any]]:
    """An order with its two-level BOM bought, received, inspected and picked: in production,
    its clock at the picking time. Returns the order and its view."""
    order_no, view = await to_materials(stack, suffix, special_operations=special_operations)
    return order_no, await buy_and_pick(stack, ts_env, order_no, suffix, view)


async def buy_and_pick(
    stack: Stack, ts_env: Any, order_no: str, suffix: str, view: dict[str, Any]
) -> dict[str, Any]:
    """An order in materials (`to_materials`): both POs placed, delivered, passed and, at the
    picking time, picked; returns the view of the order in production."""
    required = milestones(view)["material_required"]
    bolts_po, breakers_po = await place_orders(stack, order_no, suffix, breaker_promised=required)
    await receive_in_full(stack, order_no, suffix, bolts_po, breakers_po)
    bolt, breaker = f"BOLT-{suffix}", f"VS1-{suffix}"
    await advance_to(ts_env, production_start(view) - timedelta(hours=4) + MARGIN)
    # §8.1: the team leader found the drawings clear (the check opened 3 days before the start).
    await complete_ok(stack, "production.drawing_check", order_no, {"clear": True})
    view = await complete_ok(
        stack,
        "warehouse.picking",
        order_no,
        {"lines": [{"item": bolt, "qty_picked": 288}, {"item": breaker, "qty_picked": SETS}]},
    )
    assert view["stage"] == "production", view["stage"]
    return view


# A passed sales.shipping_check: the address re-confirmed with the customer, packaging fit.
SHIPPING_CHECKED: dict[str, Any] = {
    "delivery_address": "No. 8 Substation Road, Jiangning, Nanjing",
    "consignee": "Wang Wei",
    "contact_phone": "+86 25 5555 0101",
    "address_confirmed": True,
    "packaging": "wooden crate, moisture barrier",
    "packaging_ok": True,
}


async def ship(stack: Stack, order_no: str, tracking_no: str = "DP-1") -> dict[str, Any]:
    """The shipping check passed, then `sales.ship` by road; the view ship answers with."""
    await complete_ok(stack, "sales.shipping_check", order_no, SHIPPING_CHECKED)
    return await complete_ok(
        stack,
        "sales.ship",
        order_no,
        {"carrier": "Deppon", "mode": "road", "tracking_no": tracking_no},
    )


async def assemble_and_close(stack: Stack, ts_env: Any, order_no: str) -> dict[str, Any]:
    """An order in assembly (its card open) through the appearance check (nothing found), the
    documents handed to quality, a one-operation card, a passed final
    inspection, shipping, delivery, commissioning, settlement and evaluation; returns the
    view the evaluation answers with."""
    card = {"operations": [{"name": "frame assembly", "signed_by": "op-1"}]}
    await complete_ok(stack, "production.appearance_check", order_no, {"findings": []})
    await complete_ok(stack, "production.hand_over_documents", order_no, DOCUMENTS)
    await complete_ok(stack, "production.assembly", order_no, card)
    await complete_ok(stack, "production.submit_inspection", order_no, {"missing_parts": []})
    await complete_ok(stack, "quality.final_inspection", order_no, {"passed": True})
    await ship(stack, order_no)
    today = (await ts_env.get_current_time()).date().isoformat()
    await complete_ok(stack, "sales.delivery_confirmed", order_no, {"received_on": today})
    await complete_ok(
        stack,
        "aftersales.commissioning",
        order_no,
        {"installed": True, "trained": True, "power_on_ok": True, "notes": "accepted"},
    )
    await complete_ok(
        stack, "sales.settlement", order_no, {"invoice_no": "INV-1", "amount_paid": 480000}
    )
    return await complete_ok(
        stack, "sales.evaluation", order_no, {"satisfaction": 5, "lessons": "none"}
    )
