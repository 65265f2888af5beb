"""The planner's delivery-delay warning by hand (§2.4, 《交期延误项目预警》):
`POST /planning/orders/{order_no}/delay-warnings`. The order re-forecasts the milestone,
writes the warning on its timeline and escalates it to sales and the division head."""

from __future__ import annotations

from fastapi import APIRouter, status
from pydantic import BaseModel, ConfigDict, Field, field_validator

from services.sales.service import order_exists
from shared.bounds import BoundedDate, Text
from shared.delay_types import DelayWarned, DelayWarning
from shared.deps import CurrentUser, SessionDep, TemporalDep
from shared.errors import not_found
from shared.payloads import MILESTONES
from shared.updates import send_update
from workflows.clients import OrderWorkflow, order_handle

router = APIRouter()


class DelayWarningCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    # The milestone that slips; the ship date (the delivery) by default.
    milestone: str = Field(default="ship", max_length=40)
    new_date: BoundedDate
    reason: Text = Field(min_length=1, max_length=1000)
    countermeasure: Text = Field(min_length=1, max_length=1000)

    @field_validator("milestone")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in MILESTONES:
            raise ValueError(f"milestone must be one of {', '.join(MILESTONES)}")
        return value

    @field_validator("reason", "countermeasure")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value.strip()


@router.post(
    "/orders/{order_no}/delay-warnings",
    status_code=status.HTTP_201_CREATED,
    response_model=DelayWarned,
)
async def warn_delay(
    order_no: str,
    body: DelayWarningCreate,
    session: SessionDep,
    temporal: TemporalDep,
    user: CurrentUser,
) -> DelayWarned:
    """The planner warns that a milestone (the delivery by default) slips to `new_date`, why,
    and the countermeasure: the order's forecast moves, its timeline records the warning, and
    sales and the division head are escalated to. 409 `delay_warning_refused` when the order
    has no plan yet, the milestone is done, or the date is earlier than its forecast."""
    user.require(("planning",), "raising a delivery-delay warning")
    if not await order_exists(session, order_no):
        raise not_found(f"order {order_no}")
    command = DelayWarning(
        milestone=body.milestone,
        new_date=body.new_date,
        reason=body.reason,
        countermeasure=body.countermeasure,
        by=user.sub,
    )
    return await send_update(
        order_handle(temporal, order_no),
        OrderWorkflow.warn_delay,
        command,
        ended=f"order {order_no} has ended",
        what="the delay warning",
        invalid_code="invalid_delay_warning",
    )
