"""Sales routes of the money (issue 16): booking a payment, and the receivables with ageing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Response, status
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from services.sales.models import Order, Payment
from services.sales.payment_schemas import PaymentBooked, PaymentIn, Receivables
from services.sales.payments import book_payment, find_payment, ledger_total
from services.sales.receivables import receivables
from shared.auth import FINANCE
from shared.deps import CurrentUser, SessionDep, SettingsDep, TemporalDep
from shared.errors import conflict, invalid, not_found, unavailable
from shared.payment_types import PaymentsTotal
from workflows.clients import OrderWorkflow, order_handle

router = APIRouter()

# Who books money in, and who reads the receivables.
BOOKERS: tuple[str, ...] = ("sales", FINANCE, "head:sales")
READERS: tuple[str, ...] = (*BOOKERS, "ops", "division")
_NOT_OWED = ("cancelled", "declined")


@router.post(
    "/orders/{order_no}/payments",
    status_code=status.HTTP_201_CREATED,
    response_model=PaymentBooked,
    responses={200: {"model": PaymentBooked, "description": "the same payment, sent again"}},
)
async def record_payment(
    order_no: str,
    body: PaymentIn,
    session: SessionDep,
    temporal: TemporalDep,
    user: CurrentUser,
    response: Response,
) -> PaymentBooked:
    """Book a payment of the customer against the order (201), and tell the order's workflow
    the ledger's new total, so that a deposit it waits for or a short settlement moves on. The
    same reference sent again with the same amount and date answers 200 with the booking (and
    tells the workflow again); with another amount or date it is 409 `duplicate_payment`. 422
    `overpayment` above what is outstanding; 409 `order_not_payable` for a cancelled or
    declined order."""
    user.require(BOOKERS, "booking a payment")
    order = await session.get(Order, order_no)
    if order is None:
        raise not_found(f"order {order_no}")
    if order.status in _NOT_OWED:
        raise conflict(
            "order_not_payable",
            f"order {order_no} is {order.status}; its money is settled with the cancellation, "
            "not booked as a payment",
        )
    earlier = await find_payment(session, order_no, body.reference)
    if earlier is not None:
        if earlier.amount != body.amount or earlier.paid_on != body.paid_on:
            raise conflict(
                "duplicate_payment",
                f"reference {body.reference!r} is booked on {order_no} already "
                f"({earlier.amount} on {earlier.paid_on}); a new payment needs its own reference",
            )
        payment = earlier
        response.status_code = status.HTTP_200_OK
    else:
        ledger = await ledger_total(session, order_no)
        outstanding = order.amount - ledger.total
        if body.amount > outstanding:
            raise invalid(
                "overpayment",
                f"{body.amount} {order.currency} is more than the {outstanding} outstanding on "
                f"{order_no} (contract {order.amount}, paid {ledger.total}); book what was paid "
                "against the order it was paid for",
            )
        payment = Payment(
            order_no=order_no,
            amount=body.amount,
            paid_on=body.paid_on,
            reference=body.reference,
            recorded_by=user.sub,
            recorded_at=dt.datetime.now(dt.UTC),
        )
        await book_payment(session, payment)
    total = await ledger_total(session, order_no)
    await session.commit()
    await _tell_workflow(temporal, order_no, total)
    return PaymentBooked(
        order_no=order_no,
        amount=payment.amount,
        date=payment.paid_on,
        reference=payment.reference,
        recorded_by=payment.recorded_by,
        recorded_at=payment.recorded_at,
        paid_total=total.total,
        contract_amount=order.amount,
        outstanding=max(order.amount - total.total, Decimal(0)),
    )


async def _tell_workflow(temporal: Client, order_no: str, total: PaymentsTotal) -> None:
    """Signal the ledger's total to the order's workflow; an order whose workflow has ended
    (money after closing, such as the retention) needs no telling."""
    try:
        await order_handle(temporal, order_no).signal(OrderWorkflow.payments_changed, total)
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            return
        raise unavailable(
            f"the payment is booked but order {order_no}'s workflow was not told "
            f"({exc.message}); send the same request again to tell it"
        ) from exc


@router.get("/receivables", response_model=Receivables)
async def list_receivables(
    session: SessionDep,
    settings: SettingsDep,
    user: CurrentUser,
    order_no: Annotated[str | None, Query(max_length=64)] = None,
    as_of: Annotated[dt.date | None, Query()] = None,
) -> Receivables:
    """Per order: the payment plan against the payments, what has fallen due, what is overdue
    and by how many days; and the ageing per currency (`not_due`, `1-30`, `31-60`, `61-90`,
    `over_90` days past due). `as_of` (default: today in the plant's zone) dates the ageing."""
    user.require(READERS, "reading the receivables")
    day = as_of or dt.datetime.now(ZoneInfo(settings.timezone)).date()
    if day < dt.date(2000, 1, 1) or day > dt.date(2100, 12, 31):
        raise invalid("invalid_as_of", "as_of must lie between 2000-01-01 and 2100-12-31")
    if order_no is not None and await session.get(Order, order_no) is None:
        raise not_found(f"order {order_no}")
    return await receivables(session, as_of=day, zone=settings.timezone, order_no=order_no)
