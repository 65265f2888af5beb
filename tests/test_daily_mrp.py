"""The daily MRP run (P4.2, §4.3, §4.5) on the time-skipping stack: safety stock topped up and
bought on a stock PO, free stock given to open orders, shortages nothing covers requisitioned
and the orders told; then the pure rules it nets by."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowExecutionStatus

from services.engineering.models import Item
from services.procurement.daily import Projection, daily_key, project, safety_topup
from services.procurement.models import PoLine, PurchaseOrder, Requisition
from services.warehouse.stock import change_stock
from shared.db import session_scope
from shared.schedules import hour_minute
from shared.settings import Settings
from shared.temporal import workflow_queue
from shared.types import DailyMrpInput, DailyMrpResult, RequisitionSummary
from tests.conftest import Stack
from tests.drivers import to_master_plan
from tests.helpers import complete_ok, create_order
from workflows.daily_mrp import DailyMrpWorkflow, notices_for
from workflows.replenishment import StockReplenishmentWorkflow

D = Decimal
OPS = ("ops",)


# -- builders and readers ----------------------------------------------------------------------


async def _item(
    engine: AsyncEngine,
    item: str,
    *,
    safety_stock: int = 0,
    supplier: str = "Fastenal",
    special: bool = False,
) -> None:
    """An item in the master, as a BOM release would add it."""
    async with engine.begin() as conn:
        await conn.execute(
            insert(Item)
            .values(
                item=item,
                make_or_buy="buy",
                supplier=supplier,
                lead_days=7,
                special=special,
                safety_stock=D(safety_stock),
                first_order_no="SO-seed",
                created_at=datetime.now(UTC),
            )
            .on_conflict_do_nothing()
        )


async def _on_hand(engine: AsyncEngine, item: str, qty: int) -> None:
    async with session_scope(engine) as session:
        await change_stock(session, item, at=datetime.now(UTC), on_hand=D(qty))


async def _daily(stack: Stack) -> DailyMrpResult:
    """One run of the daily MRP workflow, as the schedule starts it."""
    prefix = stack.settings.task_queue_prefix
    return await stack.client.execute_workflow(
        DailyMrpWorkflow.run,
        DailyMrpInput(queue_prefix=prefix),
        id=f"{prefix}-daily-mrp-{uuid.uuid4().hex[:6]}",
        task_queue=workflow_queue(prefix),
    )


async def _get(stack: Stack, path: str, **params: str) -> Any:
    response = await stack.http.get(path, params=params, headers=stack.token("ops-bot", *OPS))
    assert response.status_code == 200, response.text
    return response.json()


async def _stock_tasks(stack: Stack, kind: str, key: str, state: str = "open") -> list[Any]:
    """Tasks of `kind` about one requisition in the procurement inbox."""
    tasks = await _get(stack, "/procurement/tasks", kind=kind, state=state)
    return [t for t in tasks if t["context"].get("key") == key]


async def _wait_stock_task(stack: Stack, kind: str, key: str) -> dict[str, Any]:
    for _ in range(300):
        found = await _stock_tasks(stack, kind, key)
        if found:
            return dict(found[0])
        await asyncio.sleep(0.05)
    raise AssertionError(f"no open {kind} for requisition {key}")


async def _requisitions(engine: AsyncEngine, item: str) -> list[Requisition]:
    async with session_scope(engine) as session:
        rows = await session.execute(select(Requisition).where(col(Requisition.item) == item))
        return list(rows.scalars())


async def _signals(stack: Stack, workflow_id: str, name: str) -> list[Any]:
    history = await stack.client.get_workflow_handle(workflow_id).fetch_history()
    return [
        event.workflow_execution_signaled_event_attributes
        for event in history.events
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED
        and event.workflow_execution_signaled_event_attributes.signal_name == name
    ]


# -- safety stock (§4.5) -----------------------------------------------------------------------


async def test_safety_stock_below_its_level_is_approved_and_bought_on_a_stock_po(
    stack: Stack, engine: AsyncEngine
) -> None:
    item = f"CABLE-TIE-{uuid.uuid4().hex[:8]}"
    await _item(engine, item, safety_stock=50)
    await _on_hand(engine, item, 10)

    first = await _daily(stack)
    (requisition,) = [r for r in first.safety_stock.created if r.item == item]
    assert requisition.qty == 40 and requisition.reason == "safety_stock"
    (row,) = await _requisitions(engine, item)
    assert (row.key, row.order_no, row.state, row.supplier, row.lead_days) == (
        requisition.key,
        None,
        "open",
        "Fastenal",
        7,
    )
    approval = await _wait_stock_task(stack, "procurement.stock_approval", requisition.key)
    assert approval["order_no"] == ""
    assert approval["workflow_id"] == f"replenish-{requisition.key}"

    # The same day again: the open requisition stands, nothing is created or opened twice.
    second = await _daily(stack)
    assert [r for r in second.safety_stock.created if r.item == item] == []
    assert len(await _requisitions(engine, item)) == 1
    assert len(await _stock_tasks(stack, "procurement.stock_approval", requisition.key)) == 1

    refused = await _post_completion(stack, approval, {"approved": True}, ("procurement",))
    assert refused.status_code == 403  # the department head approves stock (§4.5)
    approved = await _complete_stock_task(
        stack, approval, {"approved": True, "comment": "top up"}, ("head:procurement",)
    )
    assert approved == "approved"
    place = await _wait_stock_task(stack, "procurement.place_po", requisition.key)
    promised = (date.today() + timedelta(days=7)).isoformat()
    too_soon = {"supplier": "Fastenal", "promised_date": date.today().isoformat()}
    refused = await _post_completion(stack, place, too_soon, ("procurement",))
    assert refused.status_code == 422 and "after today" in refused.text
    ordered = await _complete_stock_task(
        stack, place, {"supplier": "Fastenal", "promised_date": promised}, ("procurement",)
    )
    assert ordered == "ordered"
    replenishment = stack.client.get_workflow_handle(f"replenish-{requisition.key}")
    assert await replenishment.result() == "ordered"

    orders = await _get(stack, "/procurement/purchase-orders")
    (po,) = [o for o in orders if any(line["item"] == item for line in o["lines"])]
    assert po["order_no"] is None and po["supplier"] == "Fastenal"
    assert po["promised_date"] == promised and po["po_no"].startswith("PO-STOCK-")
    assert [(line["item"], D(line["qty"])) for line in po["lines"]] == [(item, D(40))]
    (row,) = await _requisitions(engine, item)
    assert row.state == "ordered"

    # 10 on hand and 40 on order reach the level: the next run proposes nothing.
    third = await _daily(stack)
    assert [r for r in third.safety_stock.created if r.item == item] == []
    assert len(await _requisitions(engine, item)) == 1


async def test_rejected_safety_stock_requisition_buys_nothing(
    stack: Stack, engine: AsyncEngine
) -> None:
    item = f"FUSE-{uuid.uuid4().hex[:8]}"
    await _item(engine, item, safety_stock=20)

    result = await _daily(stack)
    (requisition,) = [r for r in result.safety_stock.created if r.item == item]
    assert requisition.qty == 20  # nothing on hand at all
    approval = await _wait_stock_task(stack, "procurement.stock_approval", requisition.key)
    rejected = await _complete_stock_task(
        stack, approval, {"approved": False, "comment": "obsolete"}, ("head:procurement",)
    )
    assert rejected == "rejected"
    handle = stack.client.get_workflow_handle(f"replenish-{requisition.key}")
    assert await handle.result() == "rejected"
    (row,) = await _requisitions(engine, item)
    assert row.state == "rejected"
    assert await _stock_tasks(stack, "procurement.place_po", requisition.key) == []


async def test_a_replenishment_gone_without_a_decision_is_started_again(
    stack: Stack, engine: AsyncEngine
) -> None:
    item = f"GLAND-{uuid.uuid4().hex[:8]}"
    await _item(engine, item, safety_stock=15)
    (requisition,) = [r for r in (await _daily(stack)).safety_stock.created if r.item == item]
    approval = await _wait_stock_task(stack, "procurement.stock_approval", requisition.key)
    handle = stack.client.get_workflow_handle(f"replenish-{requisition.key}")
    first = (await handle.describe()).run_id
    await handle.terminate("test: worker lost")

    again = await _daily(stack)
    assert [r.key for r in again.safety_stock.awaiting_approval if r.item == item] == [
        requisition.key
    ]
    assert [r for r in again.safety_stock.created if r.item == item] == []
    restarted = await stack.client.get_workflow_handle(f"replenish-{requisition.key}").describe()
    assert restarted.run_id != first and restarted.status == WorkflowExecutionStatus.RUNNING
    assert len(await _requisitions(engine, item)) == 1
    # The inbox row the first run opened is the restarted run's task.
    assert [
        t["task_id"]
        for t in await _stock_tasks(stack, "procurement.stock_approval", requisition.key)
    ] == [approval["task_id"]]
    stage = await _complete_stock_task(stack, approval, {"approved": True}, ("head:procurement",))
    assert stage == "approved"


async def _post_completion(
    stack: Stack, task: dict[str, Any], payload: dict[str, Any], roles: tuple[str, ...]
) -> httpx.Response:
    return await stack.http.post(
        f"/procurement/tasks/{task['task_id']}/complete",
        json=payload,
        headers=stack.token("head-of-buying", *roles),
    )


async def _complete_stock_task(
    stack: Stack, task: dict[str, Any], payload: dict[str, Any], roles: tuple[str, ...]
) -> str:
    """Complete a stock task over HTTP (the answer is the task: it belongs to no order); returns
    the replenishment's state, which the workflow has reached when the call returns."""
    response = await _post_completion(stack, task, payload, roles)
    assert response.status_code == 200, response.text
    done = response.json()
    assert (done["task_id"], done["state"], done["order_no"]) == (task["task_id"], "done", "")
    handle = stack.client.get_workflow_handle(task["workflow_id"])
    return str((await handle.query(StockReplenishmentWorkflow.status))["state"])


# -- open orders (P4.2) ------------------------------------------------------------------------


def _bom(suffix: str) -> list[dict[str, Any]]:
    return [
        {"item": "KYN28-12", "qty_per": 1, "make_or_buy": "make"},
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
            "parent": "KYN28-12",
            "qty_per": 48,
            "make_or_buy": "buy",
            "supplier": "Fastenal",
        },
    ]


async def _stock_po(engine: AsyncEngine, item: str, qty: int) -> None:
    """An open purchase order bought for stock, not for an order."""
    po_no = f"PO-SEED-{uuid.uuid4().hex[:8]}"
    async with engine.begin() as conn:
        await conn.execute(
            insert(PurchaseOrder).values(
                po_no=po_no,
                supplier="Fastenal",
                order_no=None,
                promised_date=date.today() + timedelta(days=5),
                state="open",
                created_by="seed",
                created_at=datetime.now(UTC),
            )
        )
        await conn.execute(
            insert(PoLine).values(po_no=po_no, line_no=1, item=item, qty=D(qty), qty_received=0)
        )


async def test_daily_run_reserves_free_stock_and_requisitions_only_what_nothing_covers(
    flow: Stack, engine: AsyncEngine
) -> None:
    suffix = uuid.uuid4().hex[:6]
    bolt, breaker = f"BOLT-{suffix}", f"VS1-{suffix}"
    await _stock_po(engine, bolt, 40)  # MRP counts it: the order's requisition is 288 - 40
    order_no = await create_order(flow)  # six sets
    await to_master_plan(flow, order_no)
    await complete_ok(flow, "planning.master_plan", order_no, {"accept_proposal": True})
    await complete_ok(flow, "engineering.release_bom", order_no, {"lines": _bom(suffix)})
    by_item = {r.item: r for r in await _requisitions(engine, bolt)}
    assert by_item[bolt].qty == 248
    # The division refuses the special breaker: the order is short of it with nothing coming.
    await complete_ok(
        flow,
        "procurement.special_approval",
        order_no,
        {"approved": False, "comment": "wrong rating"},
        roles=("division",),
    )
    await _on_hand(engine, bolt, 100)  # found in another store

    result = await _daily(flow)
    realloc = result.reallocation
    assert realloc.reserved[order_no] == {bolt: D(100)}
    # 188 bolts still short, 248 requisitioned + 40 on the stock PO: nothing new to buy.
    (bought,) = realloc.requisitions[order_no]
    assert (bought.item, bought.qty, bought.reason) == (breaker, D(6), "order")
    assert bought.special is True and bought.supplier == "Chint"
    assert len(await _requisitions(engine, bolt)) == 1
    rows = {r.state: r for r in await _requisitions(engine, breaker)}
    assert set(rows) == {"rejected", "open"}
    assert rows["open"].order_no == order_no and rows["open"].bom_revision == 1
    assert order_no in result.notified

    notices = await _signals(flow, f"order-{order_no}", "material_notice")
    assert len(notices) == 2
    (stock,) = await _get(flow, "/warehouse/stock", item=bolt)
    assert D(stock["reserved"][order_no]) == 100 and D(stock["free"]) == 0
    view = await _get(flow, f"/orders/{order_no}")
    (event,) = [e for e in view["timeline"] if e["actor"] == "mrp-daily"]
    assert event["kind"] == "mrp" and f"requisition for 6 {breaker}" in event["summary"]

    # The same day again: everything is covered now, nothing is reserved or bought twice.
    again = await _daily(flow)
    assert order_no not in again.reallocation.reserved
    assert order_no not in again.reallocation.requisitions
    assert len(await _requisitions(engine, breaker)) == 2

    # An order whose workflow has ended does not fail the run.
    await flow.client.get_workflow_handle(f"order-{order_no}").terminate("test: order gone")
    await _on_hand(engine, bolt, 10)
    gone = await _daily(flow)
    assert gone.reallocation.reserved[order_no] == {bolt: D(10)}
    assert order_no in gone.unreachable and order_no not in gone.notified


# -- the rules, without a database -------------------------------------------------------------


def test_orders_draw_on_stock_then_supply_earliest_first() -> None:
    shortages = [("SO-1", D(30)), ("SO-2", D(50)), ("SO-3", D(20))]
    projection = project(D(10), D(60), shortages)
    assert projection == Projection(uncovered={"SO-2": D(10), "SO-3": D(20)}, left=D(0))
    assert project(D(0), D(0), []) == Projection(uncovered={}, left=D(0))


def test_what_orders_leave_decides_the_safety_stock_top_up() -> None:
    assert safety_topup(D(50), project(D(10), D(0), [])) == 40
    assert safety_topup(D(50), project(D(10), D(40), [])) == 0
    # An order takes the stock PO's goods first: safety stock needs all of its level again.
    busy = project(D(0), D(40), [("SO-1", D(40))])
    assert safety_topup(D(50), busy) == 50
    # A surplus of supply over every order's need counts for stock.
    assert safety_topup(D(50), project(D(0), D(70), [("SO-1", D(40))])) == 20
    assert safety_topup(D("2.5"), project(D("0.5"), D(0), [])) == D(2)


def test_daily_keys_are_stable_per_day_and_distinct_otherwise() -> None:
    today, tomorrow = date(2026, 3, 2), date(2026, 3, 3)
    key = daily_key("safety_stock", "BOLT", today)
    assert key == daily_key("safety_stock", "BOLT", today)
    assert key.startswith("ss-") and len(key) <= 64
    others = {
        daily_key("safety_stock", "BOLT", tomorrow),
        daily_key("safety_stock", "NUT", today),
        daily_key("order", "BOLT", today, "SO-1"),
        daily_key("order", "BOLT", today, "SO-2"),
    }
    assert key not in others and len(others) == 4
    assert daily_key("order", "BOLT", today, "SO-1").startswith("mrpd-")
    # A separator in a name cannot make two keys collide.
    assert daily_key("order", "B", today, "SO-1-A") != daily_key("order", "A-B", today, "SO-1")


def test_notices_tell_reservations_then_requisitions() -> None:
    requisition = RequisitionSummary(
        key="mrpd-x", item="VS1", qty=D(6), supplier="Chint", special=True, reason="order"
    )
    notices = notices_for({"NUT": D(5), "BOLT": D(100)}, [requisition])
    assert [(n.kind, n.item, n.qty) for n in notices] == [
        ("reserved", "BOLT", D(100)),
        ("reserved", "NUT", D(5)),
        ("requisition", "VS1", D(6)),
    ]
    assert notices[2].requisition == requisition
    assert all(n.message for n in notices)


@pytest.mark.parametrize(("text", "expected"), [("06:00", (6, 0)), ("23:59", (23, 59))])
def test_daily_time_reads_hours_and_minutes(text: str, expected: tuple[int, int]) -> None:
    assert hour_minute(text) == expected
    assert Settings(mrp_daily_at=text).mrp_daily_at == text


@pytest.mark.parametrize("text", ["24:00", "6:00", "06:60", "0600", "06:0", "noon", ""])
def test_daily_time_refuses_what_is_not_a_time_of_day(text: str) -> None:
    with pytest.raises(ValidationError):
        Settings(mrp_daily_at=text)
    with pytest.raises(ValueError):  # settings copied without validation are checked again
        hour_minute(text)


def test_env_sets_the_daily_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ORDERFLOW_MRP_DAILY_AT", "05:30")
    assert Settings().mrp_daily_at == "05:30"
    assert Settings.model_fields["mrp_daily_at"].default == "06:00"
