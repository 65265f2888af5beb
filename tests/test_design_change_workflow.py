"""Design change notices (P8.4a, P3.4): the DesignChangeWorkflow on the time-skipping server:
the 4-hour clock with both escalation levels, a DCN that adds one line and removes another,
with MRP on the difference, two DCNs at once and a cancelled one."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlmodel import col
from temporalio.client import WorkflowFailureError, WorkflowHandle
from temporalio.exceptions import CancelledError
from temporalio.testing import WorkflowEnvironment

from services.engineering.models import DesignChangeNotice, Item
from services.procurement.models import Requirement
from services.warehouse.models import StockItem
from shared.production_types import DesignChangeRequest, DesignChangeResult
from shared.temporal import workflow_queue
from tests.conftest import Stack
from tests.helpers import (
    MARGIN,
    advance_to,
    complete,
    complete_ok,
    escalations,
    parse_time,
    settled,
    wait_escalation,
    wait_task,
)
from tests.material_drivers import SETS, inbox_tasks, order_view, stock, to_materials
from workflows.design_change import DesignChangeWorkflow

D = Decimal


# -- the DesignChangeWorkflow on the time-skipping server --------------------------------------


async def _start(flow: Stack, order_no: str, issue_no: str, item: str) -> WorkflowHandle[Any, Any]:
    """What the order workflow starts once the process engineer confirms a design problem."""
    return await flow.client.start_workflow(
        DesignChangeWorkflow.run,
        DesignChangeRequest(
            order_no=order_no,
            issue_no=issue_no,
            description=f"{item} fouls the busbar",
            items=[{"item": item, "qty": SETS}],
            bom_revision=1,
            confirmed_by="process-engineer",
            queue_prefix=flow.settings.task_queue_prefix,
        ),
        id=f"dcn-{issue_no}",
        task_queue=workflow_queue(flow.settings.task_queue_prefix),
    )


async def _notice(engine: AsyncEngine, issue_no: str) -> DesignChangeNotice:
    async with AsyncSession(engine) as session:
        return (
            await session.execute(
                select(DesignChangeNotice).where(col(DesignChangeNotice.issue_no) == issue_no)
            )
        ).scalar_one()


async def _bom_of(flow: Stack, order_no: str) -> dict[str, Any]:
    response = await flow.http.get(
        f"/engineering/orders/{order_no}/bom", headers=flow.token("eng", "engineering")
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_dcn_not_issued_in_4_hours_warns_engineering_head_and_planner_then_division(
    flow: Stack, ts_env: WorkflowEnvironment, engine: AsyncEngine
) -> None:
    suffix = uuid.uuid4().hex[:6]
    bolt, frame = f"BOLT-{suffix}", f"FRAME-{suffix}"
    order_no, _ = await to_materials(flow, suffix)
    issue_no = f"ISS-{suffix}"
    handle = await _start(flow, order_no, issue_no, bolt)

    task = await wait_task(flow, "engineering.design_change", order_no)
    opened, due = parse_time(task["created_at"]), parse_time(task["due_at"])
    assert due == opened + timedelta(hours=4)
    assert task["workflow_id"] == f"dcn-{issue_no}"
    assert (task["context"]["issue_no"], task["context"]["bom_revision"]) == (issue_no, 1)

    def ours(e: dict[str, Any]) -> bool:
        return e["task_id"] == task["task_id"]

    await advance_to(ts_env, due - MARGIN)
    await settled(flow, task["workflow_id"])
    assert [e for e in await escalations(flow, order_no) if ours(e)] == []

    await advance_to(ts_env, due + MARGIN)
    head = await wait_escalation(flow, order_no, lambda e: ours(e) and e["role"] != "planning")
    assert (head["kind"], head["level"], head["role"]) == ("task_overdue", 1, "head:engineering")
    planner = await wait_escalation(flow, order_no, lambda e: ours(e) and e["role"] == "planning")
    assert (planner["kind"], planner["level"], planner["department"]) == (
        "design_change_overdue",
        1,
        "planning",
    )
    assert parse_time(planner["due_at"]) == due and issue_no in planner["message"]
    assert not [e for e in await escalations(flow, order_no) if ours(e) and e["level"] == 2]

    await advance_to(ts_env, opened + timedelta(hours=8) + MARGIN)
    division = await wait_escalation(flow, order_no, lambda e: ours(e) and e["level"] == 2)
    assert (division["kind"], division["role"]) == ("task_overdue", "division")

    # Late, the DCN is still issued (more bolts per frame), and kept as late.
    await complete_ok(
        flow,
        "engineering.design_change",
        order_no,
        {
            "dcn_no": f"DCN-{suffix}",
            "summary": "52 bolts per frame",
            "bom_changes": [{"item": bolt, "parent": frame, "qty_per": 52, "make_or_buy": "buy"}],
        },
        sub="eng-zhao",
    )
    result = await handle.result()
    assert isinstance(result, DesignChangeResult)
    assert (result.dcn_no, result.bom_revision, result.issued_by) == (
        f"DCN-{suffix}",
        2,
        "eng-zhao",
    )
    ((item, qty, special),) = [(r.item, r.qty, r.special) for r in result.requisitions]
    assert (item, qty, special) == (bolt, SETS * 4, True)
    assert result.surplus == {} and result.work_orders == []
    notice = await _notice(engine, issue_no)
    assert (notice.from_revision, notice.to_revision, notice.within_sla) == (1, 2, False)
    planners = [e for e in await escalations(flow, order_no) if e["role"] == "planning"]
    assert len([e for e in planners if e["kind"] == "design_change_overdue"]) == 1


async def test_dcn_adding_a_line_and_removing_one_buys_the_new_part_and_frees_the_old(
    flow: Stack, engine: AsyncEngine
) -> None:
    suffix = uuid.uuid4().hex[:6]
    bolt, frame, breaker = f"BOLT-{suffix}", f"FRAME-{suffix}", f"VS1-{suffix}"
    gasket = f"GASKET-{suffix}"
    now = datetime.now(UTC)
    async with engine.begin() as conn:
        # 100 bolts on the shelf, which the first order's BOM release reserves.
        await conn.execute(
            insert(StockItem).values(
                item=bolt, on_hand=D(100), pending_inspection=D(0), updated_at=now
            )
        )
        # The gasket is a standard part an earlier order's BOM released into the item master.
        await conn.execute(
            insert(Item).values(
                item=gasket,
                make_or_buy="buy",
                supplier="Parker",
                lead_days=12,
                special=False,
                first_order_no="SO-EARLIER",
                created_at=now,
            )
        )
    order_no, _ = await to_materials(flow, suffix)
    assert D((await stock(flow, bolt))["reserved"][order_no]) == 100
    other_no, _ = await to_materials(flow, suffix)  # the same BOM: short of all its bolts
    assert other_no not in (await stock(flow, bolt))["reserved"]

    issue_no = f"ISS-{suffix}"
    handle = await _start(flow, order_no, issue_no, bolt)
    dcn_no = f"DCN-{suffix}-1"
    refused = await complete(
        flow,
        "engineering.design_change",
        order_no,
        {
            "dcn_no": dcn_no,
            "summary": "gaskets",
            "bom_changes": [{"item": breaker, "parent": frame, "qty_per": 0, "make_or_buy": "buy"}],
        },
    )
    assert refused.status_code == 422, refused.text
    assert "no such line to remove" in refused.json()["detail"]

    await complete_ok(
        flow,
        "engineering.design_change",
        order_no,
        {
            "dcn_no": dcn_no,
            "summary": "gaskets instead of bolts on the frame",
            "bom_changes": [
                {"item": bolt, "parent": frame, "qty_per": 0, "make_or_buy": "buy"},
                {"item": gasket, "parent": frame, "qty_per": 4, "make_or_buy": "buy"},
            ],
        },
    )
    result = await handle.result()
    assert (result.dcn_no, result.bom_revision, result.issued_by) == (dcn_no, 2, "worker-1")
    assert result.summary == "gaskets instead of bolts on the frame"

    # Revision 2: the bolts gone, the gasket under the frame as the item master describes it.
    bom = await _bom_of(flow, order_no)
    assert (bom["revision"], bom["revisions"]) == (2, [1, 2])
    lines = {(line["item"], line["parent"]): line for line in bom["lines"]}
    assert set(lines) == {
        ("KYN28-12", None),
        (frame, "KYN28-12"),
        (breaker, "KYN28-12"),
        (gasket, frame),
    }
    assert (D(lines[(gasket, frame)]["qty_per"]), lines[(gasket, frame)]["supplier"]) == (
        4,
        "Parker",
    )

    # A requisition for the gasket, for the division to approve (§4.4).
    ((req_item, req_qty, req_supplier, req_special),) = [
        (r.item, r.qty, r.supplier, r.special) for r in result.requisitions
    ]
    assert (req_item, req_qty, req_supplier, req_special) == (gasket, SETS * 4, "Parker", True)
    response = await flow.http.get(
        "/procurement/requisitions",
        params={"order_no": order_no},
        headers=flow.token("p", "procurement"),
    )
    stored = {r["key"]: r for r in response.json()}
    new = stored[result.requisitions[0].key]
    assert (new["item"], new["bom_revision"], new["special"], new["state"]) == (
        gasket,
        2,
        True,
        "open",
    )

    # The 100 reserved bolts left the order and went at once to the other order short of them.
    assert result.surplus == {bolt: D(100)}
    assert result.allocated == {other_no: {bolt: D(100)}}
    bolts = await stock(flow, bolt)
    assert {k: D(v) for k, v in bolts["reserved"].items()} == {other_no: 100}
    async with engine.connect() as conn:
        needs = dict(
            (
                await conn.execute(
                    select(col(Requirement.item), col(Requirement.qty)).where(
                        col(Requirement.order_no) == order_no
                    )
                )
            ).all()
        )
    assert needs == {breaker: SETS, gasket: SETS * 4}

    notice = await _notice(engine, issue_no)
    assert (notice.dcn_no, notice.from_revision, notice.to_revision, notice.within_sla) == (
        dcn_no,
        1,
        2,
        True,
    )
    assert sorted(c["action"] for c in notice.changes) == ["add", "remove"]
    timeline = (await order_view(flow, order_no))["timeline"]
    assert any(e["kind"] == "design_change" and dcn_no in e["summary"] for e in timeline)

    # A second design problem of the order: its DCN needs its own number, builds on revision 2.
    second = await _start(flow, order_no, f"ISS-{suffix}-2", breaker)
    change = {
        "summary": "two breakers per set",
        "bom_changes": [{"item": breaker, "qty_per": 2, "make_or_buy": "buy"}],
    }
    taken = await complete(
        flow, "engineering.design_change", order_no, {"dcn_no": dcn_no, **change}
    )
    assert taken.status_code == 422 and "already a DCN" in taken.json()["detail"]
    await complete_ok(
        flow, "engineering.design_change", order_no, {"dcn_no": f"DCN-{suffix}-2", **change}
    )
    again = await second.result()
    assert again.bom_revision == 3 and again.surplus == {}
    assert [(r.item, r.qty) for r in again.requisitions] == [(breaker, SETS)]
    assert {(ln["item"], ln["parent"]) for ln in (await _bom_of(flow, order_no))["lines"]} == set(
        lines
    )


async def _dcn_task(flow: Stack, order_no: str, workflow_id: str, state: str = "open") -> Any:
    """The design-change task of one DCN workflow (an order may have two open at once)."""
    for _ in range(100):
        tasks = await inbox_tasks(flow, "engineering", order_no, "engineering.design_change", state)
        found = [t for t in tasks if t["workflow_id"] == workflow_id]
        if found:
            return found[-1]
        await asyncio.sleep(0.05)
    raise AssertionError(f"no {state} engineering.design_change of {workflow_id}")


async def test_two_dcns_at_once_the_later_is_checked_again_against_the_earlier(
    flow: Stack, engine: AsyncEngine
) -> None:
    suffix = uuid.uuid4().hex[:6]
    bolt, frame, breaker = f"BOLT-{suffix}", f"FRAME-{suffix}", f"VS1-{suffix}"
    order_no, _ = await to_materials(flow, suffix)
    first = await _start(flow, order_no, f"ISS-{suffix}-a", bolt)
    second = await _start(flow, order_no, f"ISS-{suffix}-b", breaker)
    task_a = await _dcn_task(flow, order_no, first.id)
    task_b = await _dcn_task(flow, order_no, second.id)
    headers = flow.token("eng-li", "engineering")
    removal = {"item": bolt, "parent": frame, "qty_per": 0, "make_or_buy": "buy"}

    issued = await flow.http.post(
        f"/engineering/tasks/{task_a['task_id']}/complete",
        json={"dcn_no": f"DCN-{suffix}", "summary": "no bolts", "bom_changes": [removal]},
        headers=headers,
    )
    assert issued.status_code == 200, issued.text
    # Checked against revision 1 while it was open, the second DCN passes its task's check;
    # issued after the first, its number is taken and its line gone: a new task says so.
    answered = await flow.http.post(
        f"/engineering/tasks/{task_b['task_id']}/complete",
        json={"dcn_no": f"DCN-{suffix}", "summary": "no bolts either", "bom_changes": [removal]},
        headers=headers,
    )
    assert answered.status_code == 200, answered.text
    again = await _dcn_task(flow, order_no, second.id)
    assert again["task_id"] != task_b["task_id"] and again["due_at"] == task_b["due_at"]
    assert "already a DCN" in again["context"]["refused"]
    assert "no such line to remove" in again["context"]["refused"]
    assert again["context"]["bom_revision"] == 2

    change = {"item": breaker, "qty_per": 2, "make_or_buy": "buy"}
    resent = await flow.http.post(
        f"/engineering/tasks/{again['task_id']}/complete",
        json={"dcn_no": f"DCN-{suffix}", "summary": "two breakers", "bom_changes": [change]},
        headers=headers,
    )
    assert resent.status_code == 422 and "already a DCN" in resent.json()["detail"]
    resent = await flow.http.post(
        f"/engineering/tasks/{again['task_id']}/complete",
        json={"dcn_no": f"DCN-{suffix}-b", "summary": "two breakers", "bom_changes": [change]},
        headers=headers,
    )
    assert resent.status_code == 200, resent.text
    assert (await first.result()).bom_revision == 2
    result = await second.result()
    assert (result.dcn_no, result.bom_revision) == (f"DCN-{suffix}-b", 3)
    notice = await _notice(engine, f"ISS-{suffix}-b")
    assert (notice.from_revision, notice.to_revision) == (2, 3)


async def test_a_cancelled_dcn_leaves_no_task_open(flow: Stack) -> None:
    suffix = uuid.uuid4().hex[:6]
    order_no, _ = await to_materials(flow, suffix)
    handle = await _start(flow, order_no, f"ISS-{suffix}", f"BOLT-{suffix}")
    task = await _dcn_task(flow, order_no, handle.id)
    await handle.cancel()
    with pytest.raises(WorkflowFailureError) as failed:
        await handle.result()
    assert isinstance(failed.value.cause, CancelledError)
    withdrawn = await _dcn_task(flow, order_no, handle.id, "withdrawn")
    assert withdrawn["task_id"] == task["task_id"]
