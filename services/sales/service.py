"""Sales rules: taking an order in, once, whatever the network does to the request."""

from __future__ import annotations

import hashlib
import json
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
