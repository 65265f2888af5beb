"""P9 final inspection and P10 delivery to close.

* Final inspection (§11): production submits the product (with any missing parts); quality
  inspects (once the component certificates and manuals are handed to quality, §8.4);
  defects go back to production, each corrected and signed by the team leader, and
  quality inspects again, as many rounds as it takes (round 1 is the first-pass yield). Parts
  listed missing are chased and hold the product until fitted and signed or shipped
  separately (workflows/missing_parts.py). The passed product then enters finished goods and
  the work order closes.
* Delivery and close: shipment and transport, the customer's receipt, commissioning
  (installation, training, power-on check; repeated until the unit runs), settlement (a
  short payment collected first, workflows/money.py), evaluation; then the order is `closed`
  with its whole history kept.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from services.production.activities import ProductionActivities
    from services.quality.final_inspection import FinalInspectionActivities
    from services.warehouse.activities import WarehouseActivities
    from shared import payloads as p
    from shared.payloads_customer import ShippingCheck
    from shared.production_types import FinalInspectionRound, FinishedGoods, WorkOrderStep
    from workflows.clocks import due_by
    from workflows.common import end_of_day
    from workflows.missing_parts import MissingPartsGate

if TYPE_CHECKING:
    from shared.order_state import ClosingState
    from workflows.context import OrderContext
    from workflows.money import MoneyPhase
    from workflows.tasks import TaskState

# The patch behind which `sales.ship` waits for a passed `sales.shipping_check` (orders that
# reached delivery before it ship without one).
SHIPPING_CHECK = "shipping-check"


class ClosingPhase:
    """P9-P10 on the order's `ClosingState`."""

    def __init__(self, state: ClosingState, ctx: OrderContext, money: MoneyPhase) -> None:
        self.state, self.ctx, self.money = state, ctx, money
        self.missing_parts = MissingPartsGate(state.missing, ctx)

    def rule_violation(self, payload: p.Payload) -> str | None:
        if isinstance(payload, p.SubmitInspection):
            items = [m.item for m in payload.missing_parts]
            repeated = sorted({item for item in items if items.count(item) > 1})
            if repeated:
                return f"list each missing part once; repeated: {', '.join(repeated)}"
        problem = self.missing_parts.rule_violation(payload)
        if problem:
            return problem
        if isinstance(payload, p.FinalInspection) and not payload.passed and not payload.defects:
            return "a failed inspection lists its defects"
        if isinstance(payload, p.CorrectDefects):
            ids = [d.id for d in payload.defects]
            unknown = sorted(set(ids) - set(self.state.defects))
            if unknown:
                return (
                    f"unknown defect(s) {', '.join(unknown)}; open: {', '.join(self.state.defects)}"
                )
            missing = sorted(set(self.state.defects) - set(ids))
            if missing:
                return (
                    f"every defect needs the team leader's signature; missing {', '.join(missing)}"
                )
        if isinstance(payload, p.DeliveryConfirmed) and payload.received_on > self.ctx.today():
            return f"received_on must not lie in the future ({self.ctx.today()})"
        if isinstance(payload, p.ShipDate) and payload.expected_ship < self.ctx.today():
            return f"expected_ship must not lie before today ({self.ctx.today()})"
        if isinstance(payload, p.Ship):
            return self._not_checked()
        return None

    def _not_checked(self) -> str | None:
        """Why `sales.ship` may not complete yet: its order's shipping check has not passed.
        (An order whose delivery began before the check existed has no check task: it ships
        as it did.)"""
        checks = [t for t in self.ctx.book.tasks.values() if t.kind == "sales.shipping_check"]
        if not checks or any(_passed(t) for t in checks):
            return None
        last = checks[-1]
        failed = next((t for t in reversed(checks) if t.payload is not None), None)
        if failed is None:
            return (
                f"{self.ctx.inp.order_no} cannot ship before its shipping check has passed: "
                f"complete sales.shipping_check {last.task_id} (delivery address and contact "
                "confirmed with the customer, packaging checked) first"
            )
        notes = ShippingCheck.parse(failed.payload).notes
        again = f"pass the new check {last.task_id}" if last.is_open else "pass a new check"
        return (
            f"{self.ctx.inp.order_no} cannot ship: its last shipping check failed ({notes}); "
            f"correct that and {again} first"
        )

    # -- P9 final inspection ------------------------------------------------------------------

    async def final_inspection(self) -> None:
        order = self.ctx
        submitted = await order.book.open(
            "production.submit_inspection",
            f"Submit {order.inp.order_no} for final inspection",
            {
                "work_order": order.state.materials.work_order,
                "missing_parts": order.state.production.missing_parts,
            },
        )
        await order.wait_tasks(submitted)
        request = p.SubmitInspection.parse(submitted.payload)
        workshop = order.state.production
        if workshop.documents_task is not None and not workshop.documents_recorded:
            # §8.4: quality inspects with the component certificates and manuals in hand.
            await order.until(
                lambda: workshop.documents_recorded,
                "final inspection held until the certificates and manuals are handed to quality",
            )
        missing = [m.model_dump() for m in request.missing_parts]
        while True:
            self.state.rounds += 1
            inspection = await order.book.open(
                "quality.final_inspection",
                f"Final inspection of {order.inp.order_no}, round {self.state.rounds}",
                {"round": self.state.rounds, "missing_parts": missing},
                **_due(order, "final_inspection"),
            )
            await order.wait_tasks(inspection)
            verdict = p.FinalInspection.parse(inspection.payload)
            defects = [
                {"id": f"D{self.state.rounds}-{n}", "description": d.description}
                for n, d in enumerate(verdict.defects, start=1)
            ]
            if self.state.first_pass is None:
                self.state.first_pass = verdict.passed
            await order.activity(
                FinalInspectionActivities.record_final_inspection,
                FinalInspectionRound(
                    order_no=order.inp.order_no,
                    round=self.state.rounds,
                    passed=verdict.passed,
                    defects=defects,
                    by=inspection.completed_by or "quality",
                    at=workflow.now(),
                ),
                f"final inspection round {self.state.rounds}: "
                + ("passed" if verdict.passed else f"{len(defects)} defect(s)"),
            )
            if verdict.passed:
                break
            self.state.defects = {d["id"]: d["description"] for d in defects}
            correction = await order.book.open(
                "production.correct_defects",
                f"Correct {len(defects)} defect(s) of {order.inp.order_no}",
                {"round": self.state.rounds, "defects": defects},
            )
            await order.wait_tasks(correction)
            self.state.defects = {}
        await order.record_actual("final_inspection")
        # §11.2: parts listed missing hold the product until fitted and signed, or until sales
        # has them ship separately; it enters finished goods (and may ship) after that.
        await self.missing_parts.run(missing)
        by = "quality"
        await order.activity(
            WarehouseActivities.finished_goods,
            FinishedGoods(order_no=order.inp.order_no, movement="in", by=by, at=workflow.now()),
            f"{order.inp.order_no} into finished goods",
        )
        await order.activity(
            ProductionActivities.work_order_step,
            WorkOrderStep(order_no=order.inp.order_no, state="closed", at=workflow.now()),
            f"close work order {order.state.materials.work_order}",
        )

    # -- P10 delivery and close -----------------------------------------------------------------

    async def deliver(self) -> None:
        """Ship, once checked; then the customer's receipt.

        What the plant checks before the goods leave (seed 七.3, P10.1), as one
        `sales.shipping_check` task in sales' inbox, opened with `sales.ship` and due with it:
        the delivery address, the consignee and a contact phone, re-confirmed with the
        customer (the order itself carries no address: the contract's may have changed since,
        and a wrong one is a lost truck), and the packaging fit for the transport (crate or
        pallet, moisture and shock protection, marks). It passes when both are confirmed; a
        failed check says why and another is opened once it is put right. `sales.ship` is
        refused (422, with the check's task id) until a check has passed; the confirmed address
        and contact go with the delivery-confirmation task.
        """
        order = self.ctx
        checked = workflow.patched(SHIPPING_CHECK)
        check = await self._open_check(1, "") if checked else None
        ship = await order.book.open(
            "sales.ship",
            f"Ship {order.inp.order_no} to {order.inp.customer}",
            {
                "due_date": str(order.state.due_date),
                "planned_ship": str(order.state.plan.milestones["ship"]),
            },
            **_due(order, "ship"),
        )
        address: dict[str, Any] = {}
        if check is not None:
            address = await self._until_checked(check)
        await order.wait_tasks(ship)
        asked = order.book.get(self.state.ship_date_task)
        if asked is not None:
            await order.book.withdraw(asked)
        shipment = p.Ship.parse(ship.payload)
        await order.record_actual("ship")
        await order.activity(
            WarehouseActivities.finished_goods,
            FinishedGoods(
                order_no=order.inp.order_no,
                movement="out",
                by=ship.completed_by or "sales",
                at=workflow.now(),
                ref=f"{shipment.carrier} {shipment.tracking_no}",
            ),
            f"{order.inp.order_no} shipped by {shipment.mode} with {shipment.carrier}",
        )
        received = await order.book.open(
            "sales.delivery_confirmed",
            f"Confirm {order.inp.customer} received {order.inp.order_no}",
            {"carrier": shipment.carrier, "tracking_no": shipment.tracking_no, **address},
        )
        await order.wait_tasks(received)

    async def _open_check(self, attempt: int, previous_notes: str) -> TaskState:
        """Open the shipping check (it is due with the shipment: it comes before it)."""
        order = self.ctx
        context: dict[str, Any] = {"attempt": attempt, "customer": order.inp.customer}
        if previous_notes:
            context["previous_notes"] = previous_notes
        return await order.book.open(
            "sales.shipping_check",
            f"Check {order.inp.order_no} before shipping: delivery address with "
            f"{order.inp.customer}, packaging" + (f" (attempt {attempt})" if attempt > 1 else ""),
            context,
            **_due(order, "ship"),
        )

    async def _until_checked(self, check: TaskState) -> dict[str, Any]:
        """Shipping checks until one passes (each failed one says why and is done again once
        corrected); `sales.ship` is refused until then. Returns the address the passed check
        confirmed, for the delivery's confirmation."""
        order, attempt = self.ctx, 1
        while True:
            await order.wait_tasks(check)
            answer = ShippingCheck.parse(check.payload)
            await order.event(
                "shipping_check",
                check.completed_by or "sales",
                f"shipping check {attempt} of {order.inp.order_no}: "
                + ("passed" if answer.passed else f"failed: {answer.notes}"),
                answer.model_dump(mode="json"),
            )
            if answer.passed:
                return {
                    "delivery_address": answer.delivery_address,
                    "consignee": answer.consignee,
                    "contact_phone": answer.contact_phone,
                }
            attempt += 1
            check = await self._open_check(attempt, answer.notes)

    async def commission(self) -> None:
        """Installation, training and power-on check, until the unit runs (aftersales)."""
        order, attempt, notes = self.ctx, 0, ""
        while True:
            attempt += 1
            context: dict[str, Any] = {"attempt": attempt}
            if notes:
                context["previous_notes"] = notes
            task = await order.book.open(
                "aftersales.commissioning",
                f"Commission {order.inp.order_no} at {order.inp.customer}"
                + (f" (attempt {attempt})" if attempt > 1 else ""),
                context,
            )
            await order.wait_tasks(task)
            answer = p.Commissioning.parse(task.payload)
            if answer.installed and answer.trained and answer.power_on_ok:
                return
            notes = answer.notes

    async def settle(self) -> None:
        order = self.ctx
        settlement = await order.book.open(
            "sales.settlement",
            f"Settle {order.inp.order_no}: invoice and payment",
            {"amount": str(order.inp.amount), "currency": order.inp.currency},
        )
        await order.wait_tasks(settlement)
        # What was paid against what is due: a short payment is collected before evaluation.
        await self.money.settle(settlement)
        evaluation = await order.book.open(
            "sales.evaluation",
            f"Evaluate {order.inp.order_no} with {order.inp.customer}",
            {"first_pass_yield": self.state.first_pass, "inspection_rounds": self.state.rounds},
        )
        await order.wait_tasks(evaluation)

    # -- §2.6 the weekly unshipped list -------------------------------------------------------

    def ship_date_due(self) -> None:
        """The weekly run asks for an expected ship date of a stocked, unshipped order."""
        order = self.ctx
        if order.state.stage != "delivery" or "ship" in order.state.actuals:
            return
        asked = order.book.get(self.state.ship_date_task)
        if asked is not None and asked.is_open:
            return
        order.branch(self._ask_ship_date())

    async def _ask_ship_date(self) -> None:
        order = self.ctx
        task = await order.book.open(
            "sales.ship_date",
            f"Expected ship date of {order.inp.order_no} (in finished goods)",
            {"planned_ship": str(order.state.plan.milestones.get("ship"))},
        )
        self.state.ship_date_task = task.task_id
        await order.until(lambda: not task.is_open, "waiting for sales.ship_date")
        if task.payload is None:  # withdrawn: it shipped
            return
        answer = p.ShipDate.parse(task.payload)
        forecast = order.state.plan.forecast.get("ship")
        if forecast is None or answer.expected_ship != forecast:
            await order.reforecast("ship", answer.expected_ship)


def _passed(task: TaskState) -> bool:
    return task.payload is not None and ShippingCheck.parse(task.payload).passed


def _due(order: OrderContext, milestone: str) -> dict[str, Any]:
    """A task due at a plan date: the end of that working day, if still ahead (else its
    kind's SLA); `TaskBook.open`'s keyword arguments."""
    day = order.state.plan.milestones.get(milestone)
    if day is None or end_of_day(day) <= workflow.now():
        return {}
    return due_by(day)
