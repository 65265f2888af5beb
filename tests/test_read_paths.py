"""The order list's read model (migration 0022's `sales.order_progress`, kept by triggers on
the eight inboxes and the milestones) stays right, and `after` pages through every order once.

Rows are written with the same statements the task and plan activities use (insert a task,
close it, move its due time, detach it from the order; upsert and update milestones) and the
list is read through `list_orders`; a direct count over the inboxes (the list's former
correlated subqueries) checks the read model after every step.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import and_, func, insert, select, union_all, update
from sqlalchemy.dialects.postgresql import insert as upsert
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from services.orders.service import list_orders
from services.planning.models import Milestone
from services.sales.models import Order
from shared.settings import DEPARTMENTS
from shared.tasks.models import DONE, OPEN, inbox
from tests.conftest import Stack

NOW = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)


def _order(order_no: str, created_at: datetime, due: date | None = date(2026, 7, 1)) -> dict:
    return {
        "order_no": order_no,
        "workflow_id": f"order-{order_no}",
        "customer": "Read Co",
        "project_name": "p",
        "contract_no": "C-1",
        "drawing_refs": [],
        "requested_date": date(2026, 7, 1),
        "due_date": due,
        "amount": Decimal("1.00"),
        "currency": "CNY",
        "created_by": "t",
        "created_at": created_at,
        "updated_at": created_at,
    }


def _task(task_id: str, order_no: str, due_at: datetime) -> dict:
    return {
        "task_id": task_id,
        "kind": "sales.confirm_delivery",
        "order_no": order_no,
        "workflow_id": f"order-{order_no}",
        "title": "t",
        "state": OPEN,
        "context": {},
        "created_at": NOW - timedelta(days=1),
        "due_at": due_at,
    }


async def _direct(session: AsyncSession, order_no: str, now: datetime) -> tuple[int, bool]:
    """Open tasks and an overdue one, counted over the eight inboxes directly."""
    rows = union_all(
        *(
            select(inbox(d).c.due_at).where(
                inbox(d).c.order_no == order_no, inbox(d).c.state == OPEN
            )
            for d in DEPARTMENTS
        )
    ).subquery()
    count, first = (await session.execute(select(func.count(), func.min(rows.c.due_at)))).one()
    return count, first is not None and first < now


async def _seen(engine: AsyncEngine, now: datetime = NOW) -> dict[str, tuple[int, bool]]:
    async with AsyncSession(engine) as session:
        listed = await list_orders(session, now=now, limit=1000)
        for summary in listed:
            count, overdue = await _direct(session, summary.order_no, now)
            assert summary.open_task_count == count, summary.order_no
            if overdue and summary.status == "active":
                assert summary.late, summary.order_no
        return {s.order_no: (s.open_task_count, s.late) for s in listed}


async def test_open_tasks_and_lateness_follow_the_inboxes_and_the_plan(engine: AsyncEngine) -> None:
    async with engine.begin() as db:
        await db.execute(insert(Order), [_order("R-1", NOW), _order("R-2", NOW, due=None)])
        await db.execute(insert(inbox("sales")), [_task("s-1", "R-1", NOW + timedelta(hours=4))])
        await db.execute(
            insert(inbox("planning")),
            [_task("p-1", "R-1", NOW + timedelta(days=2)), _task("p-2", "R-2", NOW)],
        )
    assert await _seen(engine) == {"R-1": (2, False), "R-2": (1, False)}
    # Overdue by time alone: nothing written, the clock passed the earliest due time.
    assert (await _seen(engine, NOW + timedelta(hours=5)))["R-1"] == (2, True)
    assert (await _seen(engine, NOW + timedelta(seconds=1)))["R-2"] == (1, True)

    sales, planning = inbox("sales"), inbox("planning")
    async with engine.begin() as db:
        await db.execute(update(sales).where(sales.c.task_id == "s-1").values(state=DONE))
        await db.execute(
            update(planning).where(planning.c.task_id == "p-1").values(due_at=NOW - timedelta(1))
        )
    assert (await _seen(engine))["R-1"] == (1, True)
    async with engine.begin() as db:  # detach_tasks: the task carries on without the order
        await db.execute(update(planning).where(planning.c.task_id == "p-1").values(order_no=""))
    assert (await _seen(engine))["R-1"] == (0, False)

    # The ship forecast past the due date makes the order late until it ships.
    ship = {"order_no": "R-1", "name": "ship", "owner": "sales", "revision": 1}
    async with engine.begin() as db:
        await db.execute(
            upsert(Milestone).values(
                **ship, planned=date(2026, 6, 30), forecast=date(2026, 6, 30), updated_at=NOW
            )
        )
    assert (await _seen(engine))["R-1"] == (0, False)
    is_ship = and_(Milestone.order_no == "R-1", Milestone.name == "ship")  # type: ignore[arg-type]
    async with engine.begin() as db:
        await db.execute(update(Milestone).where(is_ship).values(forecast=date(2026, 7, 2)))
    assert (await _seen(engine))["R-1"] == (0, True)
    async with AsyncSession(engine) as session:
        late = await list_orders(session, late=True, now=NOW)
        on_time = await list_orders(session, late=False, now=NOW)
    assert [o.order_no for o in late] == ["R-1"]
    assert [o.order_no for o in on_time] == ["R-2"]
    async with engine.begin() as db:
        await db.execute(update(Milestone).where(is_ship).values(actual=date(2026, 6, 1)))
    assert (await _seen(engine))["R-1"] == (0, False)
    # A cancelled order is never late, whatever its tasks.
    async with engine.begin() as db:
        await db.execute(update(Order).where(Order.order_no == "R-2").values(status="cancelled"))  # type: ignore[arg-type]
    assert (await _seen(engine, NOW + timedelta(days=9)))["R-2"] == (1, False)


async def test_after_pages_through_every_order_once(stack: Stack, engine: AsyncEngine) -> None:
    # Seven orders, three of them created at the same instant: the cursor breaks the tie by
    # order number, as the list's order does.
    stamps = [NOW, NOW, NOW, NOW - timedelta(1), NOW + timedelta(1), NOW - timedelta(2), NOW]
    async with engine.begin() as db:
        await db.execute(insert(Order), [_order(f"K-{n}", at) for n, at in enumerate(stamps)])
    headers = stack.token("s", "sales")
    everything = (await stack.http.get("/orders", params={"limit": 100}, headers=headers)).json()
    seen: list[str] = []
    params: dict[str, str | int] = {"limit": 3}
    while True:
        page = await stack.http.get("/orders", params=params, headers=headers)
        assert page.status_code == 200, page.text
        numbers = [o["order_no"] for o in page.json()]
        if not numbers:
            break
        seen += numbers
        params["after"] = numbers[-1]
    assert seen == [o["order_no"] for o in everything]
    assert sorted(seen) == sorted(f"K-{n}" for n in range(7))
    offset = await stack.http.get("/orders", params={"limit": 3, "offset": 3}, headers=headers)
    assert [o["order_no"] for o in offset.json()] == seen[3:6]
    unknown = await stack.http.get("/orders", params={"after": "K-none"}, headers=headers)
    assert unknown.status_code == 422
    assert unknown.json()["error"] == "invalid_request"
    assert "after names no order" in unknown.json()["detail"]


async def test_two_inboxes_closing_at_once_leave_the_count_right(engine: AsyncEngine) -> None:
    # Two transactions close the order's last two tasks, in different inboxes, at once: the
    # second recompute waits on the order's progress row and counts what the first committed.
    async with engine.begin() as db:
        await db.execute(insert(Order), [_order("C-1", NOW)])
        await db.execute(insert(inbox("sales")), [_task("c-s", "C-1", NOW - timedelta(hours=1))])
        await db.execute(insert(inbox("quality")), [_task("c-q", "C-1", NOW + timedelta(hours=1))])
    assert (await _seen(engine))["C-1"] == (2, True)
    sales, quality = inbox("sales"), inbox("quality")
    async with engine.connect() as first, engine.connect() as second:
        await first.begin()
        await first.execute(update(sales).where(sales.c.task_id == "c-s").values(state=DONE))
        await second.begin()
        closing = asyncio.create_task(
            second.execute(update(quality).where(quality.c.task_id == "c-q").values(state=DONE))
        )
        await asyncio.sleep(0.2)
        assert not closing.done()  # waits for the first transaction's lock on the order
        await first.commit()
        await closing
        await second.commit()
    assert (await _seen(engine))["C-1"] == (0, False)
