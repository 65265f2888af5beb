"""Sales routes: order intake (P1.1), and the sales inbox."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Response, status
from temporalio.client import Client
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError

from services.sales.schemas import OrderCreate, OrderCreated
from services.sales.service import (
    find_intake,
    forget_order,
    order_workflow_id,
    request_hash,
    store_order,
)
from shared.deps import CurrentUser, SessionDep, SettingsDep, TemporalDep
from shared.errors import conflict, invalid, unavailable
from shared.settings import Settings
from shared.tasks.api import task_router
from shared.temporal import CUSTOMER, ORDER_NO, STAGE, workflow_queue
from shared.types import OrderInput, OrderLine
from workflows.order import OrderWorkflow

router = APIRouter(prefix="/sales", tags=["sales"])
router.include_router(task_router("sales"))


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
    """Take in a customer order and start its workflow; a retried Idempotency-Key returns it."""
    user.require(("sales",), "taking in an order")
    created = OrderCreated(order_no=body.order_no, workflow_id=order_workflow_id(body.order_no))
    if idempotency_key:
        earlier = await find_intake(session, key=idempotency_key, subject=user.sub)
        if earlier is not None:
            if earlier.request_hash != request_hash(body):
                raise invalid(
                    "idempotency_key_reused",
                    f"Idempotency-Key {idempotency_key!r} was used for order {earlier.order_no} "
                    "with a different body; use a new key for a new request",
                )
            await _start(temporal, settings, body, user.sub, already_stored=True)
            return OrderCreated(order_no=earlier.order_no, workflow_id=created.workflow_id)
    stored = await store_order(
        session, body=body, created_by=user.sub, idempotency_key=idempotency_key
    )
    if stored is None:
        raise conflict("duplicate_order", f"order {body.order_no} already exists")
    try:
        await _start(temporal, settings, body, user.sub, already_stored=False)
    except Exception:
        await forget_order(session, body.order_no)
        raise
    response.headers["Location"] = f"/orders/{body.order_no}"
    return created


async def _start(
    temporal: Client, settings: Settings, body: OrderCreate, by: str, *, already_stored: bool
) -> None:
    """Start the order's workflow; a retry finds it running and changes nothing."""
    workflow_input = OrderInput(
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
    )
    try:
        await temporal.start_workflow(
            OrderWorkflow.run,
            workflow_input,
            id=order_workflow_id(body.order_no),
            task_queue=workflow_queue(settings.task_queue_prefix),
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            search_attributes=TypedSearchAttributes(
                [
                    SearchAttributePair(ORDER_NO, body.order_no),
                    SearchAttributePair(CUSTOMER, body.customer),
                    SearchAttributePair(STAGE, "review"),
                ]
            ),
            static_summary=f"{body.order_no} · {body.customer} · {body.project_name}"[:200],
        )
    except WorkflowAlreadyStartedError as exc:
        if not already_stored:
            raise conflict(
                "duplicate_order", f"a workflow for order {body.order_no} already exists"
            ) from exc
    except RPCError as exc:
        raise unavailable(f"Temporal did not start the order's workflow: {exc.message}") from exc
