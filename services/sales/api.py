"""Sales routes: order intake (P1.1), and the sales inbox."""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Header, Response, status
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from services.sales.cancellation.service import lock_order, unwind
from services.sales.models import IntakeRequest, Order
from services.sales.payment_schemas import intake_terms
from services.sales.payments_api import router as payments_router
from services.sales.schemas import CancelRequest, ChangeRequest, OrderCreate, OrderCreated
from services.sales.service import (
    find_intake,
    order_exists,
    record_order,
    request_hash,
)
from services.tasks.api import task_router
from shared.change_types import ChangeAccepted, CustomerChange
from shared.deps import CalendarDep, CurrentUser, SessionDep, SettingsDep, TemporalDep
from shared.errors import APIError, conflict, invalid, not_found, unavailable
from shared.production_types import CancellationResult, CancelOrder, UnwindOrder
from shared.settings import Settings
from shared.temporal import CUSTOMER, ORDER_NO, STAGE, workflow_queue
from shared.types import OrderInput, OrderLine
from shared.updates import send_update
from shared.workflow_ids import order_workflow_id
from workflows.clients import OrderWorkflow, order_handle

router = APIRouter(prefix="/sales", tags=["sales"])
router.include_router(task_router("sales"))
router.include_router(payments_router)


# How long a concurrent retry waits for the request that started its order to write it.
RETRY_WAIT_SECONDS = 10.0
RETRY_POLL_SECONDS = 0.05


@router.post("/orders", status_code=status.HTTP_201_CREATED, response_model=OrderCreated)
async def create_order(
    body: OrderCreate,
    session: SessionDep,
    temporal: TemporalDep,
    settings: SettingsDep,
    user: CurrentUser,
    response: Response,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> OrderCreated:
    """Take in a customer order and start its workflow; a retried Idempotency-Key returns it.

    The workflow starts first (its id `order-<no>` is the lock: Temporal refuses a second
    start), then the row is written; the workflow's first activity writes the row too, so a
    gateway dying in between leaves a running order, never a row without a workflow."""
    user.require(("sales",), "taking in an order")
    created = OrderCreated(order_no=body.order_no, workflow_id=order_workflow_id(body.order_no))
    intake = _intake(body, user.sub, settings, idempotency_key)
    # The order first: it commits with its key, so a key looked for after it is seen (read in
    # the other order, a concurrent retry committing in between would look like a duplicate).
    stored = await order_exists(session, body.order_no)
    if idempotency_key:
        earlier = await find_intake(session, key=idempotency_key, subject=user.sub)
        if earlier is not None:
            _same_request(earlier, intake)
            # An order stored before intake started workflows first may lack its workflow.
            await _start(temporal, settings, intake)
            response.headers["Location"] = f"/orders/{earlier.order_no}"
            return OrderCreated(
                order_no=earlier.order_no, workflow_id=order_workflow_id(earlier.order_no)
            )
    if stored:
        raise conflict("duplicate_order", f"order {body.order_no} already exists")
    await session.rollback()  # hold no connection while Temporal starts the workflow
    if not await _start(temporal, settings, intake):
        # Another request started this order's workflow: ours when it carried our key.
        await _await_first(session, intake)
    else:
        await record_order(session, intake)
        await session.commit()
    response.headers["Location"] = f"/orders/{body.order_no}"
    return created


def _intake(
    body: OrderCreate, by: str, settings: Settings, idempotency_key: str | None
) -> OrderInput:
    """The workflow's input: everything the request said, and its key with its hash."""
    return OrderInput(
        order_no=body.order_no,
        customer=body.customer,
        project_name=body.project_name,
        contract_no=body.contract_no,
        requested_date=body.requested_date,
        amount=body.amount,
        currency=body.currency,
        priority=body.priority,
        lines=[OrderLine(**line.model_dump()) for line in body.lines],
        received_by=by,
        queue_prefix=settings.task_queue_prefix,
        technical_agreement_ref=body.technical_agreement_ref,
        drawing_refs=list(body.drawing_refs),
        idempotency_key=idempotency_key or None,
        request_hash=request_hash(body) if idempotency_key else None,
        received_at=datetime.now(UTC),
        terms=intake_terms(
            body.payment_terms, body.credit_limit, body.customer_qualification, settings
        ),
        audit_role=settings.finance_role if settings.order_audit else None,
    )


def _same_request(earlier: IntakeRequest, intake: OrderInput) -> None:
    """422 when the key came with another body the first time."""
    if earlier.request_hash != intake.request_hash:
        raise invalid(
            "idempotency_key_reused",
            f"Idempotency-Key {intake.idempotency_key!r} was used for order {earlier.order_no} "
            "with a different body; use a new key for a new request",
        )


async def _await_first(session: AsyncSession, intake: OrderInput) -> None:
    """The order's workflow was started by another request: when that one carried the same
    key and body (a concurrent retry), wait until it has written the order and answer as it
    does; otherwise the order is a duplicate (409), or the key was reused (422)."""
    duplicate = conflict(
        "duplicate_order", f"a workflow for order {intake.order_no} already exists"
    )
    if not intake.idempotency_key:
        raise duplicate
    deadline = time.monotonic() + RETRY_WAIT_SECONDS
    while True:
        # The order first: it commits with its key, so a key looked for after it is seen.
        stored = await order_exists(session, intake.order_no)
        earlier = await find_intake(session, key=intake.idempotency_key, subject=intake.received_by)
        if earlier is not None:
            _same_request(earlier, intake)  # the same body: the same order number
            return
        await session.rollback()  # the next look sees what committed since
        if stored:
            raise duplicate
        if time.monotonic() >= deadline:
            raise unavailable(
                f"order {intake.order_no} is being taken in by another request that has not "
                "finished; retry with the same Idempotency-Key"
            )
        await asyncio.sleep(RETRY_POLL_SECONDS)


async def _start(temporal: Client, settings: Settings, intake: OrderInput) -> bool:
    """Start the order's workflow; False when it exists already (or did and has ended)."""
    try:
        await temporal.start_workflow(
            OrderWorkflow.run,
            intake,
            id=order_workflow_id(intake.order_no),
            task_queue=workflow_queue(settings.task_queue_prefix),
            # A finished order's id is never reused: a second start is refused.
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            search_attributes=TypedSearchAttributes(
                [
                    SearchAttributePair(ORDER_NO, intake.order_no),
                    SearchAttributePair(CUSTOMER, intake.customer),
                    SearchAttributePair(STAGE, "review"),
                ]
            ),
            static_summary=f"{intake.order_no} · {intake.customer} · {intake.project_name}"[:200],
        )
    except WorkflowAlreadyStartedError:
        return False
    except RPCError as exc:
        raise unavailable(f"Temporal did not start the order's workflow: {exc.message}") from exc
    return True


# Statuses in which an order has nothing left to cancel.
_ENDED = ("closed", "declined", "cancelled")


@router.post("/orders/{order_no}/cancel", response_model=CancellationResult)
async def cancel_order(
    order_no: str,
    body: CancelRequest,
    session: SessionDep,
    temporal: TemporalDep,
    user: CurrentUser,
) -> CancellationResult:
    """Cancel an order at any stage: its open requisitions, purchase orders and work orders are
    cancelled, its shelf stock freed, its tasks withdrawn and its timers stopped; 200 with the
    cost incurred so far and what was unwound, 409 when the order has already ended."""
    user.require(("sales",), "cancelling an order")
    order = await session.get(Order, order_no)
    if order is None:
        raise not_found(f"order {order_no}")
    if order.status in _ENDED:
        raise conflict(
            "order_not_cancellable",
            f"order {order_no} is already {order.status}; only an active order can be cancelled",
        )
    await session.rollback()  # hold no connection while the workflow unwinds the order
    try:
        return await _send_cancel(temporal, order_no, CancelOrder(reason=body.reason, by=user.sub))
    except APIError as exc:
        if exc.error == "workflow_closed" and not await _workflow_exists(temporal, order_no):
            raise conflict(
                "workflow_missing",
                f"order {order_no} has a record but no workflow: an intake before this version "
                "stored it and was interrupted before starting its workflow, so nothing runs "
                "for it and there is nothing to cancel; ask ops to remove the record "
                "(sales.orders) and take the order in again if it is still wanted",
            ) from exc
        raise


@router.get("/orders/{order_no}/cancellation-cost", response_model=CancellationResult)
async def cancellation_cost(
    order_no: str,
    session: SessionDep,
    calendar: CalendarDep,
    settings: SettingsDep,
    user: CurrentUser,
) -> CancellationResult:
    """What cancelling the order now would unwind and cost, before anyone confirms: the
    cancellation's own unwinding run in a transaction that is rolled back, so the figures are
    the ones a cancellation would report and nothing changes; 409 when the order has ended."""
    user.require(("sales", "ops", "division"), "pricing a cancellation")
    order = await session.get(Order, order_no)
    if order is None:
        raise not_found(f"order {order_no}")
    if order.status in _ENDED:
        raise conflict(
            "order_not_cancellable",
            f"order {order_no} is already {order.status}; only an active order can be cancelled",
        )
    plant = await calendar.current()
    try:
        locked = await lock_order(session, order_no)
        preview = UnwindOrder(
            order_no=order_no, reason="cost before cancelling", by=user.sub, at=datetime.now(UTC)
        )
        return await unwind(session, locked, preview, settings.labour_cost_per_day, plant)
    finally:
        await session.rollback()  # a preview: every change the unwinding made is undone


async def _workflow_exists(temporal: Client, order_no: str) -> bool:
    """Whether Temporal knows the order's workflow, running or ended."""
    try:
        await order_handle(temporal, order_no).describe()
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            return False
        raise unavailable(f"Temporal did not answer about order {order_no}: {exc.message}") from exc
    return True


async def _send_cancel(temporal: Client, order_no: str, command: CancelOrder) -> CancellationResult:
    """Send the order workflow's `cancel` update; its refusal becomes 409, Temporal down 503."""
    return await send_update(
        order_handle(temporal, order_no),
        OrderWorkflow.cancel,
        command,
        ended=f"the workflow of order {order_no} has ended; there is nothing left to cancel",
        what="the cancellation",
    )


@router.post("/orders/{order_no}/changes", response_model=ChangeAccepted)
async def change_order(
    order_no: str,
    body: ChangeRequest,
    session: SessionDep,
    temporal: TemporalDep,
    user: CurrentUser,
    response: Response,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> ChangeAccepted:
    """A customer change of quantity, date or scope, with the customer's written confirmation.
    200 when it took effect at once (new plan revision, MRP on the delta); 202 when it raises
    the cost or delays delivery and waits for the customer's agreement (`sales.change_agreement`
    in the sales inbox). 422 without `customer_confirmation_ref` or with a change that cannot
    apply; 409 when the order takes no change now (another awaits agreement, production has
    started, it has ended). A retried `Idempotency-Key` answers the change it made."""
    user.require(("sales",), "changing an order")
    if not body.customer_confirmation_ref or not body.customer_confirmation_ref.strip():
        raise invalid(
            "customer_confirmation_required",
            "a customer change needs the customer's written confirmation: give its reference "
            "as customer_confirmation_ref",
        )
    order = await session.get(Order, order_no)
    if order is None:
        raise not_found(f"order {order_no}")
    if order.status in _ENDED:
        raise conflict("change_refused", f"order {order_no} is {order.status}; it takes no changes")
    await session.rollback()
    command = CustomerChange(
        kind=body.kind,
        detail=body.text.strip(),
        customer_confirmation_ref=body.customer_confirmation_ref.strip(),
        item=body.item,
        qty=body.qty,
        new_date=body.new_date,
        bom_changes=body.bom_changes,
        by=user.sub,
        request_hash=_body_hash(body) if idempotency_key else None,
    )
    # Keys are per caller, as on intake; Temporal answers a repeated update id with the result
    # of the first.
    key = hashlib.sha256(f"{user.sub}\n{idempotency_key}".encode()).hexdigest()[:32]
    accepted = await send_update(
        order_handle(temporal, order_no),
        OrderWorkflow.change,
        command,
        ended=f"the workflow of order {order_no} has ended",
        what="the change",
        invalid_code="invalid_change",
        update_id=f"change-{key}" if idempotency_key else None,
    )
    if command.request_hash and accepted.request_hash != command.request_hash:
        raise invalid(
            "idempotency_key_reused",
            f"Idempotency-Key {idempotency_key!r} was used for change {accepted.change_no} "
            "with a different body; use a new key for a new change",
        )
    if accepted.state == "awaiting_agreement":
        response.status_code = status.HTTP_202_ACCEPTED
    return accepted


def _body_hash(body: ChangeRequest) -> str:
    canonical = json.dumps(body.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()
