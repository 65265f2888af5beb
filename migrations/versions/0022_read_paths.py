"""read paths: indexes for the order list and the KPIs, and the order-progress read model

`sales.order_progress` keeps, per order, what the order list needs of the eight inboxes and the
plan: the open-task count, the earliest due time among the open tasks and the ship forecast
while the order has not shipped. Lateness still depends on the time of the read, so the list
compares these with now in SQL instead of evaluating 16 correlated subqueries per order.

Triggers keep it: statement-level triggers on every department's `tasks` and on
`planning.milestones` recompute the rows of the orders a statement touched, so the workflow's
own writes (the task and plan activities) stay what they are and remain the source of truth.
A recompute first locks the order's progress row (in order-number order), then counts in a new
statement: two transactions closing tasks of one order in different inboxes serialise there,
and the later one counts what the earlier committed. Rows without an order (`order_no = ''`)
are left out.

Revision ID: 0022
Revises: 0020
Create Date: 2026-12-05 02:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The departments with an inbox when this migration was written (shared.departments).
INBOX_SCHEMAS: tuple[str, ...] = (
    "sales",
    "engineering",
    "procurement",
    "planning",
    "warehouse",
    "quality",
    "production",
    "aftersales",
)
EVENTS: tuple[str, ...] = ("insert", "update", "delete")

_OPEN_ROWS = "\n            UNION ALL ".join(
    f"SELECT order_no, due_at FROM {schema}.tasks WHERE state = 'open' AND order_no = ANY(nos)"
    for schema in INBOX_SCHEMAS
)

REFRESH_TASKS = f"""
CREATE FUNCTION sales.refresh_order_tasks(nos text[]) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    nos := ARRAY(
        SELECT DISTINCT n FROM unnest(nos) AS n WHERE n IS NOT NULL AND n <> '' ORDER BY n);
    IF cardinality(nos) = 0 THEN
        RETURN;
    END IF;
    INSERT INTO sales.order_progress (order_no) SELECT unnest(nos) ON CONFLICT DO NOTHING;
    PERFORM 1 FROM sales.order_progress WHERE order_no = ANY(nos) ORDER BY order_no FOR UPDATE;
    UPDATE sales.order_progress AS p
    SET open_tasks = agg.n, next_due_at = agg.due
    FROM (
        SELECT o.no, count(r.order_no)::int AS n, min(r.due_at) AS due
        FROM unnest(nos) AS o(no)
        LEFT JOIN (
            {_OPEN_ROWS}
        ) AS r ON r.order_no = o.no
        GROUP BY o.no
    ) AS agg
    WHERE p.order_no = agg.no
      AND (p.open_tasks, p.next_due_at) IS DISTINCT FROM (agg.n, agg.due);
END $$
"""

REFRESH_SHIP = """
CREATE FUNCTION sales.refresh_order_ship(nos text[]) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    nos := ARRAY(
        SELECT DISTINCT n FROM unnest(nos) AS n WHERE n IS NOT NULL AND n <> '' ORDER BY n);
    IF cardinality(nos) = 0 THEN
        RETURN;
    END IF;
    INSERT INTO sales.order_progress (order_no) SELECT unnest(nos) ON CONFLICT DO NOTHING;
    PERFORM 1 FROM sales.order_progress WHERE order_no = ANY(nos) ORDER BY order_no FOR UPDATE;
    UPDATE sales.order_progress AS p
    SET ship_forecast = (
        SELECT m.forecast FROM planning.milestones AS m
        WHERE m.order_no = p.order_no AND m.name = 'ship' AND m.actual IS NULL
    )
    WHERE p.order_no = ANY(nos);
END $$
"""

# One function per event: a statement-level trigger with transition tables has one event.
TASK_TRIGGERS = {
    "insert": """
CREATE FUNCTION sales.order_progress_tasks_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM sales.refresh_order_tasks(
        ARRAY(SELECT order_no FROM new_rows WHERE state = 'open'));
    RETURN NULL;
END $$
""",
    "update": """
CREATE FUNCTION sales.order_progress_tasks_update() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM sales.refresh_order_tasks(ARRAY(
        SELECT unnest(ARRAY[o.order_no, n.order_no])
        FROM old_rows AS o JOIN new_rows AS n USING (task_id)
        WHERE (o.order_no, o.state, o.due_at) IS DISTINCT FROM (n.order_no, n.state, n.due_at)));
    RETURN NULL;
END $$
""",
    "delete": """
CREATE FUNCTION sales.order_progress_tasks_delete() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM sales.refresh_order_tasks(
        ARRAY(SELECT order_no FROM old_rows WHERE state = 'open'));
    RETURN NULL;
END $$
""",
}

SHIP_TRIGGERS = {
    "insert": """
CREATE FUNCTION sales.order_progress_ship_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM sales.refresh_order_ship(ARRAY(SELECT order_no FROM new_rows WHERE name = 'ship'));
    RETURN NULL;
END $$
""",
    "update": """
CREATE FUNCTION sales.order_progress_ship_update() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM sales.refresh_order_ship(ARRAY(
        SELECT order_no FROM new_rows WHERE name = 'ship'
        UNION SELECT order_no FROM old_rows WHERE name = 'ship'));
    RETURN NULL;
END $$
""",
    "delete": """
CREATE FUNCTION sales.order_progress_ship_delete() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM sales.refresh_order_ship(ARRAY(SELECT order_no FROM old_rows WHERE name = 'ship'));
    RETURN NULL;
END $$
""",
}


def _open_of(schema: str) -> str:
    return f"SELECT order_no, due_at FROM {schema}.tasks WHERE state = 'open'"


# Orders and plans that exist already: their progress rows, computed once.
BACKFILL = f"""
INSERT INTO sales.order_progress (order_no, open_tasks, next_due_at, ship_forecast)
SELECT no, coalesce(t.n, 0), t.due, s.forecast
FROM (
    SELECT order_no AS no FROM sales.orders
    UNION SELECT order_no FROM planning.milestones WHERE name = 'ship'
    {"".join(f" UNION SELECT order_no FROM {s}.tasks WHERE state = 'open'" for s in INBOX_SCHEMAS)}
) AS every
LEFT JOIN (
    SELECT order_no, count(*)::int AS n, min(due_at) AS due FROM (
        {" UNION ALL ".join(_open_of(s) for s in INBOX_SCHEMAS)}
    ) AS r GROUP BY order_no
) AS t ON t.order_no = every.no
LEFT JOIN planning.milestones AS s
    ON s.order_no = every.no AND s.name = 'ship' AND s.actual IS NULL
WHERE no <> ''
"""


def _transition(event: str) -> str:
    if event == "insert":
        return "REFERENCING NEW TABLE AS new_rows"
    if event == "delete":
        return "REFERENCING OLD TABLE AS old_rows"
    return "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows"


def upgrade() -> None:
    # An order's open tasks by (order_no, state): without it the order-progress recompute
    # ANDs the order's rows with every open task of the inbox (ix_*_tasks_state_due).
    for schema in INBOX_SCHEMAS:
        op.drop_index(f"ix_{schema}_tasks_order_no", table_name="tasks", schema=schema)
        op.create_index(
            f"ix_{schema}_tasks_order_no_state",
            "tasks",
            ["order_no", "state"],
            unique=False,
            schema=schema,
        )
    op.create_index(
        op.f("ix_sales_orders_created_at"), "orders", ["created_at"], unique=False, schema="sales"
    )
    op.create_index(
        "ix_planning_milestones_name_planned",
        "milestones",
        ["name", "planned"],
        unique=False,
        schema="planning",
    )
    op.create_index(
        "ix_escalation_escalations_kind_breached_at",
        "escalations",
        ["kind", "breached_at"],
        unique=False,
        schema="escalation",
    )
    op.create_index(
        op.f("ix_escalation_escalations_acked_at"),
        "escalations",
        ["acked_at"],
        unique=False,
        schema="escalation",
    )
    op.create_table(
        "order_progress",
        sa.Column("order_no", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("open_tasks", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ship_forecast", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("order_no"),
        schema="sales",
    )
    op.execute(REFRESH_TASKS)
    op.execute(REFRESH_SHIP)
    for event in EVENTS:
        op.execute(TASK_TRIGGERS[event])
        op.execute(SHIP_TRIGGERS[event])
        for schema in INBOX_SCHEMAS:
            op.execute(
                f"CREATE TRIGGER order_progress_{event} AFTER {event.upper()} ON {schema}.tasks"
                f" {_transition(event)} FOR EACH STATEMENT"
                f" EXECUTE FUNCTION sales.order_progress_tasks_{event}()"
            )
        op.execute(
            f"CREATE TRIGGER order_progress_{event} AFTER {event.upper()} ON planning.milestones"
            f" {_transition(event)} FOR EACH STATEMENT"
            f" EXECUTE FUNCTION sales.order_progress_ship_{event}()"
        )
    op.execute(BACKFILL)


def downgrade() -> None:
    for event in EVENTS:
        for schema in INBOX_SCHEMAS:
            op.execute(f"DROP TRIGGER IF EXISTS order_progress_{event} ON {schema}.tasks")
        op.execute(f"DROP TRIGGER IF EXISTS order_progress_{event} ON planning.milestones")
        op.execute(f"DROP FUNCTION IF EXISTS sales.order_progress_tasks_{event}()")
        op.execute(f"DROP FUNCTION IF EXISTS sales.order_progress_ship_{event}()")
    op.execute("DROP FUNCTION IF EXISTS sales.refresh_order_tasks(text[])")
    op.execute("DROP FUNCTION IF EXISTS sales.refresh_order_ship(text[])")
    op.drop_table("order_progress", schema="sales")
    op.drop_index(
        op.f("ix_escalation_escalations_acked_at"), table_name="escalations", schema="escalation"
    )
    op.drop_index(
        "ix_escalation_escalations_kind_breached_at", table_name="escalations", schema="escalation"
    )
    op.drop_index("ix_planning_milestones_name_planned", table_name="milestones", schema="planning")
    op.drop_index(op.f("ix_sales_orders_created_at"), table_name="orders", schema="sales")
    for schema in INBOX_SCHEMAS:
        op.drop_index(f"ix_{schema}_tasks_order_no_state", table_name="tasks", schema=schema)
        op.create_index(
            f"ix_{schema}_tasks_order_no", "tasks", ["order_no"], unique=False, schema=schema
        )
