"""Receivables (issue 16): each order's payment plan against its ledger, instalment by
instalment, with the days past due and the ageing buckets.

An instalment falls due at its trigger: the deposit at intake, a progress payment when the
order enters its stage, the final payment and the retention at `closing` (the customer's
acceptance), each then after its days of credit. When the order entered a stage is read from
the stage entries sales itself wrote to the order's timeline (`SalesActivities.record_stage`).
Payments are applied to the instalments in plan order."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.sales.models import Order, Payment, PaymentPlan
from services.sales.payment_schemas import BUCKETS, InstalmentOut, Receivable, Receivables
from shared.payment_types import PaymentTerms
from shared.timeline import TimelineEvent

# Orders whose money is no longer asked for.
_NOT_OWED = ("cancelled", "declined")


def bucket_of(days_overdue: int, due_on: date | None, as_of: date) -> str:
    if due_on is None or due_on >= as_of:
        return "not_due"
    if days_overdue <= 30:
        return "1-30"
    if days_overdue <= 60:
        return "31-60"
    if days_overdue <= 90:
        return "61-90"
    return "over_90"


def receivable(
    order: Order, terms: PaymentTerms, paid: Decimal, entered: dict[str, date], as_of: date
) -> Receivable:
    """One order's plan against what it paid, as of a day."""
    left = paid
    rows: list[InstalmentOut] = []
    for step in terms.instalments(order.amount):
        applied = min(left, step.amount)
        left -= applied
        due_on = step.due_on(entered.get(step.trigger))
        overdue = (as_of - due_on).days if due_on is not None and due_on < as_of else 0
        rows.append(
            InstalmentOut(
                kind=step.kind,  # type: ignore[arg-type]
                trigger=step.trigger,
                amount=step.amount,
                due_on=due_on,
                paid=applied,
                outstanding=step.amount - applied,
                days_overdue=overdue if applied < step.amount else 0,
                bucket="paid" if applied >= step.amount else bucket_of(overdue, due_on, as_of),
            )
        )
    fallen_due = [r for r in rows if r.due_on is not None and r.due_on <= as_of]
    return Receivable(
        order_no=order.order_no,
        customer=order.customer,
        currency=order.currency,
        stage=order.stage,
        status=order.status,
        contract_amount=order.amount,
        paid=paid,
        outstanding=max(order.amount - paid, Decimal(0)),
        due=sum((r.outstanding for r in fallen_due), Decimal(0)),
        overdue=sum((r.outstanding for r in rows if r.days_overdue > 0), Decimal(0)),
        instalments=rows,
    )


async def receivables(
    session: AsyncSession, *, as_of: date, zone: str, order_no: str | None = None
) -> Receivables:
    """The orders with money outstanding (or the one asked for), and the ageing per currency of
    what is outstanding."""
    query = (
        select(Order, PaymentPlan)
        .join(PaymentPlan, col(PaymentPlan.order_no) == col(Order.order_no))
        .where(col(Order.status).not_in(_NOT_OWED))
        .order_by(col(Order.order_no))
    )
    if order_no is not None:
        query = query.where(col(Order.order_no) == order_no)
    pairs = [(row[0], row[1]) for row in (await session.execute(query)).all()]
    numbers = [order.order_no for order, _ in pairs]
    paid = await _paid(session, numbers)
    entered = await _entered(session, numbers, ZoneInfo(zone))
    answer = Receivables(as_of=as_of, orders=[], ageing={})
    for order, plan in pairs:
        one = receivable(
            order,
            PaymentTerms.model_validate(plan.terms),
            paid.get(order.order_no, Decimal(0)),
            entered.get(order.order_no, {}),
            as_of,
        )
        if one.outstanding <= 0 and order_no is None:
            continue
        answer.orders.append(one)
        ageing = answer.ageing.setdefault(one.currency, dict.fromkeys(BUCKETS, Decimal(0)))
        for row in one.instalments:
            if row.bucket in ageing:
                ageing[row.bucket] += row.outstanding
    return answer


async def _paid(session: AsyncSession, order_nos: list[str]) -> dict[str, Decimal]:
    if not order_nos:
        return {}
    rows = await session.execute(
        select(col(Payment.order_no), col(Payment.amount)).where(
            col(Payment.order_no).in_(order_nos)
        )
    )
    paid: dict[str, Decimal] = {}
    for number, amount in rows.all():
        paid[number] = paid.get(number, Decimal(0)) + amount
    return paid


async def _entered(
    session: AsyncSession, order_nos: list[str], zone: ZoneInfo
) -> dict[str, dict[str, date]]:
    """When each order was taken in and first entered each stage (the plant's local date)."""
    if not order_nos:
        return {}
    found: dict[str, dict[str, date]] = {}
    orders = await session.execute(
        select(col(Order.order_no), col(Order.created_at)).where(col(Order.order_no).in_(order_nos))
    )
    for number, created in orders.all():
        found[number] = {"intake": created.astimezone(zone).date()}
    stages = await session.execute(
        select(TimelineEvent)
        .where(col(TimelineEvent.order_no).in_(order_nos), col(TimelineEvent.kind) == "stage")
        .order_by(col(TimelineEvent.at))
    )
    for event in stages.scalars():
        stage = event.detail.get("stage")
        if isinstance(stage, str):
            found.setdefault(event.order_no, {}).setdefault(stage, event.at.astimezone(zone).date())
    return found
