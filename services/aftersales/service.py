"""After-sales service cases (售后) and warranties: what the API and the case's activity read
and write in the department's tables, and the order timeline's case events.

The warranty runs from the customer's receipt of the order (the `received_on` of its completed
`sales.delivery_confirmed` task, as the order's timeline recorded it) for the order's own
months, else the plant's (`ORDERFLOW_AFTERSALES_WARRANTY_MONTHS`), to the same day that many
months later, inclusive. A case is refused (409) on an order never delivered; outside the
warranty only a chargeable case (`paid: true`) is taken.
"""

from __future__ import annotations

import calendar
from datetime import date, datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.aftersales.models import ServiceCase, Warranty
from services.aftersales.schemas import CaseCreate, CasePublic, WarrantyPublic
from services.sales.service import order_exists
from shared.aftersales_types import CaseKind, CaseStep, service_case_workflow_id
from shared.errors import conflict, not_found
from shared.timeline import TimelineEvent, add_event

DELIVERY_KIND = "sales.delivery_confirmed"
# The timeline kind of every case event on the order's timeline.
CASE_EVENT = "service_case"


def add_months(day: date, months: int) -> date:
    """The same day `months` later (the month's last day when it has no such day)."""
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


async def delivered_on(session: AsyncSession, order_no: str) -> date | None:
    """The day the customer received the order, from its timeline; None: not delivered."""
    rows = await session.execute(
        select(TimelineEvent)
        .where(
            col(TimelineEvent.order_no) == order_no,
            col(TimelineEvent.kind) == "task_completed",
            TimelineEvent.detail["kind"].astext == DELIVERY_KIND,  # type: ignore[index]
        )
        .order_by(col(TimelineEvent.at).desc())
        .limit(1)
    )
    event = rows.scalar_one_or_none()
    received = ((event.detail.get("payload") or {}) if event else {}).get("received_on")
    return date.fromisoformat(received) if isinstance(received, str) else None


async def warranty(
    session: AsyncSession, *, order_no: str, default_months: int, today: date
) -> WarrantyPublic:
    """The order's warranty as it stands `today` (the caller knows the order exists)."""
    own = await session.get(Warranty, order_no)
    months = own.months if own is not None else default_months
    received = await delivered_on(session, order_no)
    ends = add_months(received, months) if received is not None else None
    return WarrantyPublic(
        order_no=order_no,
        months=months,
        source="order" if own is not None else "plant",
        delivered_on=received,
        ends_on=ends,
        in_warranty=ends is not None and today <= ends,
    )


async def set_warranty(
    session: AsyncSession, *, order_no: str, months: int, by: str, at: datetime
) -> None:
    """Give the order its own warranty length (the caller commits)."""
    own = await session.get(Warranty, order_no, with_for_update=True)
    if own is None:
        session.add(Warranty(order_no=order_no, months=months, set_by=by, set_at=at))
    else:
        own.months, own.set_by, own.set_at = months, by, at
    await add_event(
        session,
        key=f"{order_no}:warranty:{at.isoformat()}",
        order_no=order_no,
        at=at,
        kind="warranty",
        actor=by,
        summary=f"warranty set to {months} months from delivery",
        detail={"months": months},
    )


async def open_case(
    session: AsyncSession,
    body: CaseCreate,
    *,
    default_months: int,
    by: str,
    at: datetime,
    today: date,
) -> CasePublic:
    """Take a case in (the caller commits): 404 for an unknown order, 409 when it was never
    delivered, or is out of warranty and the case is not a paid one."""
    if not await order_exists(session, body.order_no):
        raise not_found(f"order {body.order_no}")
    cover = await warranty(
        session, order_no=body.order_no, default_months=default_months, today=today
    )
    if cover.delivered_on is None:
        raise conflict(
            "order_not_delivered",
            f"order {body.order_no} has not been delivered (no customer receipt confirmed): "
            "after-sales service starts once the customer has received it",
        )
    if not cover.in_warranty and not body.paid:
        raise conflict(
            "out_of_warranty",
            f"order {body.order_no}'s warranty of {cover.months} months from delivery on "
            f"{cover.delivered_on} ended on {cover.ends_on}; open a chargeable case "
            "(paid: true) instead",
        )
    seq = (await session.execute(text("SELECT nextval('aftersales.case_seq')"))).scalar_one()
    case = ServiceCase(
        case_id=f"SC-{seq:06d}",
        order_no=body.order_no,
        kind=body.kind,
        description=body.description,
        contact=body.contact,
        in_warranty=cover.in_warranty,
        paid=body.paid,
        state="open",
        opened_by=by,
        opened_at=at,
    )
    session.add(case)
    terms = "in warranty" if cover.in_warranty else "chargeable, out of warranty"
    await case_event(
        session,
        case.case_id,
        case.order_no,
        "opened",
        by=by,
        at=at,
        summary=f"service case {case.case_id} opened: {body.kind} ({terms}): {body.description}",
        detail={"kind": body.kind, "in_warranty": cover.in_warranty, "paid": body.paid},
    )
    return case_public(case)


async def case_event(
    session: AsyncSession,
    case_id: str,
    order_no: str,
    what: str,
    *,
    by: str,
    at: datetime,
    summary: str,
    detail: dict[str, Any] | None = None,
) -> None:
    """A step of the case on its order's timeline (once per `what`)."""
    await add_event(
        session,
        key=f"{case_id}:{what}",
        order_no=order_no,
        at=at,
        kind=CASE_EVENT,
        actor=by,
        summary=summary[:2000],
        detail={"case_id": case_id, "step": what, **(detail or {})},
    )


def case_public(case: ServiceCase) -> CasePublic:
    kind: CaseKind = case.kind  # type: ignore[assignment]
    return CasePublic(
        case_id=case.case_id,
        order_no=case.order_no,
        kind=kind,
        description=case.description,
        contact=case.contact,
        in_warranty=case.in_warranty,
        paid=case.paid,
        state=case.state,
        workflow_id=service_case_workflow_id(case.case_id),
        opened_by=case.opened_by,
        opened_at=case.opened_at,
        responded_at=case.responded_at,
        on_site_at=case.on_site_at,
        resolved_at=case.resolved_at,
        resolved_by=case.resolved_by,
        outcome=case.outcome,
    )


async def get_case(session: AsyncSession, case_id: str, *, lock: bool = False) -> ServiceCase:
    """The case (locked when asked); 404 when there is none."""
    case = await session.get(ServiceCase, case_id, with_for_update=lock)
    if case is None:
        raise not_found(f"service case {case_id}")
    return case


async def case_order(session: AsyncSession, case_id: str) -> str | None:
    """The order a case is on; None when there is no such case (for the warehouse's returns)."""
    case = await session.get(ServiceCase, case_id)
    return case.order_no if case is not None else None


async def list_cases(session: AsyncSession, *, order_no: str | None) -> list[CasePublic]:
    """The cases of an order (or every case), newest first."""
    query = select(ServiceCase).order_by(col(ServiceCase.opened_at).desc()).limit(500)
    if order_no is not None:
        query = query.where(col(ServiceCase.order_no) == order_no)
    return [case_public(case) for case in (await session.execute(query)).scalars()]


async def record_step(session: AsyncSession, step: CaseStep) -> None:
    """A step of the case's workflow on the case and its order's timeline (idempotent)."""
    case = await get_case(session, step.case_id, lock=True)
    if step.step == "responded":
        case.responded_at = case.responded_at or step.at
    elif step.step == "on_site":
        case.on_site_at = case.on_site_at or step.at
    else:
        case.resolved_at = case.resolved_at or step.at
        case.resolved_by = case.resolved_by or step.by
        case.outcome = case.outcome or str(step.detail.get("outcome", ""))[:16] or None
    case.state = step.step
    await case_event(
        session,
        step.case_id,
        step.order_no,
        step.step,
        by=step.by,
        at=step.at,
        summary=step.summary,
        detail={"task_id": step.task_id, **step.detail},
    )
