"""The whole system as `make run` starts it, driven over HTTP only: intake to `closed`.

The planner plans production to start today (the shift starting at 00:00 UTC), so every
clock of the materials and production phases is already due and the test runs in real time;
on the way, production reports a design problem that engineering answers with a DCN, and the
first final inspection fails.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest

from shared.auth import mint_token
from shared.settings import Settings
from tests.e2e.test_materials_e2e import BOM, _inspect, _receive, _wait_view
from tests.e2e.test_stack import TASK_TIMEOUT, Desk, Runner, _desks, _drive_to_master_plan
from tests.material_drivers import DOCUMENTS

pytestmark = pytest.mark.e2e


def _desk_as(http: httpx.Client, settings: Settings, department: str, role: str) -> Desk:
    token = mint_token(settings, sub=f"e2e-{role}", roles=[role])
    return Desk(http, department, {"Authorization": f"Bearer {token}"})


def _pick_until_production(warehouse: Desk, ops: Desk, order_no: str) -> dict[str, Any]:
    """Complete each pick list as it opens (it reopens as material arrives) until the order is
    in production."""
    deadline = time.monotonic() + TASK_TIMEOUT
    view: dict[str, Any] = {}
    while time.monotonic() < deadline:
        for task in [t for t in warehouse.open_tasks(order_no) if t["kind"] == "warehouse.picking"]:
            lines = [
                {"item": x["item"], "qty_picked": float(x["qty"])}
                for x in task["context"]["pick_list"]
            ]
            warehouse.complete(task, {"lines": lines})
        view = ops.http.get(f"/orders/{order_no}", headers=ops.headers).json()
        if view["stage"] == "production":
            return view
        time.sleep(0.05)
    pytest.fail(f"{order_no} did not reach production: {view}")


def _view(http: httpx.Client, desk: Desk, order_no: str) -> dict[str, Any]:
    response = http.get(f"/orders/{order_no}", headers=desk.headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_make_run_takes_an_order_from_intake_to_closed(runner: Runner) -> None:
    # The walk plans production for today (UTC): here every hour of every day is working
    # time in UTC, so a run at night, on a weekend or on a public holiday walks the same path
    # as one on a weekday afternoon.
    runner.env.update(
        ORDERFLOW_SHIFT_START_HOUR="0",
        ORDERFLOW_TIMEZONE="UTC",
        ORDERFLOW_SHIFTS="00:00-24:00",
        ORDERFLOW_WORK_WEEK="MON-SUN",
        ORDERFLOW_HOLIDAYS_COUNTRY="none",
    )
    order_no = f"E2C-{uuid.uuid4().hex[:8].upper()}"
    runner.start()
    settings = Settings(home=runner.home, jwt_key="", jwks_url="")
    today = datetime.now(UTC).date()
    with httpx.Client(base_url=runner.api, timeout=30) as http:
        desk = _desks(http, settings)
        engineering, procurement, warehouse = (
            desk("engineering"),
            desk("procurement"),
            desk("warehouse"),
        )
        quality, planning, production = desk("quality"), desk("planning"), desk("production")
        sales, aftersales = desk("sales"), desk("aftersales")
        division = _desk_as(http, settings, "procurement", "division")
        ops = _desk_as(http, settings, "warehouse", "ops")

        # P1-P2: review, then a plan that starts production today with two more crews.
        plan = _drive_to_master_plan(desk, order_no)
        milestones = {
            name: today.isoformat()
            for name in (
                "design_done",
                "bom_release",
                "drawings_release",
                "material_required",
                "production_start",
            )
        }
        milestones |= {
            "production_end": (today + timedelta(days=3)).isoformat(),
            "final_inspection": (today + timedelta(days=4)).isoformat(),
            "ship": (today + timedelta(days=5)).isoformat(),
        }
        planning.complete(plan, {"milestones": milestones, "added_manpower": 2})

        # The customer moves delivery two weeks later, in writing: in effect at once.
        due = date.fromisoformat(_view(http, ops, order_no)["due_date"])
        later = {
            "kind": "date",
            "detail": "site handover moved",
            "new_date": (due + timedelta(days=14)).isoformat(),
        }
        refused = http.post(f"/sales/orders/{order_no}/changes", json=later, headers=sales.headers)
        assert refused.status_code == 422, refused.text
        assert refused.json()["error"] == "customer_confirmation_required"
        changed = http.post(
            f"/sales/orders/{order_no}/changes",
            json={**later, "customer_confirmation_ref": "FAX-E2C-1"},
            headers=sales.headers,
        )
        assert changed.status_code == 200 and changed.json()["state"] == "applied", changed.text
        view = _view(http, ops, order_no)
        assert view["due_date"] == later["new_date"] and view["plan"]["revision"] == 2
        assert [c["state"] for c in view["changes"]] == ["applied"]

        # P3-P7: BOM with a special process, drawings, POs, receipts, inspection, picking.
        engineering.complete(
            engineering.wait_for("engineering.release_bom", order_no),
            {"lines": BOM, "special_operations": ["load cell calibration"]},
        )
        engineering.complete(
            engineering.wait_for("engineering.release_drawings", order_no),
            {"drawings": [{"number": "DWG-900-01", "title": "feeder frame", "rev": "B"}]},
        )
        promised = (today + timedelta(days=1)).isoformat()
        procurement.complete(
            procurement.wait_for("procurement.place_po", order_no),
            {
                "supplier": "Baosteel",
                "promised_date": promised,
                "po_no": f"PO-{order_no}-P",
                "unit_price": 310.0,
            },
        )
        division.complete(
            procurement.wait_for("procurement.special_approval", order_no),
            {"approved": True, "comment": "single source"},
        )
        procurement.complete(
            procurement.wait_for("procurement.place_po", order_no),
            {
                "supplier": "HBM",
                "promised_date": promised,
                "po_no": f"PO-{order_no}-L",
                "unit_price": 2150.0,
            },
        )
        for po, supplier, item, qty, lot in (
            ("P", "Baosteel", "PLATE-8MM", 8, "BS-9"),
            ("L", "HBM", "LOADCELL-50K", 4, "HBM-9"),
        ):
            receipt = _receive(
                warehouse, f"PO-{order_no}-{po}", supplier, f"DN-{order_no}-{po}", item, qty, lot
            )
            _inspect(
                quality,
                order_no,
                receipt["lot_no"],
                {"item": item, "qualified_qty": qty, "rejected_qty": 0},
            )
        _pick_until_production(warehouse, ops, order_no)

        # P8: a design problem in assembly, confirmed, answered by a DCN.
        reported = http.post(
            f"/production/orders/{order_no}/issues",
            json={
                "kind": "design_problem",
                "description": "load cell bracket clashes with the belt guard",
                "items": [{"item": "LOADCELL-50K", "qty": 1}],
            },
            headers=production.headers,
        )
        assert reported.status_code == 201, reported.text
        issue_no = reported.json()["issue_no"]
        production.complete(
            production.wait_for("production.confirm_issue", order_no),
            {"confirmed": True, "comment": "bracket must move 40 mm"},
        )
        engineering.complete(
            engineering.wait_for("engineering.design_change", order_no),
            {
                "dcn_no": f"DCN-{order_no}-1",
                "summary": "bracket moved 40 mm; spacer added",
                "bom_changes": [
                    {
                        "item": "SPACER-40",
                        "parent": "FEEDER-900",
                        "qty_per": 2,
                        "make_or_buy": "buy",
                        "supplier": "Misumi",
                    }
                ],
            },
        )
        view = _wait_view(
            ops,
            order_no,
            lambda v: any(
                i["issue_no"] == issue_no and i["state"] == "closed" for i in v["issues"]
            ),
            "the design problem closing",
        )
        resolution = next(i for i in view["issues"] if i["issue_no"] == issue_no)["resolution"]
        assert f"DCN-{order_no}-1" in resolution
        # The DCN's new part is an engineering-change purchase: the division approves it.
        division.complete(
            procurement.wait_for("procurement.special_approval", order_no),
            {"approved": True, "comment": "DCN spacer"},
        )
        procurement.complete(
            procurement.wait_for("procurement.place_po", order_no),
            {
                "supplier": "Misumi",
                "promised_date": promised,
                "unit_price": 12.5,
                "po_no": f"PO-{order_no}-S",
            },
        )
        # The spacers come in, pass inspection and are picked for production.
        receipt = _receive(
            warehouse, f"PO-{order_no}-S", "Misumi", f"DN-{order_no}-S", "SPACER-40", 4, "MI-1"
        )
        _inspect(
            quality,
            order_no,
            receipt["lot_no"],
            {"item": "SPACER-40", "qualified_qty": 4, "rejected_qty": 0},
        )
        warehouse.complete(
            warehouse.wait_for("warehouse.picking", order_no),
            {"lines": [{"item": "SPACER-40", "qty_picked": 4}]},
        )

        # The process card; the special process confirmed by quality.
        production.complete(
            production.wait_for("production.assembly", order_no),
            {
                "operations": [
                    {"name": "frame welding", "signed_by": "op-7"},
                    {"name": "load cell calibration", "signed_by": "op-8"},
                ]
            },
        )
        quality.complete(
            quality.wait_for("quality.process_confirmation", order_no),
            {"operation": "load cell calibration", "confirmed": True},
        )

        # P9: the first final inspection fails; the defect is corrected and signed.
        production.complete(
            production.wait_for("production.hand_over_documents", order_no), DOCUMENTS
        )
        production.complete(
            production.wait_for("production.submit_inspection", order_no), {"missing_parts": []}
        )
        quality.complete(
            quality.wait_for("quality.final_inspection", order_no),
            {"passed": False, "defects": [{"description": "paint run on the guard"}]},
        )
        correction = production.wait_for("production.correct_defects", order_no)
        production.complete(
            correction,
            {
                "defects": [
                    {"id": d["id"], "signed_by": "leader-he"}
                    for d in correction["context"]["defects"]
                ]
            },
        )
        first = quality.wait_for("quality.final_inspection", order_no)
        quality.complete(first, {"passed": True, "defects": []})

        # P10: shipping check, ship, receipt, commissioning, settlement, evaluation.
        sales.complete(
            sales.wait_for("sales.shipping_check", order_no),
            {
                "delivery_address": "No. 8 Substation Road, Jiangning, Nanjing",
                "consignee": "Wang Wei",
                "contact_phone": "+86 25 5555 0101",
                "address_confirmed": True,
                "packaging": "wooden crate, moisture barrier",
                "packaging_ok": True,
            },
        )
        sales.complete(
            sales.wait_for("sales.ship", order_no),
            {"carrier": "SF Express", "mode": "road", "tracking_no": f"SF-{order_no}"},
        )
        sales.complete(
            sales.wait_for("sales.delivery_confirmed", order_no),
            {"received_on": today.isoformat()},
        )
        aftersales.complete(
            aftersales.wait_for("aftersales.commissioning", order_no),
            {"installed": True, "trained": True, "power_on_ok": True, "notes": "accepted"},
        )
        sales.complete(
            sales.wait_for("sales.settlement", order_no),
            {"invoice_no": f"INV-{order_no}", "amount_paid": 250000},
        )
        sales.complete(
            sales.wait_for("sales.evaluation", order_no),
            {"satisfaction": 5, "lessons": "check bracket clearances in design review"},
        )
        view = _wait_view(ops, order_no, lambda v: v["stage"] == "closed", "closed")

        assert view["status"] == "closed" and view["open_tasks"] == []
        kinds = {e["kind"] for e in view["timeline"]}
        assert {"design_change", "final_inspection", "issue", "picking", "receipt"} <= kinds
        assert all(m["actual"] for m in view["milestones"]), view["milestones"]
        trace = http.get(f"/orders/{order_no}/trace", headers=ops.headers).json()
        assert trace["complete_traceability"] is True
