"""Receiving, incoming inspection, NCRs, the completeness check and picking (P5-P7) on the
time-skipping server: real workers, real PostgreSQL, the API over real HTTP."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

from temporalio.testing import WorkflowEnvironment

from tests.conftest import Stack
from tests.helpers import (
    MARGIN,
    advance_to,
    complete,
    complete_ok,
    escalations,
    parse_time,
    wait_escalation,
    wait_task,
)
from tests.material_drivers import (
    SETS,
    inbox_tasks,
    inspect,
    milestones,
    open_chases,
    place_orders,
    production_start,
    receive_ok,
    stock,
    to_materials,
    wait_view,
)


async def test_receipt_inspection_and_ncr_then_picking_moves_the_order_to_production(
    flow: Stack, ts_env: WorkflowEnvironment
) -> None:
    suffix = uuid.uuid4().hex[:6]
    bolt, breaker = f"BOLT-{suffix}", f"VS1-{suffix}"
    order_no, view = await to_materials(flow, suffix)
    start = production_start(view)
    required = milestones(view)["material_required"]
    bolts_po, breakers_po = await place_orders(
        flow, order_no, suffix, breaker_promised=required - timedelta(days=2)
    )

    # Two bolts more than the note: refused at the door, the buyer told at once (§6.1).
    receipt = await receive_ok(
        flow,
        bolts_po,
        "Fastenal",
        [{"item": bolt, "qty_noted": 288, "qty_counted": 290, "supplier_lot": "F-77"}],
    )
    (line,) = receipt["lines"]
    assert (Decimal(line["qty_accepted"]), Decimal(line["qty_refused"])) == (288, 2)
    assert "counted 290 against 288" in line["refusal"]
    refused = await wait_escalation(flow, order_no, lambda e: e["kind"] == "delivery_refused")
    assert refused["role"] == "procurement" and bolt in refused["message"]
    assert Decimal((await stock(flow, bolt))["pending_inspection"]) == 288

    await inspect(
        flow, order_no, receipt["lot_no"], [{"item": bolt, "qualified_qty": 288, "rejected_qty": 0}]
    )
    bolts = await stock(flow, bolt)
    assert Decimal(bolts["on_hand"]) == 288 and Decimal(bolts["pending_inspection"]) == 0
    assert {k: Decimal(v) for k, v in bolts["reserved"].items()} == {order_no: 288}

    # One breaker of six rejected: an NCR for quality, and the order is short of it (§5.4).
    receipt = await receive_ok(
        flow,
        breakers_po,
        "Chint",
        [{"item": breaker, "qty_noted": SETS, "qty_counted": SETS, "supplier_lot": "C-11"}],
    )
    answer = await complete(
        flow,
        "quality.incoming_inspection",
        order_no,
        {"lines": [{"item": breaker, "qualified_qty": 5, "rejected_qty": 1}]},
        roles=("quality",),
    )
    assert answer.status_code == 422 and "defect" in answer.json()["detail"]
    await inspect(
        flow,
        order_no,
        receipt["lot_no"],
        [{"item": breaker, "qualified_qty": 5, "rejected_qty": 1, "defect": "cracked housing"}],
    )
    judgement = await wait_task(flow, "quality.ncr_judgement", order_no)
    disposition = await wait_task(flow, "planning.ncr_disposition", order_no)
    assert disposition["context"]["missing"] == "1.0000"
    await complete_ok(
        flow,
        "quality.ncr_judgement",
        order_no,
        {"disposition": "return", "comment": "supplier replaces"},
    )
    view = await complete_ok(
        flow,
        "planning.ncr_disposition",
        order_no,
        {"action": "new_arrival", "expected_date": (required - timedelta(days=1)).isoformat()},
    )
    material = {line["item"]: line for line in view["materials"]}
    assert material[breaker]["special"] is True and material[bolt]["special"] is False
    assert Decimal(material[breaker]["missing"]) == 1 and Decimal(material[bolt]["missing"]) == 0
    assert material[breaker]["ncrs"] == [
        f"{judgement['context']['ncr_no']}: 1.0000 cracked housing (return)"
    ]
    ncr_events = [e for e in view["timeline"] if e["kind"] == "ncr"]
    assert any("release pass RP-" in e["summary"] for e in ncr_events), ncr_events
    assert judgement["context"]["ncr_no"].startswith("NCR-")

    # The supplier's replacement: the returned breaker is owed again on the same PO.
    receipt = await receive_ok(
        flow,
        breakers_po,
        "Chint",
        [{"item": breaker, "qty_noted": 1, "qty_counted": 1, "supplier_lot": "C-12"}],
    )
    assert Decimal(receipt["lines"][0]["qty_accepted"]) == 1
    await inspect(
        flow,
        order_no,
        receipt["lot_no"],
        [{"item": breaker, "qualified_qty": 1, "rejected_qty": 0}],
    )

    # Three days ahead the check finds everything reserved: no chase, no shortage warning.
    await advance_to(ts_env, start - timedelta(days=3) + MARGIN)
    await wait_view(
        flow,
        order_no,
        lambda v: any(e["kind"] == "material_complete" for e in v["timeline"]),
        "material_complete event",
    )
    assert not [e for e in await escalations(flow, order_no) if e["kind"] == "material_shortage"]
    assert not await inbox_tasks(flow, "procurement", order_no, "procurement.chase_supply")
    await advance_to(ts_env, start - timedelta(hours=4) - MARGIN)
    assert not await inbox_tasks(flow, "warehouse", order_no, "warehouse.picking")

    # Half a working day ahead the pick list opens, due at the production start (P7.1).
    await advance_to(ts_env, start - timedelta(hours=4) + MARGIN)
    picking = await wait_task(flow, "warehouse.picking", order_no)
    assert parse_time(picking["due_at"]) == start
    listed = {x["item"]: Decimal(x["qty"]) for x in picking["context"]["pick_list"]}
    assert listed == {bolt: 288, breaker: SETS}
    over = await complete(
        flow, "warehouse.picking", order_no, {"lines": [{"item": bolt, "qty_picked": 300}]}
    )
    assert over.status_code == 422 and "only 288" in over.json()["detail"]
    view = await complete_ok(
        flow,
        "warehouse.picking",
        order_no,
        {"lines": [{"item": bolt, "qty_picked": 288}, {"item": breaker, "qty_picked": SETS}]},
    )
    assert view["stage"] == "production"
    assert any(e["kind"] == "work_order" for e in view["timeline"])
    bolts = await stock(flow, bolt)
    assert Decimal(bolts["on_hand"]) == 0 and bolts["reserved"] == {}


async def test_three_day_check_chases_a_shortage_until_a_receipt_completes_it(
    flow: Stack, ts_env: WorkflowEnvironment
) -> None:
    suffix = uuid.uuid4().hex[:6]
    bolt, breaker = f"BOLT-{suffix}", f"VS1-{suffix}"
    order_no, view = await to_materials(flow, suffix, drawings=False)
    start = production_start(view)
    required = milestones(view)["material_required"]
    bolts_po, breakers_po = await place_orders(flow, order_no, suffix, breaker_promised=required)

    # Production start - 3 days: nothing received, drawings not released.
    await advance_to(ts_env, start - timedelta(days=3) + MARGIN)
    shortage = await wait_escalation(flow, order_no, lambda e: e["kind"] == "material_shortage")
    assert shortage["role"] == "planning" and "(special)" in shortage["message"]
    drawings = await wait_escalation(flow, order_no, lambda e: e["kind"] == "drawings_late")
    assert drawings["role"] == "head:engineering" and drawings["level"] == 1
    chases = await inbox_tasks(flow, "procurement", order_no, "procurement.chase_supply")
    assert sorted(t["context"]["item"] for t in chases) == sorted([bolt, breaker])

    # The bolts arrive and wait for quality: 8 h to head:quality, 16 h to the division.
    receipt = await receive_ok(
        flow, bolts_po, "Fastenal", [{"item": bolt, "qty_noted": 288, "qty_counted": 288}]
    )
    inspection = await wait_task(flow, "quality.incoming_inspection", order_no)
    opened = parse_time(inspection["created_at"])
    assert parse_time(inspection["due_at"]) == opened + timedelta(hours=8)
    await advance_to(ts_env, opened + timedelta(hours=8) + MARGIN)
    first = await wait_escalation(
        flow, order_no, lambda e: e["kind"] == "task_overdue" and e["level"] == 1
    )
    assert first["role"] == "head:quality"
    await advance_to(ts_env, opened + timedelta(hours=16) + MARGIN)
    second = await wait_escalation(
        flow, order_no, lambda e: e["kind"] == "task_overdue" and e["level"] == 2
    )
    assert second["role"] == "division"

    await inspect(
        flow, order_no, receipt["lot_no"], [{"item": bolt, "qualified_qty": 288, "rejected_qty": 0}]
    )
    # Still short of breakers: the next day's check keeps the breaker chase open.
    assert await open_chases(flow, order_no, [breaker]) == [breaker]

    receipt = await receive_ok(
        flow, breakers_po, "Chint", [{"item": breaker, "qty_noted": SETS, "qty_counted": SETS}]
    )
    await inspect(
        flow,
        order_no,
        receipt["lot_no"],
        [{"item": breaker, "qualified_qty": SETS, "rejected_qty": 0}],
    )
    assert await open_chases(flow, order_no, []) == []
    await wait_view(
        flow,
        order_no,
        lambda v: any(e["kind"] == "material_complete" for e in v["timeline"]),
        "material_complete event",
    )
    withdrawn = await inbox_tasks(
        flow, "procurement", order_no, "procurement.chase_supply", state="withdrawn"
    )
    assert sorted(t["context"]["item"] for t in withdrawn) == sorted([bolt, breaker])

    # The picking timer: eight bolts are not on the shelf. The short pick is written off and
    # reported to planning and procurement; the order chases the eight like any shortage.
    await advance_to(ts_env, start - timedelta(hours=4) + MARGIN)
    view = await complete_ok(
        flow,
        "warehouse.picking",
        order_no,
        {"lines": [{"item": bolt, "qty_picked": 280}, {"item": breaker, "qty_picked": SETS}]},
    )
    assert view["stage"] == "materials"
    short = [e for e in view["escalations"] if e["kind"] == "short_pick"]
    assert sorted(e["role"] for e in short) == ["planning", "procurement"]
    assert "8 " + bolt in short[0]["message"].replace(".0000", "")
    bolts = await stock(flow, bolt)
    assert Decimal(bolts["on_hand"]) == 0 and bolts["reserved"] == {}
    material = {line["item"]: line for line in view["materials"]}
    assert Decimal(material[bolt]["missing"]) == 8 and Decimal(material[bolt]["picked"]) == 280
    assert await open_chases(flow, order_no, [bolt]) == [bolt]

    # Eight bolts come back from a customer: reserved for the order, picking reopens for them.
    returned = await flow.http.post(
        "/warehouse/returns",
        json={
            "kind": "aftersales",
            "reason": "unused spares from site",
            "lines": [{"item": bolt, "qty": 8}],
        },
        headers=flow.token("wang", "warehouse"),
    )
    assert returned.status_code == 201, returned.text
    again = await wait_task(flow, "warehouse.picking", order_no)
    assert [(x["item"], Decimal(x["qty"])) for x in again["context"]["pick_list"]] == [(bolt, 8)]
    view = await complete_ok(
        flow, "warehouse.picking", order_no, {"lines": [{"item": bolt, "qty_picked": 8}]}
    )
    assert view["stage"] == "production"
    assert await open_chases(flow, order_no, []) == []
