"""Production routes: the department's inbox, what engineering released to it, and issues
reported from assembly (§8.5)."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, status
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.engineering.api import release_router
from services.production.capacity_api import router as capacity_router
from services.production.models import ProductionIssue
from services.production.schemas import IssueCreate, IssuePublic
from services.sales.service import order_exists
from services.tasks.api import task_router
from shared.deps import CurrentUser, SessionDep, TemporalDep
from shared.errors import not_found
from shared.production_types import ReportIssue
from shared.updates import send_update
from workflows.clients import OrderWorkflow, order_handle

# How long a report waits for the order to keep its new issue (the order view lists it then).
RECORD_WAIT = 10.0

router = APIRouter(prefix="/production", tags=["production"])
router.include_router(task_router("production"))
router.include_router(release_router("production"))
router.include_router(capacity_router)


@router.post(
    "/orders/{order_no}/issues", status_code=status.HTTP_201_CREATED, response_model=IssuePublic
)
async def report_issue(
    order_no: str,
    body: IssueCreate,
    session: SessionDep,
    temporal: TemporalDep,
    user: CurrentUser,
) -> IssuePublic:
    """Report a design problem, nonconforming material or a missing part found in assembly;
    the order tracks it to closure (its view lists it under `issues`)."""
    user.require(("production",), "reporting an assembly issue")
    if not await order_exists(session, order_no):
        raise not_found(f"order {order_no}")
    command = ReportIssue(
        kind=body.kind,
        description=body.description.strip(),
        items=[line.model_dump(mode="json") for line in body.items],
        severity=body.severity,
        by=user.sub,
    )
    reported = await send_update(
        order_handle(temporal, order_no),
        OrderWorkflow.report_issue,
        command,
        ended=f"order {order_no} has ended",
        what="the issue",
        invalid_code="invalid_issue",
    )
    await _until_recorded(session, reported.issue_no)
    return IssuePublic.model_validate(reported.model_dump())


async def _until_recorded(session: AsyncSession, issue_no: str) -> None:
    """Wait (briefly) until the order's first activity for the issue has stored it, so a
    client that reads the order view after the 201 finds the issue there. The update replies
    as soon as the workflow took the issue; its record follows on the order's own branch."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + RECORD_WAIT
    query = select(col(ProductionIssue.issue_no)).where(col(ProductionIssue.issue_no) == issue_no)
    while (await session.execute(query)).first() is None and loop.time() < deadline:
        await session.rollback()
        await asyncio.sleep(0.02)
