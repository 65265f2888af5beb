"""What the fault drills drive and compare: an order walked from intake to both lots inspected,
and a count of every row it left in every department's tables."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.settings import DEPARTMENTS
from tests.conftest import Stack
from tests.material_drivers import milestones, place_orders, receive_in_full, to_materials


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
