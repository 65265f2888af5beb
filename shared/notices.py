"""Customer progress notices (seed 四.2, "定期更新订单状态,保持与客户的沟通"): what an order
tells about its progress, so sales can keep the customer informed. One notice when a milestone
of the plan is reached (its actual date recorded) and one for each plan revision published;
each goes on the order's timeline (the desk shows it) and, as the `customer_notice` event, to
the channels whose routes name that event (the sales bots)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

MILESTONE_REACHED, PLAN_REVISED = "milestone", "plan_revision"


# One notice as the order workflow gives it; `key` makes it one notice (a retried activity or
# a replayed workflow gives the same key: one timeline row, one delivery per channel).
class CustomerNotice(BaseModel):
    order_no: str
    customer: str
    kind: Literal["milestone", "plan_revision"]
    key: str
    at: datetime
    by: str
    # A milestone reached: which, on what day, and the day the plan had for it.
    milestone: str | None = None
    actual: date | None = None
    planned: date | None = None
    # A plan revision: its number, why, its dates and the ship date it now forecasts.
    revision: int | None = None
    reason: str | None = None
    milestones: dict[str, date] = Field(default_factory=dict)
    forecast_ship: date | None = None
    due_date: date | None = None

    def summary(self) -> str:
        """The notice in one English line (the timeline's summary)."""
        if self.kind == MILESTONE_REACHED:
            late = ""
            if self.actual and self.planned and self.actual != self.planned:
                days = (self.actual - self.planned).days
                late = f", {abs(days)} day(s) {'late' if days > 0 else 'early'}"
            return (
                f"customer notice: {self.order_no} reached {self.milestone} on {self.actual} "
                f"(planned {self.planned}{late})"
            )
        return (
            f"customer notice: plan revision {self.revision} of {self.order_no} ({self.reason}); "
            f"ships {self.forecast_ship}, due {self.due_date}"
        )

    def content(self, order_url: str) -> dict[str, Any]:
        """The event's body as the channels get it (the generic webhook POSTs it as it is)."""
        return {**self.model_dump(mode="json"), "order_url": order_url}
