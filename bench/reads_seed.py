"""The read-path benchmark's data, written with bulk SQL, and the order list as it was queried
before migration 0022's read model (for the before/after figures of bench_reads.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, func, or_, select, text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col

from services.planning.models import Milestone
from services.planning.scheduling import MILESTONE_OWNERS
from services.sales.models import Order
from shared.payloads import MILESTONES
from shared.settings import DEPARTMENTS
from shared.tasks.kinds import TASK_KINDS
from shared.tasks.models import OPEN, inbox
from shared.types import STAGES

SHORTAGE_KINDS = ("late_supply", "material_shortage", "short_pick", "delivery_refused", "task")

# Orders over the last year, newest `created_at` first in number order; 85 % active.
ORDERS_SQL = """
INSERT INTO sales.orders (order_no, workflow_id, customer, project_name, contract_no,
    drawing_refs, requested_date, due_date, amount, currency, priority, stage, status,
    created_by, created_at, updated_at)
SELECT 'SO-R' || lpad(i::text, 6, '0'), 'order-SO-R' || lpad(i::text, 6, '0'),
    'Customer ' || (i % 97), 'Substation ' || i, 'C-' || i, '[]'::jsonb,
    (now() - i * step)::date + 90, (now() - i * step)::date + 60 + (i % 45),
    100000 + i, 'CNY', CASE WHEN i % 10 = 0 THEN 'urgent' ELSE 'normal' END,
    (CAST(:stages AS text[]))[1 + i % cardinality(CAST(:stages AS text[]))],
    CASE WHEN i % 20 = 0 THEN 'cancelled' WHEN i % 20 < 3 THEN 'closed' ELSE 'active' END,
    'bench', now() - i * step, now()
FROM generate_series(0, CAST(:n AS int) - 1) AS i,
    (SELECT interval '365 days' / CAST(:n AS int) AS step) AS s
"""

# Eight milestones per order, planned a week apart from its start; forecasts slip 0-10 days;
# milestones planned before today have an actual, 0-5 days after the plan.
MILESTONES_SQL = """
INSERT INTO planning.milestones (order_no, name, owner, planned, forecast, actual, revision,
    updated_at)
SELECT o.order_no, m.name, m.owner, m.planned, m.planned + (hashtext(o.order_no || m.name) & 7),
    CASE WHEN m.planned < current_date
        THEN m.planned + (hashtext(m.name || o.order_no) & 5) END, 1, now()
FROM sales.orders AS o
CROSS JOIN LATERAL (
    SELECT name, owner, o.created_at::date + 7 * (k::int) AS planned
    FROM unnest(CAST(:names AS text[]), CAST(:owners AS text[]))
        WITH ORDINALITY AS x(name, owner, k)
) AS m
"""

# One inbox's share of the tasks: random orders, one in seven open (of active orders), due
# from five days ago to ten days ahead.
TASKS_SQL = """
INSERT INTO {schema}.tasks (task_id, kind, order_no, workflow_id, title, state, context,
    created_at, due_at, escalation_level)
SELECT '{schema}-' || t.i,
    (CAST(:kinds AS text[]))[1 + t.i % cardinality(CAST(:kinds AS text[]))], o.order_no,
    o.workflow_id, 'Bench task ' || t.i,
    CASE WHEN o.status = 'active' AND t.i % 7 = 0 THEN 'open' ELSE 'done' END, '{{}}'::jsonb,
    now() - interval '1 hour' * (t.i % 400), now() + interval '1 hour' * (t.i % 360 - 120), 0
FROM generate_series(1, CAST(:n AS int)) AS t(i)
JOIN sales.orders AS o
    ON o.order_no = 'SO-R' || lpad(
        ((hashtext('{schema}' || t.i) & 2147483647) % CAST(:orders AS int))::text, 6, '0')
"""

# Escalations: two per order on average, of every shortage kind, breached over the year; a
# third of the last two weeks' still open, the rest acknowledged.
ESCALATIONS_SQL = """
INSERT INTO escalation.escalations (key, kind, level, order_no, department, role,
    breached_at, message, state, acked_at, created_at)
SELECT 'bench-' || i,
    (CAST(:kinds AS text[]))[1 + i % cardinality(CAST(:kinds AS text[]))], 1 + i % 2,
    'SO-R' || lpad((i % CAST(:orders AS int))::text, 6, '0'), 'procurement', 'procurement',
    now() - interval '365 days' * (i::float / CAST(:n AS int)), 'bench',
    CASE WHEN i * 365 < 14 * CAST(:n AS int) AND i % 3 = 0 THEN 'open' ELSE 'acked' END,
    CASE WHEN i * 365 < 14 * CAST(:n AS int) AND i % 3 = 0 THEN NULL ELSE now() END, now()
FROM generate_series(1, CAST(:n AS int)) AS i
"""


async def seed(engine: AsyncEngine, orders: int, tasks: int) -> list[str]:
    """Write the data; the order numbers, newest first (the list's order)."""
    async with engine.begin() as conn:
        await conn.execute(text(ORDERS_SQL), {"n": orders, "stages": list(STAGES)})
        await conn.execute(
            text(MILESTONES_SQL),
            {"names": list(MILESTONES), "owners": [MILESTONE_OWNERS[m] for m in MILESTONES]},
        )
        for k, dept in enumerate(DEPARTMENTS):
            share = tasks // len(DEPARTMENTS) + (1 if k < tasks % len(DEPARTMENTS) else 0)
            kinds = sorted(name for name, spec in TASK_KINDS.items() if spec.department == dept)
            await conn.execute(
                text(TASKS_SQL.format(schema=dept)),
                {"n": share, "kinds": kinds or ["bench.task"], "orders": orders},
            )
        await conn.execute(
            text(ESCALATIONS_SQL),
            {"n": orders * 2, "kinds": list(SHORTAGE_KINDS), "orders": orders},
        )
    # Vacuumed and analysed, as autovacuum leaves a database in use (visibility map, hint
    # bits, statistics): the first reads are not the ones setting them.
    tables = ["sales.orders", "sales.order_progress", "planning.milestones"]
    tables += ["escalation.escalations", *(f"{dept}.tasks" for dept in DEPARTMENTS)]
    async with engine.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        for table in tables:
            await conn.execute(text(f"VACUUM (ANALYZE) {table}"))
    return [f"SO-R{i:06d}" for i in range(orders)]


def _old_late(now: datetime) -> ColumnElement[bool]:
    """The list's lateness before migration 0022: subqueries over every inbox, per order."""
    overdue_task = or_(
        *(
            exists().where(
                inbox(d).c.order_no == col(Order.order_no),
                inbox(d).c.state == OPEN,
                inbox(d).c.due_at < now,
            )
            for d in DEPARTMENTS
        )
    )
    ship_late = exists().where(
        col(Milestone.order_no) == col(Order.order_no),
        col(Milestone.name) == "ship",
        col(Milestone.actual).is_(None),
        col(Milestone.forecast) > col(Order.due_date),
    )
    return and_(col(Order.status) == "active", or_(overdue_task, ship_late))


def old_list_query(now: datetime, *, late: bool | None) -> Select[Any]:
    """`GET /orders` (first page of 100) as one statement before the read model."""
    counts = [
        select(func.count())
        .where(inbox(d).c.order_no == col(Order.order_no), inbox(d).c.state == OPEN)
        .scalar_subquery()
        for d in DEPARTMENTS
    ]
    total: Any = counts[0]
    for count in counts[1:]:
        total = total + count
    late_col = _old_late(now)
    query = (
        select(Order, late_col.label("late"), total.label("open_tasks"))
        .order_by(col(Order.created_at).desc(), col(Order.order_no))
        .limit(100)
    )
    return query.where(late_col) if late else query
