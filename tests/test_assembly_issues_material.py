"""Assembly issues (P8.4, §8.5) end to end on the time-skipping server, over HTTP: the material.
Serious nonconforming material goes to the division at once; a missing part becomes a
sheet-metal work order or a buyer's chase; sheet-metal work orders of a long order number keep
their own keys."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col
from temporalio.testing import WorkflowEnvironment

from services.procurement.models import WorkOrder
from services.production.activities import ProductionActivities
from shared.production_types import SheetMetalOrder
from shared.settings import Settings
from tests.conftest import Stack
from tests.helpers import (
    escalations,
    parse_time,
    wait_escalation,
    wait_task,
)
from tests.issue_drivers import (
    D,
    _complete_task,
    _in_assembly,
    _issue,
    _report_ok,
    _task_of_issue,
)
from tests.material_drivers import (
    order_view,
)


async def test_serious_nonconforming_material_goes_to_the_division_at_once(
    flow: Stack, ts_env: WorkflowEnvironment
) -> None:
    order_no, suffix = await _in_assembly(flow, ts_env)
    breaker = f"VS1-{suffix}"
    reported_at = await ts_env.get_current_time()
    serious = await _report_ok(
        flow,
        order_no,
        {
            "kind": "nonconforming_material",
            "description": "breaker housing cracked",
            "items": [{"item": breaker, "qty": 2}],
            "severity": "serious",
        },
    )
    minor = await _report_ok(
        flow,
        order_no,
        {
            "kind": "nonconforming_material",
            "description": "scratched breaker front",
            "items": [{"item": breaker, "qty": 1}],
        },
    )
    assert minor["issue_no"] != serious["issue_no"]

    escalation = await wait_escalation(
        flow, order_no, lambda e: e["kind"] == "serious_nonconformance"
    )
    assert (escalation["level"], escalation["role"], escalation["department"]) == (
        2,
        "division",
        "quality",
    )
    assert parse_time(escalation["breached_at"]) - reported_at < timedelta(minutes=1)
    assert "breaker housing cracked" in escalation["message"]
    (judgement,) = await _task_of_issue(
        flow, order_no, "quality.ncr_judgement", serious["issue_no"]
    )
    assert judgement["context"]["ncr_no"] == f"NCR-{serious['issue_no']}"
    assert (judgement["context"]["severity"], judgement["context"]["found_in"]) == (
        "serious",
        "assembly",
    )
    assert judgement["context"]["items"] == [{"item": breaker, "qty": "2"}]
    (minor_judgement,) = await _task_of_issue(
        flow, order_no, "quality.ncr_judgement", minor["issue_no"]
    )
    assert minor_judgement["context"]["severity"] == "normal"
    # Only the serious one went to the division.
    serious_escalations = [
        e for e in await escalations(flow, order_no) if e["kind"] == "serious_nonconformance"
    ]
    assert len(serious_escalations) == 1

    await _complete_task(
        flow, judgement, {"disposition": "return", "comment": "supplier replaces"}, sub="qa-li"
    )
    closed = await _issue(flow, order_no, serious["issue_no"], "closed")
    assert closed["resolution"] == (f"NCR-{serious['issue_no']} judged return: supplier replaces")
    assert (closed["severity"], closed["kind"]) == ("serious", "nonconforming_material")
    assert (await _issue(flow, order_no, minor["issue_no"], "open"))["resolution"] is None


async def test_missing_parts_self_made_gets_a_sheet_metal_work_order_purchased_a_chase(
    flow: Stack, ts_env: WorkflowEnvironment
) -> None:
    order_no, suffix = await _in_assembly(flow, ts_env)
    bracket, breaker = f"BRACKET-{suffix}", f"VS1-{suffix}"

    made = await _report_ok(
        flow,
        order_no,
        {
            "kind": "missing_part",
            "description": "mounting brackets missing",
            "items": [{"item": bracket, "qty": 2}],
        },
    )
    (analysis,) = await _task_of_issue(
        flow, order_no, "planning.missing_part_analysis", made["issue_no"]
    )
    await _complete_task(
        flow, analysis, {"cause": "self_made", "comment": "cut list missed it"}, sub="plan-he"
    )
    key = f"sm-{made['issue_no']}-1"
    closed = await _issue(flow, order_no, made["issue_no"], "closed")
    assert key in closed["resolution"]
    response = await flow.http.get(
        "/procurement/work-orders",
        params={"order_no": order_no},
        headers=flow.token("lead-wu", "production"),
    )
    assert response.status_code == 200, response.text
    (work_order,) = [w for w in response.json() if w["key"] == key]
    assert (work_order["item"], D(work_order["qty"]), work_order["state"]) == (bracket, 2, "open")
    assert work_order["bom_revision"] == 1

    bought = await _report_ok(
        flow,
        order_no,
        {
            "kind": "missing_part",
            "description": "two breakers short at the line",
            "items": [{"item": breaker, "qty": 2}],
        },
    )
    (analysis,) = await _task_of_issue(
        flow, order_no, "planning.missing_part_analysis", bought["issue_no"]
    )
    await _complete_task(flow, analysis, {"cause": "purchased"}, sub="plan-he")
    (chase,) = await _task_of_issue(flow, order_no, "procurement.chase_supply", bought["issue_no"])
    assert chase["context"]["item"] == breaker
    assert (await _issue(flow, order_no, bought["issue_no"], "open"))["resolution"] is None
    expected = (await ts_env.get_current_time()).date() + timedelta(days=3)
    await _complete_task(
        flow, chase, {"expected_date": expected.isoformat(), "comment": "Chint ships"}
    )
    closed = await _issue(flow, order_no, bought["issue_no"], "closed")
    assert closed["resolution"] == f"buyer chased; expected {expected.isoformat()}"
    # No work order for the bought part.
    response = await flow.http.get(
        "/procurement/work-orders",
        params={"order_no": order_no},
        headers=flow.token("lead-wu", "production"),
    )
    assert [w["key"] for w in response.json() if w["key"].startswith("sm-")] == [key]
    # An engineering cause is a design change: engineering gets the DCN task, on its clock.
    drawing = await _report_ok(
        flow,
        order_no,
        {
            "kind": "missing_part",
            "description": "earth bar not on the drawing",
            "items": [{"item": f"EARTH-{suffix}", "qty": 6}],
        },
    )
    (analysis,) = await _task_of_issue(
        flow, order_no, "planning.missing_part_analysis", drawing["issue_no"]
    )
    await _complete_task(flow, analysis, {"cause": "engineering"}, sub="plan-he")
    dcn_task = await wait_task(flow, "engineering.design_change", order_no)
    assert dcn_task["workflow_id"] == f"dcn-{drawing['issue_no']}"
    assert dcn_task["context"]["confirmed_by"] == "plan-he"
    assert parse_time(dcn_task["due_at"]) - parse_time(dcn_task["created_at"]) == timedelta(hours=4)
    assert (await _issue(flow, order_no, drawing["issue_no"], "open"))["resolution"] is None

    # Assembly went on throughout.
    view = await order_view(flow, order_no)
    assert "production.assembly" in {t["kind"] for t in view["open_tasks"]}


async def test_sheet_metal_work_orders_of_a_long_order_number_keep_their_own_keys(
    engine: AsyncEngine, base_settings: Settings
) -> None:
    """procurement.work_orders.key holds 64 characters; an order number may have 64 itself."""
    order_no = f"SO-{uuid.uuid4().hex}-{'X' * 28}"
    assert len(order_no) == 64
    activities = ProductionActivities(engine, base_settings)
    now = datetime.now(UTC)
    keys = [
        await activities.sheet_metal_order(
            SheetMetalOrder(
                order_no=order_no,
                issue_no=f"{order_no}-I{i}-{n}",
                item=f"P{i}{n}",
                qty=D(n),
                at=now,
            )
        )
        for i in (1, 2)
        for n in (1, 2)
    ]
    assert len(set(keys)) == 4 and all(len(key) <= 64 for key in keys), keys
    assert all(key.startswith(f"sm-{order_no[:40]}") for key in keys)
    # Asked again (an activity retry), each gives the same key and no second work order.
    again = await activities.sheet_metal_order(
        SheetMetalOrder(
            order_no=order_no, issue_no=f"{order_no}-I2-1", item="P21", qty=D(1), at=now
        )
    )
    assert again == keys[2]
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                select(col(WorkOrder.key), col(WorkOrder.item), col(WorkOrder.qty)).where(
                    col(WorkOrder.order_no) == order_no
                )
            )
        ).all()
    assert sorted((item, D(qty)) for _, item, qty in rows) == [
        ("P11", 1),
        ("P12", 2),
        ("P21", 1),
        ("P22", 2),
    ]
