"""The view of one order (what `GET /orders/{order_no}` and every task completion return), read
in one SQL statement.

Each part of the view (lines, plan, milestones, open tasks of the eight inboxes, escalations,
timeline, material, NCRs, issues, changes) is a JSON aggregate in one SELECT, so a view costs
one round trip and one prepared statement instead of fifteen. Numbers travel as text (a
NUMERIC keeps its scale: "2.000" stays Decimal("2.000")) and times as UTC ISO text (whatever
the session's TimeZone), so the view equals what reading each table with the ORM gave.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    DateTime,
    Numeric,
    Table,
    Text,
    bindparam,
    func,
    literal_column,
    select,
    union_all,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import Select

from services.orders.schemas import (
    ChangeView,
    IssueView,
    MaterialPublic,
    OrderLinePublic,
    OrderSummary,
    OrderView,
)
from services.planning.models import Milestone, PlanRevision
from services.planning.schemas import MilestonePublic, PlanRevisionPublic
from services.procurement.models import PoLine, PurchaseOrder, Requirement
from services.production.models import ProductionIssue
from services.quality.models import Ncr
from services.sales.models import CustomerChange, Order, OrderLine
from services.warehouse.models import Reservation, StockItem
from shared.escalations.models import Escalation
from shared.escalations.schemas import EscalationPublic
from shared.payloads import MILESTONES
from shared.settings import DEPARTMENTS
from shared.tasks.models import OPEN, inbox
from shared.tasks.service import task_public
from shared.timeline import TimelineEntry, TimelineEvent

ZERO = Decimal(0)
ORDER_NO = bindparam("order_no", type_=Text)
_UTC_ISO = 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"'


def table_of(model: Any) -> Table:
    return cast(Table, model.__table__)


def _sql(word: str) -> ColumnElement[str]:
    """A constant of ours (a column name, a department, a format) as an SQL literal, so the
    statement has one parameter, the order number, and prepares once."""
    if "'" in word:
        raise ValueError(f"{word!r} is not a plain SQL constant")
    return literal_column(f"'{word}'", type_=Text)


def _value(column: Any) -> ColumnElement[Any]:
    """A column as the JSON object carries it: NUMERIC as text, timestamps as UTC ISO text."""
    if isinstance(column.type, Numeric):
        return cast(ColumnElement[Any], column.cast(Text))
    if isinstance(column.type, DateTime) and column.type.timezone:
        return func.to_char(func.timezone(_sql("UTC"), column), _sql(_UTC_ISO))
    return cast(ColumnElement[Any], column)


def _object(columns: Any, *extra: tuple[str, Any]) -> ColumnElement[Any]:
    """`json_build_object` of the columns (by name) and the extra (name, value) pairs."""
    pairs: list[Any] = []
    for column in columns:
        pairs += [_sql(column.name), _value(column)]
    for name, value in extra:
        pairs += [_sql(name), value]
    return func.json_build_object(*pairs)


def _rows(source: Any, where: Any, *order: Any) -> Any:
    """The rows of `source` passing `where`, as one JSON array in `order` ('[]' when none)."""
    obj = _object(source.c)
    agg = func.json_agg(aggregate_order_by(obj, *order)) if order else func.json_agg(obj)
    rows = select(agg).select_from(source).where(where).scalar_subquery()
    return func.coalesce(rows, literal_column("'[]'::json"))


def _of_order(model: Any, *order: str) -> Any:
    table = table_of(model)
    return _rows(table, table.c.order_no == ORDER_NO, *(table.c[name] for name in order))


def _open_tasks() -> Any:
    parts = [
        select(*inbox(dept).c, _sql(dept).label("department")).where(
            inbox(dept).c.order_no == ORDER_NO, inbox(dept).c.state == OPEN
        )
        for dept in DEPARTMENTS
    ]
    tasks = union_all(*parts).subquery("open_tasks")
    return _rows(tasks, literal_column("true"), tasks.c.due_at)


def _stock_of_requirements() -> Any:
    stock, required = table_of(StockItem), table_of(Requirement)
    items = select(required.c.item).where(required.c.order_no == ORDER_NO)
    return _rows(stock, stock.c.item.in_(items))


def _open_po_lines() -> Any:
    po, line = table_of(PurchaseOrder), table_of(PoLine)
    lines = (
        select(
            line.c.item,
            line.c.qty,
            line.c.qty_received,
            # A line whose date the buyer moved has its own (§4.9).
            func.coalesce(line.c.promised_date, po.c.promised_date).label("promised_date"),
        )
        .join(po, po.c.po_no == line.c.po_no)
        .where(po.c.order_no == ORDER_NO, po.c.state == "open")
        .subquery("open_po_lines")
    )
    return _rows(lines, literal_column("true"))


def _latest_plan() -> Any:
    plan = table_of(PlanRevision)
    return (
        select(_object(plan.c))
        .where(plan.c.order_no == ORDER_NO)
        .order_by(plan.c.revision.desc())
        .limit(1)
        .scalar_subquery()
    )


def _view_query() -> Select[Any]:
    order = table_of(Order)
    parts: dict[str, Any] = {
        "order": select(_object(order.c)).where(order.c.order_no == ORDER_NO).scalar_subquery(),
        "lines": _of_order(OrderLine, "line_no"),
        "plan": _latest_plan(),
        "milestones": _of_order(Milestone),
        "open_tasks": _open_tasks(),
        "escalations": _of_order(Escalation, "id"),
        "timeline": _of_order(TimelineEvent, "at", "id"),
        "requirements": _of_order(Requirement, "item"),
        "reservations": _of_order(Reservation),
        "stock": _stock_of_requirements(),
        "po_lines": _open_po_lines(),
        "ncrs": _of_order(Ncr, "ncr_no"),
        "issues": _of_order(ProductionIssue, "reported_at", "issue_no"),
        "changes": _of_order(CustomerChange, "requested_at", "change_no"),
    }
    return select(*(value.cast(Text).label(name) for name, value in parts.items()))


VIEW_QUERY = _view_query()


async def order_view(
    session: AsyncSession, order_no: str, now: datetime | None = None
) -> OrderView | None:
    """Everything about one order, in one statement; None when there is no such order."""
    now = now or datetime.now(UTC)
    row = (await session.execute(VIEW_QUERY, {"order_no": order_no})).one()
    if row.order is None:
        return None
    part = {name: json.loads(value) for name, value in row._mapping.items() if value is not None}
    order = part["order"]
    milestone_rows = {m["name"]: m for m in part["milestones"]}
    milestones = _milestones(milestone_rows, now.date())
    open_tasks = [task_public(_Row(t), t["department"], now) for t in part["open_tasks"]]
    ship = next((m for m in milestones if m.name == "ship"), None)
    due_date = date.fromisoformat(order["due_date"]) if order["due_date"] else None
    late = order["status"] == "active" and (
        any(t.overdue for t in open_tasks)
        or bool(ship and due_date and ship.actual is None and ship.forecast > due_date)
    )
    summary = OrderSummary.model_validate(
        {**order, "late": late, "open_task_count": len(open_tasks)}
    )
    return OrderView(
        **summary.model_dump(),
        contract_no=order["contract_no"],
        technical_agreement_ref=order["technical_agreement_ref"],
        drawing_refs=order["drawing_refs"],
        amount=Decimal(order["amount"]),
        currency=order["currency"],
        status_reason=order["status_reason"],
        lines=[OrderLinePublic.model_validate(line) for line in part["lines"]],
        plan=_plan(part.get("plan"), milestone_rows),
        milestones=milestones,
        open_tasks=open_tasks,
        escalations=[EscalationPublic.model_validate(e) for e in part["escalations"]],
        timeline=[TimelineEntry.model_validate(t) for t in part["timeline"]],
        materials=_materials(part),
        issues=[IssueView.model_validate(issue) for issue in part["issues"]],
        changes=[ChangeView.model_validate(change) for change in part["changes"]],
    )


class _Row:
    """A task's JSON object where `task_public` expects a row (its `_mapping`), with the
    times and the JSON columns as the inbox table gives them."""

    def __init__(self, task: dict[str, Any]) -> None:
        data = dict(task)
        for name in ("created_at", "due_at", "completed_at"):
            if data.get(name) is not None:
                data[name] = datetime.fromisoformat(data[name])
        self._mapping = data


def _plan(
    plan: dict[str, Any] | None, current: dict[str, dict[str, Any]]
) -> PlanRevisionPublic | None:
    """The latest published revision, each milestone with its current forecast and actual."""
    if plan is None:
        return None
    milestones = {
        name: {
            "planned": planned,
            "forecast": current[name]["forecast"] if name in current else planned,
            "actual": current[name]["actual"] if name in current else None,
        }
        for name, planned in plan["milestones"].items()
    }
    return PlanRevisionPublic.model_validate({**plan, "milestones": milestones})


def _milestones(rows: dict[str, dict[str, Any]], today: date) -> list[MilestonePublic]:
    shown = []
    for name in MILESTONES:
        row = rows.get(name)
        if row is None:
            continue
        milestone = MilestonePublic.model_validate({**row, "late": False})
        milestone.late = (milestone.actual or today) > milestone.planned
        shown.append(milestone)
    return shown


def _materials(part: dict[str, Any]) -> list[MaterialPublic]:
    """The order's material line by line, with the NCRs raised on its goods."""
    held = {r["item"]: r for r in part["reservations"]}
    pending = {s["item"]: Decimal(s["pending_inspection"]) for s in part["stock"]}
    on_order: dict[str, Decimal] = defaultdict(Decimal)
    promised: dict[str, date] = {}
    for line in part["po_lines"]:
        open_qty = Decimal(line["qty"]) - Decimal(line["qty_received"])
        if open_qty > 0:
            on_order[line["item"]] += open_qty
            day = date.fromisoformat(line["promised_date"])
            promised[line["item"]] = max(promised.get(line["item"], day), day)
    ncrs: dict[str, list[str]] = {}
    for ncr in part["ncrs"]:
        verdict = ncr["disposition"] or "open"
        text = f"{ncr['ncr_no']}: {Decimal(ncr['qty'])} {ncr['defect']} ({verdict})"
        ncrs.setdefault(ncr["item"], []).append(text)
    materials = []
    for requirement in part["requirements"]:
        item = requirement["item"]
        reservation = held.get(item)
        required = Decimal(requirement["qty"])
        reserved = Decimal(reservation["qty"]) if reservation else ZERO
        materials.append(
            MaterialPublic(
                item=item,
                special=requirement["special"],
                required=required,
                reserved=reserved,
                picked=Decimal(reservation["picked"]) if reservation else ZERO,
                missing=max(required - reserved, ZERO),
                pending_inspection=pending.get(item, ZERO),
                on_order=on_order[item],
                promised_date=promised.get(item),
                ncrs=ncrs.get(item, []),
            )
        )
    return materials
