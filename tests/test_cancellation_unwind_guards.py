"""Cancelling an order, the database side: `unwind_order` is done once, and only for an order
that can be cancelled; and the refusals of `POST /sales/orders/{order_no}/cancel` that come
before the workflow is asked."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col
from temporalio.exceptions import ApplicationError

from services.procurement.models import (
    Requisition,
)
from services.sales.models import Cancellation
from services.warehouse.models import Movement, Reservation
from shared.db import session_scope
from shared.settings import Settings
from shared.timeline import TimelineEvent
from tests.conftest import Stack
from tests.unwind_drivers import (
    NOW,
    D,
    _order,
    _requisition,
    _scene,
    _sfx,
    _unwind,
)

# -- once, and only for an order that can be cancelled -----------------------------------------


async def test_a_retry_answers_the_same_result_and_changes_nothing(
    engine: AsyncEngine, base_settings: Settings
) -> None:
    scene = await _scene(engine)
    first = await _unwind(engine, base_settings, scene.order)
    again = await _unwind(engine, base_settings, scene.order, at=NOW + timedelta(minutes=5))
    assert again == first
    assert again.model_dump(mode="json") == first.model_dump(mode="json")
    async with session_scope(engine) as session:
        moves = (
            await session.execute(
                select(func.count()).where(
                    col(Movement.ref) == f"cancel {scene.order}",
                    col(Movement.kind).in_(("unreserved", "reserved")),
                )
            )
        ).scalar_one()
        other = await session.get(Reservation, (scene.other, scene.s))
        kept = await session.get(Cancellation, scene.order)
        events = (
            await session.execute(
                select(TimelineEvent).where(
                    col(TimelineEvent.order_no) == scene.order,
                    col(TimelineEvent.kind) == "cancelled",
                )
            )
        ).scalars()
        [event] = events.all()
    assert moves == 5  # 3 unreserved by the order, 2 reserved for the other one: once
    assert other is not None and other.qty == 5
    assert kept is not None and (kept.reason, kept.by, kept.at) == ("customer withdrew", "sam", NOW)
    assert event.actor == "sam" and "5689.00 EUR" in event.summary
    assert event.detail["cost"]["total"] == "5689.00"


async def test_two_unwinds_at_once_book_it_once(
    engine: AsyncEngine, base_settings: Settings
) -> None:
    scene = await _scene(engine)
    first, second = await asyncio.gather(
        _unwind(engine, base_settings, scene.order),
        _unwind(engine, base_settings, scene.order, at=NOW + timedelta(seconds=1)),
    )
    assert first == second
    assert first.unwound.reservations == {scene.x: 3, scene.s: 4, scene.w: 2}
    async with session_scope(engine) as session:
        unreserved = (
            await session.execute(
                select(func.sum(col(Movement.qty))).where(
                    col(Movement.kind) == "unreserved", col(Movement.order_no) == scene.order
                )
            )
        ).scalar_one()
    assert unreserved == 9


@pytest.mark.parametrize("status", ["closed", "declined"])
async def test_an_ended_order_is_refused_and_nothing_changes(
    engine: AsyncEngine, base_settings: Settings, status: str
) -> None:
    order_no, key = f"CX-{_sfx()}", f"RQ-{_sfx()}"
    async with session_scope(engine) as session:
        await _order(session, order_no, stage=status, status=status)
        session.add(_requisition(order_no, key, f"I-{_sfx()}", "open"))
    with pytest.raises(ApplicationError) as refused:
        await _unwind(engine, base_settings, order_no)
    assert refused.value.type == "OrderNotCancellable" and refused.value.non_retryable
    async with session_scope(engine) as session:
        requisition = await session.get(Requisition, key)
        assert requisition is not None and requisition.state == "open"
        assert await session.get(Cancellation, order_no) is None


async def test_an_unknown_order_is_refused(engine: AsyncEngine, base_settings: Settings) -> None:
    with pytest.raises(ApplicationError) as refused:
        await _unwind(engine, base_settings, f"CX-{_sfx()}-missing")
    assert refused.value.type == "OrderNotFound" and refused.value.non_retryable


async def test_an_order_in_review_costs_nothing(
    engine: AsyncEngine, base_settings: Settings
) -> None:
    order_no = f"CX-{_sfx()}"
    async with session_scope(engine) as session:
        await _order(session, order_no, stage="review")
    result = await _unwind(engine, base_settings, order_no)
    assert result.stage_at_cancel == "review"
    assert (result.cost.total, result.cost.detail, result.allocated) == (D("0.00"), [], {})
    assert result.unwound.model_dump() == {
        "requisitions": [],
        "purchase_orders": [],
        "work_orders": [],
        "reservations": {},
        "tasks": [],
    }


# -- the route's refusals -------------------------------------------------------------------------


async def test_cancel_route_refuses_before_asking_the_workflow(
    stack: Stack, engine: AsyncEngine
) -> None:
    closed, cancelled = f"CX-{_sfx()}", f"CX-{_sfx()}"
    async with session_scope(engine) as session:
        await _order(session, closed, stage="closed", status="closed")
        await _order(session, cancelled, stage="cancelled", status="cancelled")
    sales = stack.token("sam", "sales")

    async def cancel(order_no: str, body: Any, headers: dict[str, str]) -> Any:
        return await stack.http.post(f"/sales/orders/{order_no}/cancel", json=body, headers=headers)

    wrong_role = await cancel(closed, {"reason": "x"}, stack.token("pat", "planning"))
    assert wrong_role.status_code == 403, wrong_role.text
    for body in (
        {"reason": "   "},
        {"reason": ""},
        {},
        {"reason": "x" * 501},
        {"reason": "x", "y": 1},
    ):
        refused = await cancel(closed, body, sales)
        assert refused.status_code == 422, (body, refused.text)
        assert refused.json()["error"] == "invalid_request"
    missing = await cancel(f"CX-{_sfx()}-missing", {"reason": "x"}, sales)
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"
    for order_no, status in ((closed, "closed"), (cancelled, "cancelled")):
        ended = await cancel(order_no, {"reason": "customer withdrew"}, sales)
        assert ended.status_code == 409, ended.text
        assert ended.json() == {
            "request_id": ended.headers["X-Request-ID"],
            "error": "order_not_cancellable",
            "detail": f"order {order_no} is already {status}; only an active order can be "
            "cancelled",
        }
    async with session_scope(engine) as session:
        assert await session.get(Cancellation, closed) is None
