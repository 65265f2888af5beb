"""P9 final inspection and P10 delivery to close.

* Final inspection (§11): production submits the product (with any missing parts); quality
  inspects (once the component certificates and manuals are handed to quality, §8.4);
  defects go back to production, each corrected and signed by the team leader, and
  quality inspects again, as many rounds as it takes (round 1 is the first-pass yield). The
  passed product enters finished goods and the work order closes.
* Delivery and close: shipment and transport, the customer's receipt, commissioning
  (installation, training, power-on check; repeated until the unit runs), settlement,
  evaluation; then the order is `closed` with its whole history kept.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from services.production.activities import ProductionActivities
    from services.quality.activities import QualityActivities
    from services.warehouse.activities import WarehouseActivities
    from shared import payloads as p
    from shared.production_types import FinalInspectionRound, FinishedGoods, WorkOrderStep
    from workflows.clocks import due_by
    from workflows.common import end_of_day

if TYPE_CHECKING:
    from shared.order_state import ClosingState
    from workflows.context import OrderContext


class ClosingPhase:
    """P9-P10 on the order's `ClosingState`."""

    def __init__(self, state: ClosingState, ctx: OrderContext) -> None:
        self.state, self.ctx = state, ctx

    def rule_violation(self, payload: p.Payload) -> str | None:
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
        return None

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
                QualityActivities.record_final_inspection,
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
        order = self.ctx
        ship = await order.book.open(
            "sales.ship",
            f"Ship {order.inp.order_no} to {order.inp.customer}",
            {
                "due_date": str(order.state.due_date),
                "planned_ship": str(order.state.plan.milestones["ship"]),
            },
            **_due(order, "ship"),
        )
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
            {"carrier": shipment.carrier, "tracking_no": shipment.tracking_no},
        )
        await order.wait_tasks(received)

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


def _due(order: OrderContext, milestone: str) -> dict[str, Any]:
    """A task due at a plan date: the end of that working day, if still ahead (else its
    kind's SLA); `TaskBook.open`'s keyword arguments."""
    day = order.state.plan.milestones.get(milestone)
    if day is None or end_of_day(day) <= workflow.now():
        return {}
    return due_by(day)
