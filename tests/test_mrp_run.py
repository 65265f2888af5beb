"""MRP on BOM release (P4.1) on the real stack: requisitions for buy items, work orders for
make items, free stock reserved, and a re-run that creates nothing twice."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col

from services.procurement.activities import ProcurementActivities
from services.procurement.models import Requisition, WorkOrder
from services.warehouse.models import StockItem
from shared.types import MrpRun
from tests.conftest import Stack
from tests.drivers import to_master_plan
from tests.helpers import complete, complete_ok, create_order
from tests.material_drivers import two_level_bom, wait_view


async def _get(stack: Stack, path: str, **params: str) -> Any:
    response = await stack.http.get(path, params=params, headers=stack.token("p", "procurement"))
    assert response.status_code == 200, response.text
    return response.json()


def _procurement(view: dict[str, Any]) -> list[str]:
    return [t["kind"] for t in view["open_tasks"] if t["kind"].startswith("procurement.")]


async def test_bom_release_runs_mrp_into_requisitions_work_orders_and_reservations(
    flow: Stack, engine: AsyncEngine
) -> None:
    suffix = uuid.uuid4().hex[:6]
    async with engine.begin() as conn:  # 100 bolts on the shelf, free
        await conn.execute(
            insert(StockItem).values(
                item=f"BOLT-{suffix}",
                on_hand=Decimal(100),
                pending_inspection=Decimal(0),
                updated_at=datetime.now(UTC),
            )
        )
    order_no = await create_order(flow)  # six KYN28-12 sets
    await to_master_plan(flow, order_no)
    await complete_ok(flow, "planning.master_plan", order_no, {"accept_proposal": True})
    view = await complete_ok(
        flow, "engineering.release_bom", order_no, {"lines": two_level_bom(suffix)}
    )
    assert any(e["kind"] == "mrp" for e in view["timeline"])

    requisitions = await _get(flow, "/procurement/requisitions", order_no=order_no)
    by_item = {r["item"]: r for r in requisitions}
    assert set(by_item) == {f"VS1-{suffix}", f"BOLT-{suffix}"}
    assert Decimal(by_item[f"VS1-{suffix}"]["qty"]) == 6
    assert by_item[f"VS1-{suffix}"]["special"] is True
    assert Decimal(by_item[f"BOLT-{suffix}"]["qty"]) == 6 * 48 - 100
    plan = {m["name"]: m["planned"] for m in view["milestones"]}
    assert {r["required_date"] for r in requisitions} == {plan["material_required"]}

    work_orders = await _get(flow, "/procurement/work-orders", order_no=order_no)
    assert {w["item"]: Decimal(w["qty"]) for w in work_orders} == {
        "KYN28-12": 6,
        f"FRAME-{suffix}": 6,
    }
    (bolts,) = await _get(flow, "/warehouse/stock", item=f"BOLT-{suffix}")
    assert Decimal(bolts["reserved"][order_no]) == 100 and Decimal(bolts["free"]) == 0
    assert await _get(flow, "/procurement/purchase-orders", order_no=order_no) == []

    # Re-running MRP for the same order and BOM revision creates nothing twice.
    again = await ProcurementActivities(engine, flow.settings).run_mrp(
        MrpRun(order_no=order_no, bom_revision=1, at=datetime.now(UTC))
    )
    assert (again.requisition_count, again.requisitions) == (len(by_item), [])
    async with engine.connect() as conn:
        counted = [
            (
                await conn.execute(select(func.count()).where(col(model.order_no) == order_no))
            ).scalar_one()
            for model in (Requisition, WorkOrder)
        ]
    assert counted == [2, 2]


async def test_requisitions_are_approved_where_needed_and_placed_on_purchase_orders(
    flow: Stack,
) -> None:
    suffix = uuid.uuid4().hex[:6]
    order_no = await create_order(flow)
    await to_master_plan(flow, order_no)
    await complete_ok(flow, "planning.master_plan", order_no, {"accept_proposal": True})
    await complete_ok(flow, "engineering.release_bom", order_no, {"lines": two_level_bom(suffix)})
    # Each requisition opens its task in its own workflow, started as the release settles.
    view = await wait_view(
        flow, order_no, lambda v: len(_procurement(v)) == 2, "both requisitions' tasks"
    )
    open_kinds = sorted(_procurement(view))
    assert open_kinds.count("procurement.place_po") == 1  # the bolts need no approval
    assert "procurement.special_approval" in open_kinds  # the breaker is special (§4.4)
    required = date.fromisoformat(
        next(m["planned"] for m in view["milestones"] if m["name"] == "material_required")
    )

    early = (required - timedelta(days=3)).isoformat()
    await complete_ok(
        flow,
        "procurement.place_po",
        order_no,
        {"supplier": "Fastenal", "promised_date": early, "po_no": f"PO-{suffix}"},
    )
    (po,) = await _get(flow, "/procurement/purchase-orders", order_no=order_no)
    assert po["po_no"] == f"PO-{suffix}" and po["supplier"] == "Fastenal"
    assert [(line["item"], Decimal(line["qty"])) for line in po["lines"]] == [
        (f"BOLT-{suffix}", Decimal(288))
    ]

    refused = await complete(
        flow, "procurement.special_approval", order_no, {"approved": True}, roles=("procurement",)
    )
    assert refused.status_code == 403
    view = await complete_ok(
        flow,
        "procurement.special_approval",
        order_no,
        {"approved": True, "comment": "single source"},
        roles=("division",),
    )
    assert "procurement.place_po" in [t["kind"] for t in view["open_tasks"]]

    late = (required + timedelta(days=10)).isoformat()
    view = await complete_ok(
        flow, "procurement.place_po", order_no, {"supplier": "Chint", "promised_date": late}
    )
    warning = [e for e in view["escalations"] if e["kind"] == "late_supply"]
    assert len(warning) == 1 and warning[0]["role"] == "planning"
    forecast = {m["name"]: m["forecast"] for m in view["milestones"]}
    assert forecast["material_required"] == late
    states = {
        r["item"]: r["state"]
        for r in await _get(flow, "/procurement/requisitions", order_no=order_no)
    }
    assert states == {f"BOLT-{suffix}": "ordered", f"VS1-{suffix}": "ordered"}
    assert len(await _get(flow, "/procurement/purchase-orders", order_no=order_no)) == 2
