"""The delivery-delay warning the planner raises by hand (§2.4): from the project's progress the
planner judges that a milestone — the delivery itself by default — will slip, and warns sales
and the division head with the countermeasure (《交期延误项目预警》).

The order re-forecasts the milestone (and the ones after it), writes the warning on its
timeline, and raises a `delivery_delay` escalation to sales and one to the division carrying
the reason and the countermeasure. The automatic warning of the re-forecast (plan.py) is not
raised again for the same ship date: the planner's own warning says more.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from services.planning.scheduling import shift_forecast
    from shared.activity_errors import clip
    from shared.delay_types import DelayWarned, DelayWarning
    from shared.payloads import MILESTONES
    from workflows.common import end_of_day

if TYPE_CHECKING:
    from workflows.context import OrderContext

# Who hears of it: sales (to talk to the customer) and the division head (§2.4 市场与主管).
WARNED = ((1, "sales", "sales"), (2, "division", "planning"))
TEXT_MAX = 1000


def warning_violation(cmd: DelayWarning) -> str | None:
    """What is wrong with the warning itself, in a sentence."""
    if cmd.milestone not in MILESTONES:
        return f"milestone must be one of {', '.join(MILESTONES)}"
    for name in ("reason", "countermeasure"):
        text = getattr(cmd, name)
        if not text.strip():
            return f"{name} must not be blank: say why the delivery slips and what is done"
        if len(text) > TEXT_MAX:
            return f"{name} is limited to {TEXT_MAX} characters"
    return None


def warning_refusal(order: OrderContext, cmd: DelayWarning) -> str | None:
    """Why the order cannot take the warning now, in a sentence; None when it can."""
    no, state = order.inp.order_no, order.state
    if state.status != "active" or state.cancellation is not None:
        return f"{no} is {state.status}; no delay warning for it"
    forecast = state.plan.forecast.get(cmd.milestone)
    if forecast is None:
        return f"{no} has no master plan yet: agree the plan first"
    if cmd.milestone in state.actuals:
        return f"{cmd.milestone} of {no} was done on {state.actuals[cmd.milestone]}"
    today = order.today()
    if cmd.new_date < today:
        return f"new_date must not lie before today ({today})"
    if cmd.new_date < forecast:
        return (
            f"{cmd.milestone} of {no} is already forecast for {forecast}: a delay warning "
            "moves it later, not earlier"
        )
    return None


async def warn_delay(order: OrderContext, cmd: DelayWarning) -> DelayWarned:
    """Re-forecast, record and escalate the planner's warning."""
    plan, no = order.state.plan, order.inp.order_no
    plan.hand_warnings += 1
    number = plan.hand_warnings
    ship = shift_forecast(plan.milestones, plan.forecast, cmd.milestone, cmd.new_date)["ship"]
    due = order.state.due_date
    late = max((ship - due).days, 0) if due else 0
    if late and (plan.delay_warned is None or ship > plan.delay_warned):
        plan.delay_warned = ship  # this warning is the one for that ship date
    await order.reforecast(cmd.milestone, cmd.new_date)
    detail = {
        "number": number,
        "milestone": cmd.milestone,
        "new_date": cmd.new_date.isoformat(),
        "forecast_ship": ship.isoformat(),
        "due_date": due.isoformat() if due else None,
        "late_days": late,
        "reason": cmd.reason,
        "countermeasure": cmd.countermeasure,
    }
    slips = f"{cmd.milestone} slips to {cmd.new_date}" + (
        f", shipping {ship}, {late} day(s) after the due date {due}" if late else ""
    )
    await order.event("delay_warning", cmd.by, f"delay warning {number} of {no}: {slips}", detail)
    for level, role, department in WARNED:
        await order.escalate(
            key=f"{no}:delay-warning:{number}:{role}",
            kind="delivery_delay",
            level=level,
            department=department,
            role=role,
            due_at=end_of_day(due) if due and end_of_day(due) > workflow.now() else None,
            message=clip(
                f"delay warning by {cmd.by}: {no} {slips}. Reason: {cmd.reason}. "
                f"Countermeasure: {cmd.countermeasure}",
                1000,
            ),
        )
    return DelayWarned(
        order_no=no,
        number=number,
        milestone=cmd.milestone,
        new_date=cmd.new_date,
        forecast_ship=ship,
        due_date=due,
        late_days=late,
        warned=[role for _, role, _ in WARNED],
    )
