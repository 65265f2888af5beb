"""What the fault drills drive and compare: an order walked from intake to both lots inspected,
and a count of every row it left in every department's tables."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.settings import DEPARTMENTS
from tests.conftest import Stack
from tests.material_drivers import (
    milestones,
    order_view,
    place_orders,
    receive_in_full,
    to_materials,
)


async def walk(stack: Stack, suffix: str) -> str:
    """One order from intake to both lots inspected and passed; returns its number."""
    order_no, view = await to_materials(stack, suffix)
    required = milestones(view)["material_required"]
    bolts_po, breakers_po = await place_orders(stack, order_no, suffix, breaker_promised=required)
    await receive_in_full(stack, order_no, suffix, bolts_po, breakers_po)
    return order_no


async def fingerprint(engine: AsyncEngine, order_no: str, suffix: str) -> Counter[str]:
    """What the order left in every department's tables, counted (item names carry `suffix`,
    which differs per order and is taken out)."""
    queries = {
        "requisition": "SELECT item, qty, reason, state FROM procurement.requisitions "
        "WHERE order_no = :o",
        "work_order": "SELECT item, qty, state FROM procurement.work_orders WHERE order_no = :o",
        "po": "SELECT state, supplier FROM procurement.purchase_orders WHERE order_no = :o",
        "po_line": "SELECT l.item, l.qty, l.qty_received FROM procurement.po_lines l JOIN "
        "procurement.purchase_orders p USING (po_no) WHERE p.order_no = :o",
        "receipt": "SELECT po_no IS NOT NULL, lot_no IS NOT NULL FROM warehouse.receipts "
        "WHERE order_no = :o",
        "lot": "SELECT item, source, qty_in, qty_left FROM warehouse.stock_lots WHERE item LIKE :s",
        "movement": "SELECT item, kind, qty FROM warehouse.movements WHERE item LIKE :s",
        "reservation": "SELECT item, qty FROM warehouse.reservations WHERE order_no = :o",
        "inspection": "SELECT state FROM quality.inspections WHERE order_no = :o",
        "escalation": "SELECT kind, level FROM escalation.escalations WHERE order_no = :o",
        "timeline": "SELECT kind, actor FROM planning.timeline WHERE order_no = :o",
        **{
            f"task:{dept}": f"SELECT kind, state FROM {dept}.tasks WHERE order_no = :o"
            for dept in DEPARTMENTS
        },
    }
    counted: Counter[str] = Counter()
    async with engine.connect() as connection:
        for name, sql in queries.items():
            rows = await connection.execute(text(sql), {"o": order_no, "s": f"%-{suffix}"})
            for row in rows:
                values = [str(v).replace(suffix, "*") for v in row]
                counted[f"{name}({', '.join(values)})"] += 1
    return counted


async def reference(stack: Stack, engine: AsyncEngine) -> Counter[str]:
    """Walk an order nothing disturbs: the rows every drilled order must end with."""
    suffix = uuid.uuid4().hex[:6]
    expected = await fingerprint(engine, await walk(stack, suffix), suffix)
    assert expected, "the undisturbed order left rows to compare with"
    return expected


async def walk_while(
    stack: Stack, orders: int, drill: Callable[[asyncio.Event], Awaitable[list[float]]]
) -> tuple[list[tuple[str, str]], list[float]]:
    """Walk `orders` orders side by side while `drill` runs (it stops when the event is set);
    returns each order with its suffix, and the drill's moments."""
    done = asyncio.Event()
    drilling = asyncio.create_task(drill(done))
    suffixes = [uuid.uuid4().hex[:6] for _ in range(orders)]
    try:
        walked = await asyncio.wait_for(
            asyncio.gather(*(walk(stack, s) for s in suffixes)), timeout=720
        )
    finally:
        done.set()
        moments = await drilling
    return list(zip(walked, suffixes, strict=True)), moments


async def assert_same_rows(
    stack: Stack, engine: AsyncEngine, walked: list[tuple[str, str]], expected: Counter[str]
) -> None:
    """Every walked order reached materials with exactly the `expected` rows, printed."""
    for order_no, suffix in walked:
        view = await order_view(stack, order_no)
        assert view["stage"] == "materials", (order_no, view["stage"])
        found = await fingerprint(engine, order_no, suffix)
        missing, extra = expected - found, found - expected
        print(f"  {order_no}: {sum(found.values())} rows; missing {dict(missing)}")
        print(f"  {order_no}: extra {dict(extra)}")
        assert (missing, extra) == (Counter(), Counter()), order_no
