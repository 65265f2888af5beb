"""The whole system as `make run` starts it, driven over HTTP only: intake to `production`.

A two-level BOM, a late supplier, a partial rejection with its NCR and the supplier's
replacement, picking, and the order's trace back to every supplier lot. The picking and
completeness leads are set longer than the plan so both start at once (in real time a test
cannot wait for days); everything else runs on the defaults `make run` uses.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest

from shared.auth import mint_token
from shared.settings import Settings
from tests.e2e.test_stack import (
    TASK_TIMEOUT,
    Desk,
    Runner,
    _desks,
    _drive_to_engineering,
)

pytestmark = pytest.mark.e2e

BOM = [
    {"item": "FEEDER-900", "qty_per": 1, "make_or_buy": "make"},
    {"item": "FRAME-900", "parent": "FEEDER-900", "qty_per": 1, "make_or_buy": "make"},
    {
        "item": "PLATE-8MM",
        "parent": "FRAME-900",
        "qty_per": 4,
        "make_or_buy": "buy",
        "supplier": "Baosteel",
        "lead_days": 10,
    },
    {
        "item": "LOADCELL-50K",
        "parent": "FEEDER-900",
        "qty_per": 2,
        "make_or_buy": "buy",
        "supplier": "HBM",
        "lead_days": 40,
        "special": True,
    },
]


def _wait_view(
    desk: Desk, order_no: str, ready: Callable[[dict[str, Any]], bool], what: str
) -> dict[str, Any]:
    deadline = time.monotonic() + TASK_TIMEOUT
    view: dict[str, Any] = {}
    while time.monotonic() < deadline:
        view = desk.http.get(f"/orders/{order_no}", headers=desk.headers).json()
        if ready(view):
            return view
        time.sleep(0.05)
    pytest.fail(f"{order_no}: {what} did not happen in {TASK_TIMEOUT:.0f} s; order: {view}")


def _receive(
    desk: Desk, po_no: str, supplier: str, note: str, item: str, qty: int, lot: str
) -> dict[str, Any]:
    response = desk.http.post(
        "/warehouse/receipts",
        json={
            "po_no": po_no,
            "delivery_note_no": note,
            "supplier": supplier,
            "lines": [{"item": item, "qty_noted": qty, "qty_counted": qty, "supplier_lot": lot}],
        },
        headers=desk.headers,
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def _inspect(desk: Desk, order_no: str, lot_no: str, line: dict[str, Any]) -> dict[str, Any]:
    deadline = time.monotonic() + TASK_TIMEOUT
    while time.monotonic() < deadline:
        for task in desk.open_tasks(order_no):
            if (
                task["kind"] == "quality.incoming_inspection"
                and task["context"]["lot_no"] == lot_no
            ):
                return desk.complete(task, {"lines": [line]})
        time.sleep(0.05)
    pytest.fail(f"no incoming inspection for {lot_no}")


def test_make_run_takes_an_order_from_intake_to_production_traceably(runner: Runner) -> None:
    runner.env.update(ORDERFLOW_SLA_PICKING_LEAD="P400D", ORDERFLOW_SLA_MATERIAL_CHECK_LEAD="P400D")
    order_no = f"E2M-{uuid.uuid4().hex[:8].upper()}"
    runner.start()
    settings = Settings(home=runner.home, jwt_key="", jwks_url="")
    with httpx.Client(base_url=runner.api, timeout=30) as http:
        desk = _desks(http, settings)
        engineering, procurement = desk("engineering"), desk("procurement")
        warehouse, quality, planning = desk("warehouse"), desk("quality"), desk("planning")
        division = Desk(
            http,
            "procurement",
            {"Authorization": f"Bearer {mint_token(settings, sub='e2e-vp', roles=['division'])}"},
        )
        ops = Desk(
            http,
            "warehouse",
            {"Authorization": f"Bearer {mint_token(settings, sub='e2e-ops', roles=['ops'])}"},
        )
        _drive_to_engineering(desk, order_no)

        # P3: the two-level BOM and the drawings.
        view = engineering.complete(
            engineering.wait_for("engineering.release_bom", order_no), {"lines": BOM}
        )
        assert view["stage"] == "materials"
        engineering.complete(
            engineering.wait_for("engineering.release_drawings", order_no),
            {"drawings": [{"number": "DWG-900-01", "title": "feeder frame", "rev": "B"}]},
        )
        required = date.fromisoformat(
            next(m["planned"] for m in view["milestones"] if m["name"] == "material_required")
        )

        # P4: plates on time; the special load cells approved by the division, promised late.
        procurement.complete(
            procurement.wait_for("procurement.place_po", order_no),
            {
                "supplier": "Baosteel",
                "promised_date": (required - timedelta(days=7)).isoformat(),
                "po_no": f"PO-{order_no}-P",
            },
        )
        division.complete(
            procurement.wait_for("procurement.special_approval", order_no),
            {"approved": True, "comment": "single-source load cells"},
        )
        late = required + timedelta(days=6)
        view = procurement.complete(
            procurement.wait_for("procurement.place_po", order_no),
            {"supplier": "HBM", "promised_date": late.isoformat(), "po_no": f"PO-{order_no}-L"},
        )
        assert [e["role"] for e in view["escalations"] if e["kind"] == "late_supply"] == [
            "planning"
        ]
        forecast = {m["name"]: m["forecast"] for m in view["milestones"]}
        assert forecast["material_required"] == late.isoformat()
        pos = http.get(
            "/procurement/purchase-orders",
            params={"order_no": order_no},
            headers=procurement.headers,
        ).json()
        assert sorted(po["supplier"] for po in pos) == ["Baosteel", "HBM"]

        # P6: plates qualified; one load cell of four rejected, returned, replaced.
        plates = _receive(
            warehouse, f"PO-{order_no}-P", "Baosteel", f"DN-{order_no}-1", "PLATE-8MM", 8, "BS-1"
        )
        _inspect(
            quality,
            order_no,
            plates["lot_no"],
            {"item": "PLATE-8MM", "qualified_qty": 8, "rejected_qty": 0},
        )
        cells = _receive(
            warehouse, f"PO-{order_no}-L", "HBM", f"DN-{order_no}-2", "LOADCELL-50K", 4, "HBM-7"
        )
        _inspect(
            quality,
            order_no,
            cells["lot_no"],
            {
                "item": "LOADCELL-50K",
                "qualified_qty": 3,
                "rejected_qty": 1,
                "defect": "zero drift out of tolerance",
            },
        )
        quality.complete(
            quality.wait_for("quality.ncr_judgement", order_no),
            {"disposition": "return", "comment": "back to HBM for replacement"},
        )
        view = planning.complete(
            planning.wait_for("planning.ncr_disposition", order_no),
            {"action": "new_arrival", "expected_date": late.isoformat()},
        )
        cell_line = next(m for m in view["materials"] if m["item"] == "LOADCELL-50K")
        assert cell_line["special"] is True and len(cell_line["ncrs"]) == 1
        replacement = _receive(
            warehouse, f"PO-{order_no}-L", "HBM", f"DN-{order_no}-3", "LOADCELL-50K", 1, "HBM-8"
        )
        _inspect(
            quality,
            order_no,
            replacement["lot_no"],
            {"item": "LOADCELL-50K", "qualified_qty": 1, "rejected_qty": 0},
        )

        # P7: pick what the pick lists ask for until the order is in production.
        deadline = time.monotonic() + TASK_TIMEOUT
        while view.get("stage") != "production" and time.monotonic() < deadline:
            picks = [t for t in warehouse.open_tasks(order_no) if t["kind"] == "warehouse.picking"]
            for task in picks:
                lines = [
                    {"item": x["item"], "qty_picked": float(x["qty"])}
                    for x in task["context"]["pick_list"]
                ]
                view = warehouse.complete(task, {"lines": lines})
            if not picks:
                time.sleep(0.05)
                view = http.get(f"/orders/{order_no}", headers=ops.headers).json()
        view = _wait_view(ops, order_no, lambda v: v["stage"] == "production", "production")
        assert all(Decimal(m["picked"]) == Decimal(m["required"]) for m in view["materials"])
        assert any(e["kind"] == "work_order" for e in view["timeline"])

        # Every picked quantity back to its supplier lot.
        trace = http.get(f"/orders/{order_no}/trace", headers=ops.headers)
        assert trace.status_code == 200, trace.text
        assert_traceable(trace.json(), {"PLATE-8MM": {"BS-1"}, "LOADCELL-50K": {"HBM-7", "HBM-8"}})


def assert_traceable(trace: dict[str, Any], supplier_lots: dict[str, set[str]]) -> None:
    """Each item's picks name the supplier lots they came from."""
    assert trace["complete_traceability"] is True, trace
    found: dict[str, set[str]] = {}
    for line in trace["items"]:
        found[line["item"]] = {lot["supplier_lot"] for lot in line["lots"]}
    for item, lots in supplier_lots.items():
        assert found.get(item) == lots, (item, trace)
