"""Aftersales routes: the department's inbox, what engineering released to it, service cases
(售后) with the parts issued to them, and the warranty of an order."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Path, status
from temporalio.service import RPCError

from services.aftersales.schemas import (
    CaseCreate,
    CaseDetail,
    CasePublic,
    PartsIssue,
    PartsIssued,
    WarrantyPublic,
    WarrantySet,
)
from services.aftersales.service import (
    case_event,
    case_public,
    get_case,
    list_cases,
    open_case,
    set_warranty,
    warranty,
)
from services.engineering.api import release_router
from services.sales.service import order_exists
from services.tasks.api import task_router
from services.warehouse.case_issue import issue_to_case, issued_to_case, returns_of_case
from shared.aftersales_types import ServiceCaseInput, service_case_workflow_id
from shared.bounds import NoControl
from shared.deps import CurrentUser, SessionDep, SettingsDep, TemporalDep
from shared.errors import conflict, not_found, unavailable
from shared.params import OrderNoPath, OrderNoQuery
from shared.periods import local_date
from shared.tasks.service import list_tasks
from workflows.clients import start_service_case

router = APIRouter(prefix="/aftersales", tags=["aftersales"])
router.include_router(task_router("aftersales"))
router.include_router(release_router("aftersales"))

# Who opens cases (the customer calls aftersales or sales), issues parts to them (the
# warehouse hands them out, aftersales draws them) and sets an order's warranty.
CASE_OPENERS = ("aftersales", "sales")
PART_ISSUERS = ("warehouse", "aftersales")
WARRANTY_SETTERS = ("sales", "aftersales")

CaseIdPath = Annotated[str, Path(min_length=1, max_length=32), NoControl]


@router.post("/cases", status_code=status.HTTP_201_CREATED, response_model=CasePublic)
async def post_case(
    body: CaseCreate,
    session: SessionDep,
    temporal: TemporalDep,
    settings: SettingsDep,
    user: CurrentUser,
) -> CasePublic:
    """Open a service case on a delivered order (complaint, repair, exchange, visit): 201 with
    the case, its workflow started with its SLA clocks; 404 for an unknown order, 409 when the
    order was never delivered or is out of warranty and the case is not `paid`."""
    user.require(CASE_OPENERS, "opening a service case")
    now = datetime.now(UTC)
    case = await open_case(
        session,
        body,
        default_months=settings.aftersales_warranty_months,
        by=user.sub,
        at=now,
        today=local_date(now, settings.timezone),
    )
    await session.flush()
    try:
        await start_service_case(
            temporal,
            ServiceCaseInput(
                case_id=case.case_id,
                order_no=case.order_no,
                kind=case.kind,
                description=case.description,
                opened_by=user.sub,
                queue_prefix=settings.task_queue_prefix,
                first_response=settings.sla_case_first_response,
                on_site=settings.sla_case_on_site,
                resolved=settings.sla_case_resolved,
            ),
        )
    except RPCError as exc:
        await session.rollback()
        raise unavailable(f"Temporal did not start the case's workflow: {exc.message}") from exc
    await session.commit()
    return case


@router.get("/cases", response_model=list[CasePublic])
async def get_cases(
    session: SessionDep, user: CurrentUser, order_no: OrderNoQuery = None
) -> list[CasePublic]:
    """Service cases, newest first: an order's (`?order_no=`, 404 for an unknown order) or
    every one. Any role reads them."""
    if order_no is not None and not await order_exists(session, order_no):
        raise not_found(f"order {order_no}")
    return await list_cases(session, order_no=order_no)


@router.get("/cases/{case_id}", response_model=CaseDetail)
async def get_case_detail(
    case_id: CaseIdPath, session: SessionDep, settings: SettingsDep, user: CurrentUser
) -> CaseDetail:
    """One case: its warranty, its tasks (due on the SLA clocks), the parts issued to it lot by
    lot and the returns booked against it. Any role reads it."""
    case = await get_case(session, case_id)
    now = datetime.now(UTC)
    cover = await warranty(
        session,
        order_no=case.order_no,
        default_months=settings.aftersales_warranty_months,
        today=local_date(now, settings.timezone),
    )
    workflow_id = service_case_workflow_id(case_id)
    tasks = [
        task
        for task in await list_tasks(
            session, department="aftersales", state=None, order_no=case.order_no
        )
        if task.workflow_id == workflow_id
    ]
    return CaseDetail(
        **case_public(case).model_dump(),
        warranty=cover,
        tasks=tasks,
        parts=await issued_to_case(session, case_id),
        returns=await returns_of_case(session, case_id),
    )


@router.post(
    "/cases/{case_id}/parts", status_code=status.HTTP_201_CREATED, response_model=PartsIssued
)
async def post_case_parts(
    case_id: CaseIdPath, body: PartsIssue, session: SessionDep, user: CurrentUser
) -> PartsIssued:
    """Issue spare parts from free stock to an open case, traced to the lots they come from
    (the named lot, or the oldest first): 404 for an unknown case, 409 when it is resolved,
    422 when an item has not that much free stock in its lots. All lines or none."""
    user.require(PART_ISSUERS, "issuing parts to a service case")
    case = await get_case(session, case_id, lock=True)
    if case.state == "resolved":
        raise conflict(
            "case_resolved",
            f"service case {case_id} was resolved {case.resolved_at:%Y-%m-%d %H:%M}Z; parts "
            "for a new fault go on a new case",
        )
    now = datetime.now(UTC)
    lines = await issue_to_case(
        session, case_id=case_id, order_no=case.order_no, parts=body.lines, by=user.sub, at=now
    )
    what = ", ".join(
        f"{line.qty.normalize():f} {line.item} (lot {', '.join(lot.lot_no for lot in line.lots)})"
        for line in lines
    )
    await case_event(
        session,
        case_id,
        case.order_no,
        f"parts:{now.isoformat()}",
        by=user.sub,
        at=now,
        summary=f"parts issued to service case {case_id}: {what}",
        detail={"lines": [line.model_dump(mode="json") for line in lines]},
    )
    await session.commit()
    return PartsIssued(
        case_id=case_id, order_no=case.order_no, issued_by=user.sub, issued_at=now, lines=lines
    )


@router.get("/warranties/{order_no}", response_model=WarrantyPublic)
async def get_warranty(
    order_no: OrderNoPath, session: SessionDep, settings: SettingsDep, user: CurrentUser
) -> WarrantyPublic:
    """The order's warranty: months, delivery day, end day, whether it runs today."""
    if not await order_exists(session, order_no):
        raise not_found(f"order {order_no}")
    now = datetime.now(UTC)
    return await warranty(
        session,
        order_no=order_no,
        default_months=settings.aftersales_warranty_months,
        today=local_date(now, settings.timezone),
    )


@router.put("/warranties/{order_no}", response_model=WarrantyPublic)
async def put_warranty(
    order_no: OrderNoPath,
    body: WarrantySet,
    session: SessionDep,
    settings: SettingsDep,
    user: CurrentUser,
) -> WarrantyPublic:
    """Give the order its own warranty length (months from delivery) instead of the plant's."""
    user.require(WARRANTY_SETTERS, "setting an order's warranty")
    if not await order_exists(session, order_no):
        raise not_found(f"order {order_no}")
    now = datetime.now(UTC)
    await set_warranty(session, order_no=order_no, months=body.months, by=user.sub, at=now)
    await session.commit()
    return await warranty(
        session,
        order_no=order_no,
        default_months=settings.aftersales_warranty_months,
        today=local_date(now, settings.timezone),
    )
