"""The money of one order in its workflow (issue 16), on the order's `MoneyState`.

* P1 order audit: finance (or the sales head, `OrderInput.audit_role`) reviews the customer's
  qualification and the payment terms beside engineering's and procurement's reviews; an order
  above the customer's credit limit or without a deposit needs management's approval whatever
  its amount, and that approval must come from someone other than who took the order in.
* The deposit: where the terms say so, the order is released to planning only once it is paid.
* Settlement: what was paid is compared with what is due (the contract amount less a retention
  not due before the warranty ends); a short payment keeps the order in `closing` with a
  collection task, and a reminder when the customer's promised date passes unpaid.

The ledger is sales' (services/sales/payments.py). The workflow learns its total by the
`payments_changed` signal: the payment is booked before the workflow hears of it, so there is
nothing for the workflow to refuse (an update's validation would have nothing to say), and the
booking must not wait on the workflow's progress; the signal carries the whole total and the
count of payments, so a repeated or late one does no harm.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from services.sales.payments import PaymentActivities
    from shared import payloads as p
    from shared import payloads_money as pm
    from shared.payment_types import PaymentsTotal, PaymentTerms, SettlementPayment
    from shared.rejections import Rejection
    from shared.tasks.kinds import TASK_KINDS
    from shared.types import CompleteTask
    from workflows.common import end_of_day
    from workflows.tasks import TaskState

if TYPE_CHECKING:
    from shared.order_state import MoneyState
    from workflows.context import OrderContext

# New orders audit their terms (and management's approval needs four eyes); where the terms
# say so the deposit gates the release; settlement compares the ledger with what is due.
ORDER_AUDIT = "order-audit"
DEPOSIT_GATE = "deposit-gate"
SETTLEMENT_PAYMENTS = "settlement-payments"


class MoneyPhase:
    """The order audit, the deposit gate and the settlement's comparison."""

    def __init__(self, state: MoneyState, ctx: OrderContext) -> None:
        self.state, self.ctx = state, ctx

    @property
    def terms(self) -> PaymentTerms | None:
        return self.ctx.inp.terms

    def contract(self) -> Decimal:
        """The contract amount: intake's, or the last a customer change agreed anew (the
        change's agreement task carries it; sales' order row takes it too)."""
        amount = self.ctx.inp.amount
        for task in self.ctx.book.tasks.values():
            if task.kind == "sales.change_agreement" and task.payload is not None:
                agreed = p.ChangeAgreement.parse(task.payload)
                if agreed.agreed and agreed.amount:
                    amount = Decimal(str(agreed.amount))
        return amount

    def heard(self, total: PaymentsTotal) -> None:
        """The ledger's total, as sales booked it (the latest of what it sent)."""
        if total.count >= self.state.payments:
            self.state.paid, self.state.payments = total.total, total.count

    # -- P1 the order audit -----------------------------------------------------------------

    async def open_audit(self) -> TaskState | None:
        """Open finance's audit of a new order (None when the plant audits none, or for an
        order from before audits); from here on management's approval needs four eyes."""
        if not workflow.patched(ORDER_AUDIT):
            return None
        order, terms = self.ctx, self.terms
        self.state.four_eyes = True
        if terms is None:
            return None
        self.state.approval_reasons = terms.approval_reasons(order.inp.amount)
        if order.inp.audit_role is None:
            return None
        return await order.book.open(
            "sales.order_audit",
            f"Audit terms and credit of {order.inp.order_no} ({order.inp.customer})",
            {
                "customer": order.inp.customer,
                "amount": str(order.inp.amount),
                "currency": order.inp.currency,
                "terms": terms.model_dump(mode="json"),
                "deposit": str(terms.deposit(order.inp.amount)),
                "approval_reasons": self.state.approval_reasons,
                "audit_role": order.inp.audit_role,
            },
        )

    async def audit_refusal(self, audit: TaskState | None) -> str | None:
        """Wait for the audit; the reason to decline the order when it did not pass."""
        if audit is None:
            return None
        await self.ctx.wait_tasks(audit)
        verdict = pm.OrderAudit.parse(audit.payload)
        if verdict.passed:
            return None
        failed = [
            what
            for what, ok in (
                ("the customer's qualification", verdict.customer_qualified),
                ("the payment terms", verdict.terms_ok),
            )
            if not ok
        ]
        return f"the order audit did not pass {' and '.join(failed)}: {verdict.comment}"

    def needs_approval(self) -> bool:
        return bool(self.state.approval_reasons)

    def completion_refusal(self, task: TaskState, cmd: CompleteTask) -> tuple[str, str] | None:
        """Who may not complete a task of this order, beyond its kind's roles: the audit is the
        plant's audit role's; management's approval is never given by who took the order in."""
        inp = self.ctx.inp
        role = inp.audit_role
        if task.kind == "sales.order_audit" and role and not {role, "admin"} & set(cmd.roles):
            return Rejection.FORBIDDEN, f"this plant's order audit is done by the role {role}"
        if (
            task.kind == "sales.management_approval"
            and self.state.four_eyes
            and cmd.by == inp.received_by
        ):
            return Rejection.FOUR_EYES, (
                f"{cmd.by} took order {inp.order_no} in and may not approve it too (four "
                "eyes): another holder of "
                f"{' or '.join(TASK_KINDS[task.kind].roles)} approves it"
            )
        return None

    def rule_violation(self, payload: p.Payload) -> str | None:
        today = self.ctx.today()
        if isinstance(payload, pm.CollectPayment) and payload.promised_on < today:
            return f"promised_on must not lie before today ({today})"
        return None

    # -- the deposit before release -----------------------------------------------------------

    async def deposit_gate(self) -> None:
        """Hold the release to planning until the deposit is paid, where the terms say so."""
        terms, inp = self.terms, self.ctx.inp
        if terms is None or not terms.deposit_before_release:
            return
        deposit = terms.deposit(self.contract())
        if deposit <= 0 or not workflow.patched(DEPOSIT_GATE):
            return
        if self.state.paid < deposit:
            await self.ctx.event(
                "awaiting_deposit",
                "orderflow",
                f"released to planning once the deposit of {deposit} {inp.currency} is paid",
                {"deposit": str(deposit), "paid": str(self.state.paid)},
            )
            await self.collect(deposit, "the deposit")
        await self.ctx.event(
            "deposit_paid",
            "orderflow",
            f"deposit paid ({self.state.paid} of {self.contract()} {inp.currency}): released",
            {"deposit": str(deposit), "paid": str(self.state.paid)},
        )

    # -- P10 settlement -----------------------------------------------------------------------

    async def settle(self, settlement: TaskState) -> None:
        """Compare what was paid with what is due now; collect a shortfall before closing.

        The settlement's `amount_paid` is what sales says the customer paid in all: beyond the
        ledger it is booked (referenced by the invoice), so the ledger stays the one record."""
        order, terms, inp = self.ctx, self.terms, self.ctx.inp
        if terms is None or not workflow.patched(SETTLEMENT_PAYMENTS):
            return
        answer = p.Settlement.parse(settlement.payload)
        contract = self.contract()
        # Never more booked than the contract: an overpayment is not the order's money.
        stated = min(Decimal(str(answer.amount_paid)), contract)
        by = settlement.completed_by or "sales"
        if stated > self.state.paid:
            total = await order.activity(
                PaymentActivities.book_settlement_payment,
                SettlementPayment(
                    order_no=inp.order_no,
                    amount=stated - self.state.paid,
                    paid_on=order.today(),
                    reference=f"settlement {answer.invoice_no}",
                    by=by,
                ),
                f"book {stated - self.state.paid} {inp.currency} paid at settlement",
            )
            self.heard(total)
        due = contract - terms.retention(contract)
        if self.state.paid >= due:
            return
        await order.event(
            "short_payment",
            by,
            f"paid {self.state.paid} of the {due} {inp.currency} due at settlement "
            f"(contract {contract}); the order stays in closing until the rest is in",
            {"paid": str(self.state.paid), "due": str(due), "invoice_no": answer.invoice_no},
        )
        await self.collect(due, "the final payment")

    async def collect(self, target: Decimal, what: str) -> None:
        """Chase the customer until the ledger reaches `target`: a collection task asks for a
        promised date; when it passes unpaid, a reminder and the next collection task."""
        order, inp = self.ctx, self.ctx.inp
        reminder = 0
        while self.state.paid < target:
            self.state.collections += 1
            short = target - self.state.paid
            task = await order.book.open(
                "sales.collect_payment",
                f"Collect {short} {inp.currency} ({what}) of {inp.order_no} from {inp.customer}"
                + (f" (reminder {reminder})" if reminder else ""),
                {
                    "what": what,
                    "target": str(target),
                    "paid": str(self.state.paid),
                    "outstanding": str(short),
                    "reminder": reminder,
                },
            )
            if await self._paid_before_answer(task, target, what):
                await order.book.withdraw(task)
                return
            promise = pm.CollectPayment.parse(task.payload)
            kept = await order.until(
                lambda: self.state.paid >= target,
                f"customer promised {what} by {promise.promised_on}",
                deadline=end_of_day(promise.promised_on),
                timer_summary=f"{what} promised by {promise.promised_on}",
            )
            if kept:
                return
            reminder += 1
            await order.event(
                "payment_reminder",
                "orderflow",
                f"{what} promised by {promise.promised_on} is not in "
                f"({self.state.paid} of {target} {inp.currency} paid); reminder {reminder}",
                {"promised_on": str(promise.promised_on), "paid": str(self.state.paid)},
            )

    async def _paid_before_answer(self, task: TaskState, target: Decimal, what: str) -> bool:
        """Wait for the money or the collector's answer: True when the money came first."""
        await self.ctx.until(
            lambda: self.state.paid >= target or not task.is_open, f"waiting for {what}"
        )
        return task.is_open
