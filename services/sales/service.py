"""Sales rules: taking an order in, once, whatever the network does to the request; and the
reads of orders other departments ask for."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.sales.models import IntakeRequest, Order, OrderLine
from services.sales.payments import record_plan
from services.sales.schemas import OrderCreate
from shared.types import OrderInput
from shared.workflow_ids import order_workflow_id

# Intake fields added later (issue 16's terms): left out of the hash when not sent, so that a
# request retried across the upgrade hashes as it did.
_LATER_FIELDS = ("payment_terms", "credit_limit", "customer_qualification")


def request_hash(body: OrderCreate) -> str:
    data = body.model_dump(mode="json")
    for name in _LATER_FIELDS:
        if data.get(name) is None:
            data.pop(name, None)
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


async def find_intake(session: AsyncSession, *, key: str, subject: str) -> IntakeRequest | None:
    """The earlier request that used this Idempotency-Key (keys are per caller)."""
    return await session.get(IntakeRequest, (key, subject))


async def record_order(session: AsyncSession, intake: OrderInput) -> bool:
    """Write the order, its lines, its payment plan and its Idempotency-Key, once (the caller
    commits).

    Intake starts the order's workflow first; then the gateway writes the row before it answers
    201, and the workflow's first activity writes it too, in case the gateway died in between.
    Whichever comes second changes nothing. Returns whether this call wrote the order.
    """
    now = intake.received_at or datetime.now(UTC)
    order = Order(
        order_no=intake.order_no,
        workflow_id=order_workflow_id(intake.order_no),
        customer=intake.customer,
        project_name=intake.project_name,
        contract_no=intake.contract_no,
        technical_agreement_ref=intake.technical_agreement_ref,
        drawing_refs=list(intake.drawing_refs),
        requested_date=intake.requested_date,
        amount=intake.amount,
        currency=intake.currency,
        priority=intake.priority,
        created_by=intake.received_by,
        created_at=now,
        updated_at=now,
    )
    # ON CONFLICT DO NOTHING: a concurrent writer of the same order waits for the other's
    # commit and then writes nothing, instead of failing.
    inserted = await session.execute(
        pg_insert(Order)
        .values(**order.model_dump())
        .on_conflict_do_nothing(index_elements=["order_no"])
        .returning(col(Order.order_no))
    )
    if inserted.first() is None:
        return False
    await record_plan(session, intake, now)
    for number, line in enumerate(intake.lines, start=1):
        session.add(OrderLine(order_no=intake.order_no, line_no=number, **line.model_dump()))
    if intake.idempotency_key and intake.request_hash:
        # A key already taken by another order (the same key sent concurrently with two
        # different bodies) keeps pointing at that order; this order is taken in all the same.
        await session.execute(
            pg_insert(IntakeRequest)
            .values(
                idempotency_key=intake.idempotency_key,
                subject=intake.received_by,
                request_hash=intake.request_hash,
                order_no=intake.order_no,
                created_at=now,
            )
            .on_conflict_do_nothing()
        )
    await session.flush()
    return True


async def order_exists(session: AsyncSession, order_no: str) -> bool:
    found = await session.execute(
        select(col(Order.order_no)).where(col(Order.order_no) == order_no)
    )
    return found.first() is not None


# -- for other departments ------------------------------------------------------------------

ACTIVE = "active"


async def get_order(session: AsyncSession, *, order_no: str) -> Order | None:
    """The order's row, or None when there is no such order."""
    return await session.get(Order, order_no)


async def orders_by_no(session: AsyncSession, *, order_nos: Iterable[str]) -> dict[str, Order]:
    """The rows of the given orders that exist, by order number."""
    wanted = sorted(set(order_nos))
    if not wanted:
        return {}
    rows = await session.execute(select(Order).where(col(Order.order_no).in_(wanted)))
    return {order.order_no: order for order in rows.scalars()}


async def active_order_nos(
    session: AsyncSession, *, among: Iterable[str] | None = None
) -> set[str]:
    """The numbers of the active orders (of `among` when given)."""
    query = select(col(Order.order_no)).where(col(Order.status) == ACTIVE)
    if among is not None:
        wanted = sorted(set(among))
        if not wanted:
            return set()
        query = query.where(col(Order.order_no).in_(wanted))
    return set((await session.execute(query)).scalars())


async def order_lines(session: AsyncSession, *, order_no: str) -> list[OrderLine]:
    """What the customer ordered, in no set order."""
    rows = await session.execute(select(OrderLine).where(col(OrderLine.order_no) == order_no))
    return list(rows.scalars())


async def order_has_item(session: AsyncSession, *, order_no: str, item: str) -> bool:
    """Whether one of the order's lines is for the item."""
    query = select(col(OrderLine.item)).where(
        col(OrderLine.order_no) == order_no, col(OrderLine.item) == item
    )
    return (await session.execute(query.limit(1))).first() is not None
