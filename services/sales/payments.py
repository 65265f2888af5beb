"""Money in (issue 16): each order's payment plan as intake fixed it, and the ledger of the
customer's payments. Sales' own tables; the order's workflow learns the ledger's total by the
`payments_changed` signal (services/sales/payments_api.py) and, at settlement, books what the
settlement says was received beyond it (`PaymentActivities`)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col
from temporalio import activity

from services.sales.models import Payment, PaymentPlan
from shared.activities import DbActivities
from shared.db import session_scope
from shared.payment_types import PaymentsTotal, SettlementPayment
from shared.types import OrderInput


async def record_plan(session: AsyncSession, intake: OrderInput, at: datetime) -> None:
    """Keep the order's payment terms as intake fixed them (once; the caller commits)."""
    if intake.terms is None:
        return
    await session.execute(
        pg_insert(PaymentPlan)
        .values(
            order_no=intake.order_no,
            terms=intake.terms.model_dump(mode="json"),
            audit_role=intake.audit_role,
            created_at=at,
        )
        .on_conflict_do_nothing()
    )


async def ledger_total(session: AsyncSession, order_no: str) -> PaymentsTotal:
    """What the customer has paid on the order so far, and in how many payments."""
    row = (
        await session.execute(
            select(func.coalesce(func.sum(col(Payment.amount)), 0), func.count()).where(
                col(Payment.order_no) == order_no
            )
        )
    ).one()
    return PaymentsTotal(total=Decimal(row[0]), count=int(row[1]))


async def find_payment(session: AsyncSession, order_no: str, reference: str) -> Payment | None:
    found = await session.execute(
        select(Payment).where(
            col(Payment.order_no) == order_no, col(Payment.reference) == reference
        )
    )
    return found.scalars().first()


async def book_payment(session: AsyncSession, payment: Payment) -> bool:
    """Book one payment; False when its reference was booked on the order already (a resend:
    nothing changes). The caller commits."""
    values = payment.model_dump(exclude={"id"})
    booked = await session.execute(
        pg_insert(Payment).values(**values).on_conflict_do_nothing().returning(col(Payment.id))
    )
    row = booked.first()
    if row is None:
        return False
    payment.id = row[0]
    return True


class PaymentActivities(DbActivities):
    """What the order's workflow asks of the ledger."""

    @activity.defn
    async def book_settlement_payment(self, payment: SettlementPayment) -> PaymentsTotal:
        """Book what the settlement says the customer paid beyond the ledger (its reference
        names the invoice, so a retried activity books it once); the ledger's new total."""
        async with session_scope(self._engine) as session:
            await book_payment(
                session,
                Payment(
                    order_no=payment.order_no,
                    amount=payment.amount,
                    paid_on=payment.paid_on,
                    reference=payment.reference,
                    recorded_by=payment.by,
                    recorded_at=datetime.now(UTC),
                ),
            )
            return await ledger_total(session, payment.order_no)
