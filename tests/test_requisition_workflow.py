"""Each requisition is its own RequisitionWorkflow (P4, §4.3-4.9): the order's history stays
small however large its BOM, approval → PO → promised-date check runs in the child, and a
cancellation ends the children with no procurement task left open."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import WorkflowExecutionStatus
from temporalio.testing import ActivityEnvironment

from services.procurement.requisition_starts import RequisitionStartActivities
from shared.escalations.models import Escalation
from shared.temporal import ESCALATED
from shared.types import RaiseEscalation, RequisitionSettled
from shared.workflow_ids import requisition_workflow_id
from tests.cancellation_drivers import _assert_nothing_open, _cancel_ok
from tests.conftest import Stack
from tests.drivers import to_master_plan
from tests.helpers import complete, complete_ok, create_order, escalations, wait_task
from tests.material_drivers import milestones, order_view, to_materials

BOUGHT_LINES = 500

# Since issue 17 one procurement activity starts the requisitions' workflows (read from the
# database), so the order's events up to here do not depend on the BOM: ~280 with or without
# these lines (everything up to the BOM release). Before, the order started each as a child:
# ~1,270 events for this BOM (two per child plus the batches' workflow tasks), and before
# requisitions became children ~2,600 (5.2 per line).
EVENT_BOUND = 320


def wide_bom(suffix: str) -> list[dict[str, Any]]:
    """The six sets, each of `BOUGHT_LINES` different bought parts."""
    return [
        {"item": "KYN28-12", "qty_per": 1, "make_or_buy": "make"},
        *(
            {
                "item": f"P{n:04d}-{suffix}",
                "parent": "KYN28-12",
                "qty_per": 2,
                "make_or_buy": "buy",
                "supplier": "Fastenal",
            }
            for n in range(BOUGHT_LINES)
        ),
    ]


async def _open_count(stack: Stack, order_no: str, kind: str, expected: int) -> int:
    """How many `kind` tasks of the order are open, once there are `expected` (or 60 s on)."""
    deadline = asyncio.get_running_loop().time() + 60
    while True:
        response = await stack.http.get(
            "/procurement/tasks",
            params={"order_no": order_no, "kind": kind, "state": "open", "limit": 1000},
            headers=stack.token("ops-bot", "ops"),
        )
        assert response.status_code == 200, response.text
        count = len(response.json())
        if count >= expected or asyncio.get_running_loop().time() > deadline:
            return count
        await asyncio.sleep(0.2)


async def _history(stack: Stack, workflow_id: str) -> list[HistoryEvent]:
    history = await stack.client.get_workflow_handle(workflow_id).fetch_history()
    return list(history.events)


def _scheduled(events: list[HistoryEvent]) -> list[str]:
    """The activity types the order scheduled, in order."""
    return [
        event.activity_task_scheduled_event_attributes.activity_type.name
        for event in events
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
    ]


async def test_a_bom_of_500_bought_lines_keeps_the_order_history_small(
    flow: Stack, engine: AsyncEngine
) -> None:
    suffix = uuid.uuid4().hex[:6]
    order_no = await create_order(flow)
    await to_master_plan(flow, order_no)
    await complete_ok(flow, "planning.master_plan", order_no, {"accept_proposal": True})
    await complete_ok(flow, "engineering.release_bom", order_no, {"lines": wide_bom(suffix)})
    opened = await _open_count(flow, order_no, "procurement.place_po", BOUGHT_LINES)
    assert opened == BOUGHT_LINES
    history = await _history(flow, f"order-{order_no}")
    events = len(history)
    print(f"order-{order_no}: {events} history events for {BOUGHT_LINES} bought lines")
    assert events <= EVENT_BOUND, f"{events} events for {BOUGHT_LINES} bought lines"
    # No child per line: one activity started them all, and none has signalled the order.
    kinds = {event.event_type for event in history}
    assert EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED not in kinds
    assert EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED not in kinds
    assert _scheduled(history).count("start_requisitions") == 1

    # Their overdue tasks mark the order escalated once: only the order's first escalation
    # from a requisition signals it, whichever requisition asks first.
    first, second = await _escalations_of_two(flow, engine, order_no)
    relay = RequisitionStartActivities(engine, flow.settings)
    tell = ActivityEnvironment(client=flow.client)
    assert await tell.run(relay.tell_order_escalated, second) is False
    assert await tell.run(relay.tell_order_escalated, first) is True
    handle = flow.client.get_workflow_handle(f"order-{order_no}")
    signals = [
        e.workflow_execution_signaled_event_attributes.signal_name
        for e in await _history(flow, f"order-{order_no}")
        if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED
    ]
    assert signals == ["escalation_raised"]
    deadline = asyncio.get_running_loop().time() + 15
    while not (await handle.describe()).typed_search_attributes.get(ESCALATED):
        assert asyncio.get_running_loop().time() < deadline, "the order was not marked"
        await asyncio.sleep(0.05)
    assert await tell.run(relay.tell_order_escalated, second) is False  # marked already

    # A cancellation cancels all of them (procurement, 50 at a time) and returns once each has
    # withdrawn its task: none is left open (nor in the inbox the other tests share).
    result = await _cancel_ok(flow, order_no)
    assert len(result["unwound"]["tasks"]) >= BOUGHT_LINES
    assert await _open_count(flow, order_no, "procurement.place_po", 0) == 0


async def _escalations_of_two(
    stack: Stack, engine: AsyncEngine, order_no: str
) -> tuple[RaiseEscalation, RaiseEscalation]:
    """Overdue escalations of two of the order's requisition tasks, stored in that order."""
    response = await stack.http.get(
        "/procurement/tasks",
        params={"order_no": order_no, "kind": "procurement.place_po", "limit": 2},
        headers=stack.token("ops-bot", "ops"),
    )
    assert response.status_code == 200, response.text
    now = datetime.now(UTC)
    raised = [
        RaiseEscalation(
            key=f"{task['task_id']}:L1",
            kind="task_overdue",
            level=1,
            order_no=order_no,
            task_id=task["task_id"],
            department="procurement",
            role="procurement",
            breached_at=now,
            message=f"{task['task_id']} overdue",
        )
        for task in response.json()
    ]
    async with AsyncSession(engine) as session:
        for esc in raised:
            session.add(Escalation(**esc.model_dump(), created_at=now))
            await session.flush()  # ids in this order
        await session.commit()
    first, second = raised
    return first, second


async def _requisitions(stack: Stack, order_no: str) -> dict[str, dict[str, Any]]:
    response = await stack.http.get(
        "/procurement/requisitions",
        params={"order_no": order_no},
        headers=stack.token("ops-bot", "ops"),
    )
    assert response.status_code == 200, response.text
    return {r["item"]: r for r in response.json()}


async def _ended(stack: Stack, workflow_id: str) -> WorkflowExecutionStatus | None:
    """The workflow's status once it has ended (or as it is after 15 s)."""
    handle = stack.client.get_workflow_handle(workflow_id)
    deadline = asyncio.get_running_loop().time() + 15
    while True:
        status = (await handle.describe()).status
        if status != WorkflowExecutionStatus.RUNNING:
            return status
        if asyncio.get_running_loop().time() > deadline:
            return status
        await asyncio.sleep(0.1)


async def test_approval_po_and_late_promise_run_in_the_requisition_and_move_the_order(
    flow: Stack, engine: AsyncEngine
) -> None:
    suffix = uuid.uuid4().hex[:6]
    bolt, breaker = f"BOLT-{suffix}", f"VS1-{suffix}"
    order_no, view = await to_materials(flow, suffix)
    required = milestones(view)["material_required"]
    requisitions = await _requisitions(flow, order_no)
    breaker_wf = requisition_workflow_id(requisitions[breaker]["key"])

    # The special breaker waits for the division in its own workflow; its inbox row keeps
    # the order number, so the order's inbox and view show it as before.
    approval = await wait_task(flow, "procurement.special_approval", order_no)
    assert approval["workflow_id"] == breaker_wf and approval["order_no"] == order_no
    assert approval["title"].startswith("Approve buying 6")
    assert approval["title"].endswith(f" {breaker} for {order_no}")
    bolts_po = await wait_task(flow, "procurement.place_po", order_no)
    assert bolts_po["workflow_id"] == requisition_workflow_id(requisitions[bolt]["key"])
    assert bolts_po["context"]["required_date"] == required.isoformat()
    kinds = sorted(t["kind"] for t in (await order_view(flow, order_no))["open_tasks"])
    assert "procurement.special_approval" in kinds and "procurement.place_po" in kinds

    # A promise not after today is refused by the requisition's own validator.
    refused = await complete(
        flow,
        "procurement.place_po",
        order_no,
        {"supplier": "Fastenal", "promised_date": "2020-01-01"},
    )
    assert refused.status_code == 422, refused.text
    await complete_ok(
        flow,
        "procurement.place_po",
        order_no,
        {"supplier": "Fastenal", "promised_date": (required - timedelta(days=3)).isoformat()},
    )
    assert await _ended(flow, bolts_po["workflow_id"]) == WorkflowExecutionStatus.COMPLETED
    view = await complete_ok(
        flow,
        "procurement.special_approval",
        order_no,
        {"approved": True, "comment": "single source"},
        roles=("division",),
    )
    assert "procurement.place_po" in [t["kind"] for t in view["open_tasks"]]

    late = required + timedelta(days=10)
    view = await complete_ok(
        flow,
        "procurement.place_po",
        order_no,
        {"supplier": "Chint", "promised_date": late.isoformat(), "po_no": f"PO-{suffix}"},
    )
    # The planner is warned at once, as the order itself warned before.
    (warning,) = [e for e in await escalations(flow, order_no) if e["kind"] == "late_supply"]
    async with engine.connect() as conn:
        key = (
            await conn.execute(
                select(col(Escalation.key)).where(col(Escalation.id) == warning["id"])
            )
        ).scalar_one()
    assert key == f"{requisitions[breaker]['key']}:late_supply"
    assert warning["due_at"].startswith((required + timedelta(days=1)).isoformat())
    assert (warning["level"], warning["department"], warning["role"]) == (1, "planning", "planning")
    assert warning["message"] == (
        f"PO-{suffix}: {breaker} promised {late}, 10 day(s) after it is required ({required})"
    )
    # The requisition tells its order, which moves its forecast before the buyer's completion
    # answers (as when the order placed the PO itself), and is marked Escalated.
    forecast = {m["name"]: m["forecast"] for m in view["milestones"]}
    assert forecast["material_required"] == late.isoformat()
    order = await flow.client.get_workflow_handle(f"order-{order_no}").describe()
    assert order.typed_search_attributes.get(ESCALATED) is True
    assert await _ended(flow, breaker_wf) == WorkflowExecutionStatus.COMPLETED
    result = await flow.client.get_workflow_handle(
        breaker_wf, result_type=RequisitionSettled
    ).result()
    assert (result.state, result.po_no, result.promised_date, result.late) == (
        "ordered",
        f"PO-{suffix}",
        late,
        True,
    )
    states = {item: r["state"] for item, r in (await _requisitions(flow, order_no)).items()}
    assert states == {bolt: "ordered", breaker: "ordered"}


async def test_cancelling_the_order_cancels_its_running_requisitions(
    flow: Stack, engine: AsyncEngine
) -> None:
    suffix = uuid.uuid4().hex[:6]
    order_no, _ = await to_materials(flow, suffix)
    await wait_task(flow, "procurement.special_approval", order_no)
    open_before = await wait_task(flow, "procurement.place_po", order_no)
    requisitions = await _requisitions(flow, order_no)
    children = sorted(requisition_workflow_id(r["key"]) for r in requisitions.values())

    result = await _cancel_ok(flow, order_no)

    # Both requisitions withdrew their tasks before the unwind: none is left open, and the
    # cancellation lists them with the order's own.
    assert open_before["task_id"] in result["unwound"]["tasks"]
    assert sorted(result["unwound"]["requisitions"]) == sorted(
        r["key"] for r in requisitions.values()
    )
    await _assert_nothing_open(flow, engine, order_no)
    for child in children:
        assert await _ended(flow, child) == WorkflowExecutionStatus.CANCELED
    response = await flow.http.get(
        "/procurement/tasks",
        params={"order_no": order_no},
        headers=flow.token("ops-bot", "ops"),
    )
    procurement = [t for t in response.json() if t["workflow_id"] in children]
    assert len(procurement) == 2
    assert {t["state"] for t in procurement} == {"withdrawn"}
