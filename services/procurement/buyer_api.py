"""The buyer's and material controller's routes added in issue 16: a PO line's promised date
moved (§4.7, §4.9), requisitions raised by hand (§4.4, §4.10) and safety-stock levels with
their history (§4.5)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

from fastapi import APIRouter, status
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client
from temporalio.service import RPCError

from services.engineering.schemas import ItemMaster
from services.engineering.service import item_masters
from services.procurement.buyer_schemas import (
    ItemPath,
    PoNoPath,
    PromiseMove,
    PromiseMovedPublic,
    RequisitionCreate,
    SafetyStockChangePublic,
    SafetyStockPublic,
    SafetyStockSet,
)
from services.procurement.models import (
    PoLine,
    PurchaseOrder,
    Requisition,
    SafetyStockLevel,
    Task,
)
from services.procurement.safety_stock import current_level, level_history, set_level
from services.procurement.schemas import RequisitionPublic
from services.sales.service import order_exists
from shared.auth import READ_ALL
from shared.deps import CurrentUser, SessionDep, SettingsDep, TemporalDep
from shared.errors import APIError, conflict, invalid, not_found, unavailable
from shared.procurement_types import MovePromise, PromiseMoved, PromiseWatchInput
from shared.types import RequisitionInput, RequisitionSummary
from shared.updates import send_update
from shared.workflow_ids import promise_watch_workflow_id
from workflows.clients import (
    PromiseWatchWorkflow,
    promise_watch_handle,
    start_promise_watch,
    start_requisition,
)

router = APIRouter()

BUYERS = ("procurement",)
HEAD = ("head:procurement",)


def _today() -> date:
    return datetime.now(UTC).date()


async def tasks_of_workflow(session: AsyncSession, workflow_id: str) -> int:
    """How many tasks the procurement inbox holds of a workflow id (every run of it)."""
    query = select(func.count()).select_from(Task).where(Task.c.workflow_id == workflow_id)
    return int((await session.execute(query)).scalar_one())


# -- a PO line's promised date ----------------------------------------------------------------


@router.post("/purchase-orders/{po_no}/promise", response_model=PromiseMovedPublic)
async def move_promise(
    po_no: PoNoPath,
    body: PromiseMove,
    session: SessionDep,
    temporal: TemporalDep,
    settings: SettingsDep,
    user: CurrentUser,
) -> PromiseMovedPublic:
    """Move one line's promised date (the supplier now promises another). A date after the
    date the material is required warns the planner and moves the order's forecast; an open
    `procurement.confirm_promise` of the line is closed."""
    user.require(BUYERS, "moving a promised date")
    po = await session.get(PurchaseOrder, po_no)
    if po is None:
        raise not_found(f"purchase order {po_no}")
    line = await session.get(PoLine, (po_no, body.line_no))
    if line is None:
        raise not_found(f"line {body.line_no} of purchase order {po_no}")
    if po.state != "open" or line.qty_received >= line.qty or line.requisition_key is None:
        raise conflict(
            "po_line_closed",
            f"line {body.line_no} of {po_no} owes nothing any more (the PO is {po.state}, "
            f"{line.qty_received} of {line.qty} received): its date cannot move",
        )
    if body.promised_date <= _today():
        raise invalid("invalid_promise", f"promised_date must be after today ({_today()})")
    requisition = await session.get(Requisition, line.requisition_key)
    watch = PromiseWatchInput(
        requisition_key=line.requisition_key,
        po_no=po_no,
        item=line.item,
        qty=line.qty,
        promised_date=line.promised_date or po.promised_date,
        order_no=po.order_no,
        required_date=requisition.required_date if requisition else None,
        queue_prefix=settings.task_queue_prefix,
    )
    await session.rollback()  # nothing is written here: the watch stores the move
    command = MovePromise(promised_date=body.promised_date, reason=body.reason, by=user.sub)
    try:
        moved = await _send_move(temporal, watch.requisition_key, command)
    except APIError as exc:
        if exc.error != "workflow_closed":
            raise
        # The line's watch has ended (confirmed, or the PO is older than watches): a new one
        # takes the move and watches the new date.
        try:
            earlier = await tasks_of_workflow(
                session, promise_watch_workflow_id(watch.requisition_key)
            )
            await start_promise_watch(
                temporal, watch.model_copy(update={"for_move": True, "tasks_before": earlier})
            )
        except RPCError as err:
            raise unavailable(f"Temporal did not take the promise watch: {err.message}") from err
        moved = await _send_move(temporal, watch.requisition_key, command)
    return PromiseMovedPublic(line_no=body.line_no, **moved.model_dump(exclude={"requisition_key"}))


async def _send_move(temporal: Client, key: str, command: MovePromise) -> PromiseMoved:
    return await send_update(
        promise_watch_handle(temporal, key),
        PromiseWatchWorkflow.move_promise,
        command,
        ended="the line's promise watch has ended",
        what="the new promised date",
        invalid_code="invalid_promise",
    )


# -- requisitions raised by hand ----------------------------------------------------------------


@router.post("/requisitions", status_code=status.HTTP_201_CREATED, response_model=RequisitionPublic)
async def create_requisition(
    body: RequisitionCreate,
    session: SessionDep,
    temporal: TemporalDep,
    settings: SettingsDep,
    user: CurrentUser,
) -> RequisitionPublic:
    """Raise a requisition by hand: a pre-purchase before the BOM is released, or a temporary
    addition (§4.4, §4.10). The division approves it (`procurement.special_approval`), then
    the buyer puts it on a purchase order (`procurement.place_po`)."""
    user.require(BUYERS, "raising a requisition")
    master = await _item(session, body.item)
    if body.need_date < _today():
        raise invalid("invalid_requisition", f"need_date must not lie before today ({_today()})")
    if body.order_no is not None and not await order_exists(session, body.order_no):
        raise invalid("unknown_order", f"order {body.order_no} does not exist")
    row = Requisition(
        key=f"hand-{uuid.uuid4().hex[:24]}",
        order_no=body.order_no,
        item=master.item,
        qty=Decimal(str(body.qty)),
        supplier=master.supplier,
        lead_days=master.lead_days,
        special=master.special,
        reason=body.reason,
        state="open",
        required_date=body.need_date,
        created_at=datetime.now(UTC),
    )
    session.add(row)
    await session.commit()
    summary = RequisitionSummary(
        key=row.key,
        item=row.item,
        qty=row.qty,
        supplier=row.supplier,
        special=row.special,
        reason=row.reason,
    )
    owner = body.order_no or "stock"
    try:
        await start_requisition(
            temporal,
            RequisitionInput(
                requisition=summary,
                order_no=body.order_no,
                queue_prefix=settings.task_queue_prefix,
                required_date=body.need_date,
            ),
            f"{body.reason}: buy {summary.qty} {summary.item} for {owner}",
        )
    except RPCError as err:
        row.state = "cancelled"  # nothing will buy it: it must not count as open supply
        await session.commit()
        raise unavailable(f"Temporal did not take the requisition: {err.message}") from err
    return RequisitionPublic.model_validate(row, from_attributes=True)


async def _item(session: AsyncSession, item: str) -> ItemMaster:
    master = (await item_masters(session, items=[item])).get(item)
    if master is None:
        raise invalid("unknown_item", f"item {item} is not in engineering's item master")
    if master.make_or_buy != "buy":
        raise invalid("unknown_item", f"item {item} is made, not bought: it takes a work order")
    return master


# -- safety stock -------------------------------------------------------------------------------


@router.put("/items/{item}/safety-stock", response_model=SafetyStockPublic)
async def put_safety_stock(
    item: ItemPath, body: SafetyStockSet, session: SessionDep, user: CurrentUser
) -> SafetyStockPublic:
    """Set an item's safety stock (the procurement head, §4.5); the next daily MRP run tops
    stock up to it. Every change is kept with who made it and why."""
    user.require(HEAD, "setting a safety stock")
    master = await _master_or_404(session, item)
    await set_level(
        session,
        master,
        level=Decimal(str(body.level)),
        reason=body.reason,
        by=user.sub,
        at=datetime.now(UTC),
    )
    await session.commit()
    return await _safety_stock(session, master)


@router.get("/items/{item}/safety-stock", response_model=SafetyStockPublic)
async def get_safety_stock(
    item: ItemPath, session: SessionDep, user: CurrentUser
) -> SafetyStockPublic:
    """An item's safety stock as the daily MRP run uses it, and every change of it."""
    user.require(("procurement", *HEAD, "planning", *READ_ALL), "reading a safety stock")
    return await _safety_stock(session, await _master_or_404(session, item))


async def _master_or_404(session: AsyncSession, item: str) -> ItemMaster:
    master = (await item_masters(session, items=[item])).get(item)
    if master is None:
        raise not_found(f"item {item}")
    return master


async def _safety_stock(session: AsyncSession, master: ItemMaster) -> SafetyStockPublic:
    own = await session.get(SafetyStockLevel, master.item)
    return SafetyStockPublic(
        item=master.item,
        level=await current_level(session, master),
        source="procurement" if own is not None else "item_master",
        history=[
            SafetyStockChangePublic.model_validate(change, from_attributes=True)
            for change in await level_history(session, master.item)
        ],
    )
