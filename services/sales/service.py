"""Sales rules: taking an order in, once, whatever the network does to the request; and the
reads of orders other departments ask for."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.sales.models import IntakeRequest, Order, OrderLine
from services.sales.schemas import OrderCreate
from shared.workflow_ids import order_workflow_id


def request_hash(body: OrderCreate) -> str:
    canonical = json.dumps(body.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


async def find_intake(session: AsyncSession, *, key: str, subject: str) -> IntakeRequest | None:
    """The earlier request that used this Idempotency-Key (keys are per caller)."""
    return await session.get(IntakeRequest, (key, subject))


async def store_order(
    session: AsyncSession,
    *,
    body: OrderCreate,
    created_by: str,
    idempotency_key: str | None,
) -> Order | None:
    """Store the order, its lines and the idempotency key in one transaction.

    Returns None when an order with that number already exists.
    """
    now = datetime.now(UTC)
    order = Order(
        order_no=body.order_no,
        workflow_id=order_workflow_id(body.order_no),
        customer=body.customer,
        project_name=body.project_name,
        contract_no=body.contract_no,
        technical_agreement_ref=body.technical_agreement_ref,
        drawing_refs=list(body.drawing_refs),
        requested_date=body.requested_date,
        amount=body.amount,
        currency=body.currency,
        priority=body.priority,
        created_by=created_by,
        created_at=now,
        updated_at=now,
    )
    session.add(order)
    try:
        await session.flush()
    except IntegrityError:
        await session.rollback()
        return None
    for number, line in enumerate(body.lines, start=1):
        session.add(OrderLine(order_no=body.order_no, line_no=number, **line.model_dump()))
    if idempotency_key:
        session.add(
            IntakeRequest(
                idempotency_key=idempotency_key,
                subject=created_by,
                request_hash=request_hash(body),
                order_no=body.order_no,
                created_at=now,
            )
        )
    try:
        await session.commit()
    except IntegrityError:  # the same key raced us: the caller retries and finds it
        await session.rollback()
        return None
    return order


async def forget_order(session: AsyncSession, order_no: str) -> None:
    """Undo `store_order` when the workflow could not be started, so a retry starts clean."""
    await session.execute(delete(IntakeRequest).where(IntakeRequest.order_no == order_no))  # type: ignore[arg-type]
    await session.execute(delete(OrderLine).where(OrderLine.order_no == order_no))  # type: ignore[arg-type]
    await session.execute(delete(Order).where(Order.order_no == order_no))  # type: ignore[arg-type]
    await session.commit()


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
