"""Production activities: the order's production work order (§4.2: opened with the master
plan, moved as material is picked, production starts and the product passes), assembly
issues, sheet-metal work orders, plus the department's inbox and escalations."""

from __future__ import annotations

import hashlib
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col
from temporalio import activity

from services.engineering.service import newest_revision, top_item
from services.procurement.mrp.schemas import WorkOrderProposal
from services.procurement.mrp.service import store_proposals
from services.production.capacity import family_of
from services.production.models import ProductionIssue, ProductionOrder
from services.sales.service import order_lines
from shared.activities import DbActivities
from shared.db import session_scope
from shared.escalations.activities import EscalationActivities
from shared.material_types import OpenProductionOrder
from shared.production_types import IssueRecord, SheetMetalOrder, WorkOrderStep
from shared.tasks.activities import TaskActivities
from shared.timeline import add_event

# procurement.work_orders.key holds 64 characters.
KEY_LENGTH = 64


def sheet_metal_key(issue_no: str) -> str:
    """`sm-<issue no>-<line>` (the caller names the line); a key too long for its column keeps
    its head and a digest of the whole, so no two lines of an order with a long number share
    one."""
    key = f"sm-{issue_no}"
    if len(key) <= KEY_LENGTH:
        return key
    digest = hashlib.sha256(issue_no.encode()).hexdigest()[:12]
    return f"{key[: KEY_LENGTH - len(digest) - 1]}~{digest}"


class ProductionActivities(DbActivities):
    """Production's automatic work; the worker registers the bound methods."""

    @activity.defn
    async def open_production_order(self, request: OpenProductionOrder) -> str:
        """Open the order's production work order for its BOM's product; once per order."""
        wo_no = f"PWO-{request.order_no}"
        async with session_scope(self._engine) as session:
            product, qty = await _product(session, request.order_no, request.bom_revision)
            await session.execute(
                insert(ProductionOrder)
                .values(
                    wo_no=wo_no,
                    order_no=request.order_no,
                    bom_revision=request.bom_revision,
                    product=product,
                    qty=qty,
                    planned_start=request.planned_start,
                    planned_end=request.planned_end,
                    state="open",
                    created_at=request.at,
                )
                .on_conflict_do_nothing(index_elements=["wo_no"])
            )
            await add_event(
                session,
                key=f"{wo_no}:opened",
                order_no=request.order_no,
                at=request.at,
                kind="work_order",
                actor="orderflow",
                summary=f"production work order {wo_no} opened: {qty} {product}, "
                f"{request.planned_start} to {request.planned_end}",
                detail={"wo_no": wo_no},
            )
        return wo_no

    @activity.defn
    async def work_order_step(self, step: WorkOrderStep) -> None:
        """Move the order's production work order: in_progress at the start, closed when the
        product passed final inspection (P9.3)."""
        async with session_scope(self._engine) as session:
            order = (
                await session.execute(
                    select(ProductionOrder).where(col(ProductionOrder.order_no) == step.order_no)
                )
            ).scalar_one_or_none()
            if order is None or order.state in (step.state, "cancelled"):
                return
            order.state = step.state
            if step.bom_revision is not None:  # material picked: built to this BOM revision
                order.bom_revision = step.bom_revision
                order.product, order.qty = await _product(session, step.order_no, step.bom_revision)
            order.planned_start = step.planned_start or order.planned_start
            order.planned_end = step.planned_end or order.planned_end
            await add_event(
                session,
                key=f"{order.wo_no}:{step.state}",
                order_no=step.order_no,
                at=step.at,
                kind="work_order",
                actor="orderflow",
                summary=f"production work order {order.wo_no} {step.state.replace('_', ' ')}",
                detail={"wo_no": order.wo_no, "state": step.state},
            )

    @activity.defn
    async def record_issue(self, issue: IssueRecord) -> None:
        """Keep an assembly issue as it opens, moves and closes (§8.5-8.7)."""
        values = {
            "order_no": issue.order_no,
            "kind": issue.kind,
            "description": issue.description,
            "items": issue.items,
            "severity": issue.severity,
            "state": issue.state,
            "resolution": issue.resolution,
            "reported_by": issue.by,
            "reported_at": issue.at,
            "closed_at": issue.at if issue.state == "closed" else None,
        }
        changes: dict[str, object] = {"state": issue.state, "resolution": issue.resolution}
        if issue.state == "closed":
            changes["closed_at"] = issue.at
        async with session_scope(self._engine) as session:
            await session.execute(
                insert(ProductionIssue)
                .values(issue_no=issue.issue_no, **values)
                .on_conflict_do_update(index_elements=["issue_no"], set_=changes)
            )
            verb = "reported" if issue.state == "open" else issue.state
            await add_event(
                session,
                key=f"{issue.issue_no}:{issue.state}:{issue.resolution or ''}"[:200],
                order_no=issue.order_no,
                at=issue.at,
                kind="issue",
                actor=issue.by,
                summary=f"{issue.issue_no} ({issue.kind.replace('_', ' ')}) {verb}"
                + (f": {issue.resolution}" if issue.resolution else f": {issue.description}"),
                detail={"issue_no": issue.issue_no, "state": issue.state},
            )

    @activity.defn
    async def sheet_metal_order(self, request: SheetMetalOrder) -> str:
        """A sheet-metal work order for a self-made part found missing in assembly (§8.5c),
        against the order's newest BOM revision (a DCN may have moved it since the start)."""
        key = sheet_metal_key(request.issue_no)
        async with session_scope(self._engine) as session:
            revision = await newest_revision(session, order_no=request.order_no)
            await store_proposals(
                session,
                order_no=request.order_no,
                bom_revision=revision or 0,
                requisitions=[],
                work_orders=[WorkOrderProposal(key=key, item=request.item, qty=request.qty)],
                required_date=request.required_date,
                at=request.at,
            )
            await add_event(
                session,
                key=f"{key}:opened",
                order_no=request.order_no,
                at=request.at,
                kind="work_order",
                actor="orderflow",
                summary=f"sheet-metal work order {key}: {request.qty} {request.item}",
                detail={"key": key, "issue_no": request.issue_no},
            )
        return key


async def _product(session: AsyncSession, order_no: str, revision: int) -> tuple[str, Decimal]:
    """What the work order builds and how many: the top item of the BOM revision (before the
    BOM's release, the order's first line) and the ordered quantity of it (1 if not ordered
    as such)."""
    product = (
        await top_item(session, order_no=order_no, revision=revision)
        or await family_of(session, order_no=order_no)
        or order_no
    )
    ordered = [
        Decimal(line.qty)
        for line in await order_lines(session, order_no=order_no)
        if line.item == product
    ]
    return product, sum(ordered, Decimal(0)) if ordered else Decimal(1)


ACTIVITIES: list[type] = [TaskActivities, EscalationActivities, ProductionActivities]
