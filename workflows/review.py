"""P1 Order review (§1): engineering and procurement in parallel (with finance's order audit,
workflows/money.py), planning's delivery date, management approval above the threshold or
where the terms force it, and the customer's confirmation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from services.planning.activities import PlanningActivities
    from shared import payloads as p
    from shared.types import DeliveryProposal, DeliveryProposalInput

if TYPE_CHECKING:
    from shared.order_state import ReviewState
    from workflows.context import OrderContext
    from workflows.money import MoneyPhase


# What the review decided: a confirmed date, or a decline with its reason.
@dataclass
class ReviewOutcome:
    declined: bool = False
    reason: str = ""
    delivery_date: date | None = None


class ReviewPhase:
    """P1 on the order's `ReviewState`: the figures it gathers feed the master plan."""

    def __init__(self, state: ReviewState, ctx: OrderContext, money: MoneyPhase) -> None:
        self.state, self.ctx, self.money = state, ctx, money

    async def run(self) -> ReviewOutcome:
        audit = await self.money.open_audit()
        await self._technical_and_lead_time()
        refusal = await self.money.audit_refusal(audit)
        if refusal:
            return ReviewOutcome(declined=True, reason=refusal)
        return await self._agree_delivery_date()

    async def _technical_and_lead_time(self) -> None:
        """Engineering's contract review (repeated while it finds issues) beside procurement's."""
        order, inp = self.ctx, self.ctx.inp
        lines = [line.model_dump(mode="json") for line in inp.lines]
        lead = await order.book.open(
            "procurement.lead_time_review",
            f"Lead-time review of {inp.order_no}",
            {"lines": lines, "requested_date": inp.requested_date.isoformat()},
        )
        previous: list[str] = []
        while True:
            self.state.rounds += 1
            review = await order.book.open(
                "engineering.contract_review",
                f"Contract review of {inp.order_no} (round {self.state.rounds})",
                {
                    "round": self.state.rounds,
                    "contract_no": inp.contract_no,
                    "project_name": inp.project_name,
                    "lines": lines,
                    "previous_issues": previous,
                },
            )
            await order.wait_tasks(review)
            result = p.ContractReview.parse(review.payload)
            if result.ok:
                self.state.design_days = result.design_days
                break
            previous = result.issues
            await order.event(
                "technical_issues",
                review.completed_by or "engineering",
                f"review round {self.state.rounds} found {len(result.issues)} technical "
                "issue(s); engineering clarifies with the customer",
                {"round": self.state.rounds, "issues": result.issues},
            )
        await order.wait_tasks(lead)
        lead_result = p.LeadTimeReview.parse(lead.payload)
        self.state.lead_days = lead_result.lead_days
        self.state.critical_items = lead_result.critical_items

    async def _agree_delivery_date(self) -> ReviewOutcome:
        """Planning proposes, management approves when needed, the customer confirms."""
        order, inp = self.ctx, self.ctx.inp
        customer_date: date | None = None
        while True:
            proposal: DeliveryProposal = await order.activity(
                PlanningActivities.propose_delivery,
                DeliveryProposalInput(
                    order_no=inp.order_no,
                    today=order.today(),
                    design_days=self.state.design_days,
                    lead_days=self.state.lead_days,
                ),
                "propose a delivery date from design, lead time and workshop load",
            )
            review = await order.book.open(
                "planning.delivery_review",
                f"Delivery date for {inp.order_no}",
                {
                    "proposed_date": proposal.delivery_date.isoformat(),
                    "explanation": proposal.explanation,
                    "requested_date": inp.requested_date.isoformat(),
                    "customer_date": customer_date.isoformat() if customer_date else None,
                    "design_days": self.state.design_days,
                    "lead_days": self.state.lead_days,
                    "critical_items": self.state.critical_items,
                },
            )
            await order.wait_tasks(review)
            delivery_date = p.DeliveryReview.parse(review.payload).delivery_date
            above = order.state.policy and inp.amount > order.state.policy.approval_threshold
            if not self.state.approved and (above or self.money.needs_approval()):
                outcome = await self._management_approval(delivery_date)
                if outcome is not None:
                    return outcome
            confirm = await order.book.open(
                "sales.confirm_delivery",
                f"Confirm {delivery_date} with {inp.customer}",
                {"delivery_date": delivery_date.isoformat(), "customer": inp.customer},
            )
            await order.wait_tasks(confirm)
            answer = p.ConfirmDelivery.parse(confirm.payload)
            if answer.accepted:
                return ReviewOutcome(delivery_date=delivery_date)
            if answer.decline:
                reason = answer.reason or "the customer declined the delivery date"
                return ReviewOutcome(declined=True, reason=f"customer declined: {reason}")
            customer_date = answer.customer_date
            await order.event(
                "counter_date",
                confirm.completed_by or "sales",
                f"customer asks for {customer_date}; back to planning's delivery review",
                {"customer_date": str(customer_date)},
            )

    async def _management_approval(self, delivery_date: date) -> ReviewOutcome | None:
        order, inp = self.ctx, self.ctx.inp
        approval = await order.book.open(
            "sales.management_approval",
            f"Approve order {inp.order_no} ({inp.amount} {inp.currency})",
            {
                "amount": str(inp.amount),
                "currency": inp.currency,
                "threshold": str(
                    order.state.policy.approval_threshold if order.state.policy else ""
                ),
                "delivery_date": delivery_date.isoformat(),
                # Why the order needs approval whatever its amount (the order audit).
                "approval_reasons": order.state.money.approval_reasons,
                "taken_in_by": inp.received_by,
            },
        )
        await order.wait_tasks(approval)
        decision = p.Approval.parse(approval.payload)
        if not decision.approved:
            why = decision.comment or "no reason given"
            return ReviewOutcome(declined=True, reason=f"management did not approve: {why}")
        self.state.approved = True
        return None
