"""NCR branches no other test walks (§5.4, P6.3), on the time-skipping server through the
public API: one of six breakers rejected leaves the order short, then quality's `concession`
(after the planner asked for it) keeps the goods for the order, `scrap` writes them off and
the PO owes them again at once, and the planner's `reuse_stock` covers the order from free
stock. The stack works every day so the daily MRP runs whatever day it is."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.testing import WorkflowEnvironment

from tests.branch_drivers import ShortBreaker, short_of_a_breaker
from tests.conftest import Stack
from tests.daily_mrp_drivers import (  # the stacks: a plant working every day
    _daily,
    _get,
    _on_hand,
    every_day_flow,  # noqa: F401
)
from tests.helpers import MARGIN, advance_to, complete_ok, escalations, settled, wait_task
from tests.material_drivers import (
    SETS,
    inbox_tasks,
    order_view,
    production_start,
    stock,
    wait_view,
)

D = Decimal


def _line(view: dict[str, Any], item: str) -> dict[str, Any]:
    (line,) = [x for x in view["materials"] if x["item"] == item]
    return dict(line)


async def _movements(stack: Stack, short: ShortBreaker) -> dict[str, Decimal]:
    """The breaker lot's ledger: quantity per movement kind."""
    lot_no = short.judgement["context"]["lot_no"]
    trace = await _get(stack, "/warehouse/trace", lot=lot_no)
    (lot,) = trace["lots"]
    kinds: dict[str, Decimal] = {}
    for movement in lot["movements"]:
        if movement["item"] == short.breaker:
            kinds[movement["kind"]] = kinds.get(movement["kind"], D(0)) + D(movement["qty"])
    return kinds


async def _judge(stack: Stack, short: ShortBreaker, disposition: str, comment: str) -> None:
    await complete_ok(
        stack,
        "quality.ncr_judgement",
        short.order_no,
        {"disposition": disposition, "comment": comment},
    )
    await settled(
        stack, f"order-{short.order_no}", f"inspection-{short.judgement['context']['lot_no']}"
    )


def _judged(view: dict[str, Any], short: ShortBreaker) -> dict[str, Any]:
    (event,) = [e for e in view["timeline"] if e["kind"] == "ncr" and "judged" in e["summary"]]
    assert event["detail"]["ncr_no"] == short.ncr_no, event
    return dict(event)


async def _breaker_po_received(stack: Stack, short: ShortBreaker) -> Decimal:
    pos = await _get(stack, "/procurement/purchase-orders", order_no=short.order_no)
    (line,) = [x for po in pos for x in po["lines"] if x["item"] == short.breaker]
    return D(line["qty_received"])


async def test_concession_the_planner_asks_for_keeps_the_goods_for_the_order(
    flow: Stack, ts_env: WorkflowEnvironment
) -> None:
    short = await short_of_a_breaker(flow)
    order_no, breaker = short.order_no, short.breaker

    # The planner asks quality for a concession: recorded on the order and on the NCR.
    await complete_ok(flow, "planning.ncr_disposition", order_no, {"action": "concession"})
    view = await wait_view(
        flow,
        order_no,
        lambda v: any("asks quality for a concession" in e["summary"] for e in v["timeline"]),
        "concession request event",
    )
    assert Decimal(_line(view, breaker)["missing"]) == 1
    judgement = await wait_task(flow, "quality.ncr_judgement", order_no)
    assert judgement["task_id"] == short.judgement["task_id"]

    # Quality grants it: the breaker goes into stock from the NCR and is reserved for the
    # order, which is short of nothing any more; the PO owes nothing again.
    await _judge(flow, short, "concession", "usable as is")
    assert (await _movements(flow, short)).get("concession") == 1
    breakers = await stock(flow, breaker)
    assert D(breakers["on_hand"]) == SETS and D(breakers["free"]) == 0
    assert {k: D(v) for k, v in breakers["reserved"].items()} == {order_no: SETS}
    view = await order_view(flow, order_no)
    line = _line(view, breaker)
    assert D(line["missing"]) == 0 and D(line["reserved"]) == SETS
    assert line["ncrs"] == [f"{short.ncr_no}: 1.0000 cracked housing (concession)"]
    event = _judged(view, short)
    assert event["detail"]["disposition"] == "concession" and event["detail"]["pass_no"] is None
    assert await _breaker_po_received(flow, short) == SETS

    # The daily MRP buys nothing for it; three days ahead the material is complete.
    result = await _daily(flow)
    assert order_no not in result.reallocation.requisitions
    await advance_to(ts_env, production_start(view) - timedelta(days=3) + MARGIN)
    await wait_view(
        flow,
        order_no,
        lambda v: any(e["kind"] == "material_complete" for e in v["timeline"]),
        "material_complete event",
    )
    assert not [e for e in await escalations(flow, order_no) if e["kind"] == "material_shortage"]


async def test_scrap_writes_the_goods_off_and_the_po_owes_them_again_at_once(
    flow: Stack,
) -> None:
    short = await short_of_a_breaker(flow)
    order_no, breaker = short.order_no, short.breaker

    await _judge(flow, short, "scrap", "housing beyond repair")
    # Written off at the plant: no release pass, nothing into stock.
    moved = await _movements(flow, short)
    assert moved.get("scrapped") == 1 and "concession" not in moved and "released" not in moved
    breakers = await stock(flow, breaker)
    assert D(breakers["on_hand"]) == 5 and D(breakers["free"]) == 0
    assert {k: D(v) for k, v in breakers["reserved"].items()} == {order_no: 5}
    # Covered again at the judgement, with no daily MRP run: the supplier owes it on the PO.
    assert await _breaker_po_received(flow, short) == 5
    pos = await _get(flow, "/procurement/purchase-orders", order_no=order_no)
    (po,) = [po for po in pos if any(x["item"] == breaker for x in po["lines"])]
    assert po["state"] == "open"
    view = await order_view(flow, order_no)
    event = _judged(view, short)
    assert event["detail"] == {"ncr_no": short.ncr_no, "disposition": "scrap", "pass_no": None}
    line = _line(view, breaker)
    assert D(line["missing"]) == 1 and D(line["on_order"]) == 1
    assert line["ncrs"] == [f"{short.ncr_no}: 1.0000 cracked housing (scrap)"]
    # The planner's decision is still asked for: the order is short because of the NCR.
    (open_disposition,) = await inbox_tasks(flow, "planning", order_no, "planning.ncr_disposition")
    assert open_disposition["task_id"] == short.disposition["task_id"]

    # The daily MRP counts what the PO owes again: it buys nothing more for the order.
    result = await _daily(flow)
    assert order_no not in result.reallocation.requisitions
    requisitions = await _get(flow, "/procurement/requisitions", order_no=order_no)
    assert not [r for r in requisitions if r["item"] == breaker and r["reason"] != "order"]


async def test_reuse_stock_reserves_free_stock_for_the_short_order(
    flow: Stack, engine: AsyncEngine
) -> None:
    short = await short_of_a_breaker(flow)
    order_no, breaker = short.order_no, short.breaker
    await _on_hand(engine, breaker, 4)  # found in another store, free
    before = await stock(flow, breaker)
    assert D(before["free"]) == 4 and D(before["reserved"][order_no]) == 5

    await complete_ok(flow, "planning.ncr_disposition", order_no, {"action": "reuse_stock"})
    # Exactly the one missing breaker is set aside for the order, the rest stays free.
    after = await stock(flow, breaker)
    assert D(after["free"]) == 3 and D(after["on_hand"]) == 9
    assert {k: D(v) for k, v in after["reserved"].items()} == {order_no: SETS}
    view = await wait_view(
        flow,
        order_no,
        lambda v: any(
            e["kind"] == "reservation" and "reuse stock" in e["summary"] for e in v["timeline"]
        ),
        "reuse stock event",
    )
    (event,) = [e for e in view["timeline"] if "reuse stock" in e["summary"]]
    assert event["summary"] == f"reuse stock: 1.0000 {breaker} reserved from free stock"
    assert D(_line(view, breaker)["missing"]) == 0
    # The NCR itself still waits for quality; the daily MRP has nothing to buy for the order.
    assert await inbox_tasks(flow, "quality", order_no, "quality.ncr_judgement")
    assert order_no not in (await _daily(flow)).reallocation.requisitions


async def test_concession_quality_grants_unasked_covers_the_order_and_ends_the_planners_question(
    flow: Stack, ts_env: WorkflowEnvironment
) -> None:
    short = await short_of_a_breaker(flow)
    order_no, breaker = short.order_no, short.breaker

    await _judge(flow, short, "concession", "cosmetic only")
    view = await order_view(flow, order_no)
    assert D(_line(view, breaker)["missing"]) == 0
    assert not [e for e in view["timeline"] if "asks quality for a concession" in e["summary"]]
    # The planner's question about the shortage stays until the completeness check finds the
    # line covered, three days ahead at the latest; then it is withdrawn, not answered.
    await advance_to(ts_env, production_start(view) - timedelta(days=3) + MARGIN)
    await wait_view(
        flow,
        order_no,
        lambda v: any(e["kind"] == "material_complete" for e in v["timeline"]),
        "material_complete event",
    )
    await settled(flow, f"order-{order_no}")
    assert not await inbox_tasks(flow, "planning", order_no, "planning.ncr_disposition")
    (withdrawn,) = await inbox_tasks(
        flow, "planning", order_no, "planning.ncr_disposition", state="withdrawn"
    )
    assert withdrawn["task_id"] == short.disposition["task_id"]
