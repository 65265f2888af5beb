"""What a message about an escalation says, gathered when it is written: the escalation as
stored, its order's customer, its task's kind, the links people follow from the chat."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from shared.channels.links import ack_url, order_url
from shared.channels.model import Channel, DigestFacts, EscalationFacts
from shared.escalations.models import OPEN, Escalation
from shared.settings import DEPARTMENTS, Settings
from shared.tasks.models import inbox

# The customer is sales' to keep; messages only read it (the order view does the same).
_CUSTOMERS = text("SELECT order_no, customer FROM sales.orders WHERE order_no = ANY(:order_nos)")


async def customers(session: AsyncSession, order_nos: Sequence[str]) -> dict[str, str]:
    """The customer of each of these orders that exists."""
    wanted = sorted({no for no in order_nos if no})
    if not wanted:
        return {}
    rows = await session.execute(_CUSTOMERS, {"order_nos": wanted})
    return {order_no: customer for order_no, customer in rows.all()}


async def task_kind(session: AsyncSession, escalation: Escalation) -> str | None:
    """The kind of the task an escalation is about, if it is about one."""
    if not escalation.task_id or escalation.department not in DEPARTMENTS:
        return None
    table = inbox(escalation.department)
    found = await session.execute(select(table.c.kind).where(table.c.task_id == escalation.task_id))
    return found.scalar_one_or_none()


def facts_of(
    escalation: Escalation,
    *,
    settings: Settings,
    channel: Channel,
    now: datetime,
    customer: str | None,
    kind_of_task: str | None,
) -> EscalationFacts:
    """The facts of one escalation for one channel: an open one carries its acknowledge link
    (signed for the role it is raised to, named after the channel it went to)."""
    assert escalation.id is not None
    link = (
        ack_url(
            settings,
            escalation_id=escalation.id,
            role=escalation.role,
            channel=channel.name,
            now=now,
            lang=channel.lang,
        )
        if escalation.state == OPEN
        else None
    )
    return EscalationFacts(
        id=escalation.id,
        kind=escalation.kind,
        level=escalation.level,
        order_no=escalation.order_no,
        customer=customer,
        department=escalation.department,
        role=escalation.role,
        task_id=escalation.task_id,
        task_kind=kind_of_task,
        due_at=escalation.due_at,
        breached_at=escalation.breached_at,
        message=escalation.message,
        now=now,
        zone=settings.timezone,
        order_url=order_url(settings, escalation.order_no) if escalation.order_no else "",
        ack_url=link,
    )


async def escalation_facts(
    session: AsyncSession,
    escalation: Escalation,
    *,
    settings: Settings,
    channel: Channel,
    now: datetime,
) -> EscalationFacts:
    """Everything a message about this escalation names, read now."""
    found = await customers(session, [escalation.order_no])
    return facts_of(
        escalation,
        settings=settings,
        channel=channel,
        now=now,
        customer=found.get(escalation.order_no),
        kind_of_task=await task_kind(session, escalation),
    )


async def open_of_department(session: AsyncSession, department: str) -> list[Escalation]:
    """A department's open escalations, oldest breach first."""
    rows = await session.execute(
        select(Escalation)
        .where(col(Escalation.department) == department, col(Escalation.state) == OPEN)
        .order_by(col(Escalation.breached_at), col(Escalation.id))
    )
    return list(rows.scalars())


async def digest_facts(
    session: AsyncSession,
    *,
    department: str,
    day: date,
    ids: Sequence[int],
    settings: Settings,
    channel: Channel,
    now: datetime,
) -> DigestFacts:
    """A department's digest: the escalations open when it was made that are still open now
    (one acknowledged since drops out: the digest is what still needs someone)."""
    rows = await session.execute(
        select(Escalation)
        .where(col(Escalation.id).in_(list(ids)), col(Escalation.state) == OPEN)
        .order_by(col(Escalation.breached_at), col(Escalation.id))
    )
    escalations = list(rows.scalars())
    found = await customers(session, [e.order_no for e in escalations])
    return DigestFacts(
        department=department,
        day=day,
        now=now,
        zone=settings.timezone,
        escalations=tuple(
            facts_of(
                e,
                settings=settings,
                channel=channel,
                now=now,
                customer=found.get(e.order_no),
                kind_of_task=None,
            )
            for e in escalations
        ),
    )
