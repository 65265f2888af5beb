"""P3 engineering release over HTTP: a broken BOM is refused with its lines named; a sound one
becomes a revision every receiving department reads, grows the item master, and with the
drawings moves the order on to `materials`."""

from __future__ import annotations

import uuid
from typing import Any

from tests.conftest import Stack
from tests.drivers import inbox, order, to_master_plan
from tests.helpers import complete, complete_ok, create_order

BOM = [
    {"item": "CABINET-KYN28", "qty_per": 1, "make_or_buy": "make"},
    {"item": "FRAME-800", "parent": "CABINET-KYN28", "qty_per": 1, "make_or_buy": "make"},
    {
        "item": "VS1-12",
        "parent": "CABINET-KYN28",
        "qty_per": 1,
        "make_or_buy": "buy",
        "supplier": "Chint",
        "lead_days": 30,
        "special": True,
    },
    {
        "item": "BOLT-M8",
        "parent": "FRAME-800",
        "qty_per": 48,
        "make_or_buy": "buy",
        "supplier": "Fastenal",
    },
]
DRAWINGS = {"drawings": [{"number": "DWG-0412-01", "title": "General arrangement", "rev": "B"}]}


async def _to_engineering(stack: Stack) -> str:
    order_no = await create_order(stack)
    await to_master_plan(stack, order_no)
    view = await complete_ok(stack, "planning.master_plan", order_no, {"accept_proposal": True})
    assert view["stage"] == "engineering"
    return order_no


async def _get(stack: Stack, path: str, *roles: str) -> Any:
    response = await stack.http.get(path, headers=stack.token("reader", *roles))
    return response


async def test_broken_bom_is_refused_naming_every_offending_line(flow: Stack) -> None:
    order_no = await _to_engineering(flow)
    broken = [
        *BOM,
        {"item": "HINGE", "parent": "DOOR", "qty_per": 2, "make_or_buy": "make"},
        {"item": "LABEL", "parent": "CABINET-KYN28", "qty_per": 0, "make_or_buy": "buy"},
    ]
    response = await complete(flow, "engineering.release_bom", order_no, {"lines": broken})
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["error"] == "invalid_payload"
    assert "line 5 (HINGE)" in body["detail"]
    assert "line 6 (LABEL)" in body["detail"] and "supplier" in body["detail"]
    assert [t["state"] for t in await inbox(flow, "engineering.release_bom", order_no)] == ["open"]
    missing = await _get(flow, f"/procurement/orders/{order_no}/bom", "procurement")
    assert missing.status_code == 404


async def test_released_bom_reaches_every_receiver_and_the_order_moves_to_materials(
    flow: Stack,
) -> None:
    order_no = await _to_engineering(flow)
    view = await complete_ok(flow, "engineering.release_bom", order_no, {"lines": BOM})
    # MRP runs on the BOM (P4.1): materials work starts while the drawings are still to come.
    assert view["stage"] == "materials"
    assert "engineering.release_drawings" in [t["kind"] for t in view["open_tasks"]]
    actuals = {m["name"]: m["actual"] for m in view["milestones"]}
    assert actuals["bom_release"] is not None and actuals["design_done"] is not None
    released = [e for e in view["timeline"] if e["kind"] == "bom_released"]
    assert len(released) == 1 and released[0]["detail"]["revision"] == 1

    for dept in ("engineering", "procurement", "warehouse", "production", "quality"):
        response = await _get(flow, f"/{dept}/orders/{order_no}/bom", dept)
        assert response.status_code == 200, (dept, response.text)
        bom = response.json()
        assert bom["revision"] == 1 and bom["revisions"] == [1]
        assert [line["item"] for line in bom["lines"]] == [line["item"] for line in BOM]
        special = next(line for line in bom["lines"] if line["item"] == "VS1-12")
        assert special["special"] is True and special["supplier"] == "Chint"
    refused = await _get(flow, f"/procurement/orders/{order_no}/bom", "sales")
    assert refused.status_code == 403

    view = await complete_ok(flow, "engineering.release_drawings", order_no, DRAWINGS)
    assert view["stage"] == "materials"
    assert {m["name"]: m["actual"] for m in view["milestones"]}["drawings_release"] is not None
    for dept in ("production", "warehouse", "quality", "aftersales"):
        response = await _get(flow, f"/{dept}/orders/{order_no}/drawings", dept)
        assert response.status_code == 200, (dept, response.text)
        assert [d["number"] for d in response.json()] == ["DWG-0412-01"]
    basis = await _get(flow, f"/quality/orders/{order_no}/inspection-basis", "quality")
    assert basis.status_code == 200, basis.text
    assert basis.json()["technical_agreement_ref"] == "TA-0412"
    assert [d["number"] for d in basis.json()["drawings"]] == ["DWG-0412-01"]
    assert [i["item"] for i in basis.json()["outsourced_items"]] == ["VS1-12", "BOLT-M8"]
    assert basis.json()["special_items"] == ["VS1-12"]
    final = await order(flow, order_no)
    assert {m["name"]: m["actual"] for m in final["milestones"]}["drawings_release"] is not None


async def test_items_new_to_the_item_master_are_added_once(flow: Stack) -> None:
    # The item master is shared by every order: items of their own keep this test apart.
    suffix = uuid.uuid4().hex[:6]
    renamed = {line["item"]: f"{line['item']}-{suffix}" for line in BOM}
    bom = [
        {**line, "item": renamed[line["item"]], "parent": renamed.get(line.get("parent", ""))}
        for line in BOM
    ]
    first, second = await _to_engineering(flow), await _to_engineering(flow)
    one = await complete_ok(flow, "engineering.release_bom", first, {"lines": bom})
    two = await complete_ok(flow, "engineering.release_bom", second, {"lines": bom})
    new_first = next(e for e in one["timeline"] if e["kind"] == "bom_released")
    new_second = next(e for e in two["timeline"] if e["kind"] == "bom_released")
    assert sorted(new_first["detail"]["new_items"]) == sorted(renamed.values())
    assert new_second["detail"]["new_items"] == []
