"""Parts listed missing at final inspection (§11.2), between the pass and finished goods.

Production may submit the product with parts missing. Once quality passes it, each listed part
is a chased shortage: the buyer chases it (`procurement.chase_supply`; an expected date after
the ship forecast moves that forecast). The order does not go on to finished goods and the
shipment until every listed part is either fitted and signed — the team leader's record of the
fitting (`production.fit_missing_parts`, as many rounds as it takes) signed by quality
(`quality.sign_fitted_parts`) — or sales has recorded that it ships separately
(`sales.missing_parts_shipment`, asked once). A fitted part's open chase is withdrawn (it
came); the chase of a part shipping separately stays with the buyer, and the order does not
close while it is open.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from shared import payloads as p
    from shared import payloads_final as pf
    from workflows.tasks import TaskState

if TYPE_CHECKING:
    from shared.order_state import MissingPartsState
    from workflows.context import OrderContext

# The patch behind which a pass with missing parts waits for them (orders that passed before
# it went straight on to finished goods).
MISSING_PARTS_GATE = "final-missing-parts"


class MissingPartsGate:
    """§11.2 on the order's `MissingPartsState`."""

    def __init__(self, state: MissingPartsState, ctx: OrderContext) -> None:
        self.state, self.ctx = state, ctx

    def rule_violation(self, payload: p.Payload) -> str | None:
        """Only outstanding parts are fitted or shipped separately, each named once."""
        if isinstance(payload, pf.FitMissingParts):
            items = [part.item for part in payload.parts]
        elif isinstance(payload, pf.MissingPartsShipment):
            items = list(payload.ship_separately)
        else:
            return None
        repeated = sorted({item for item in items if items.count(item) > 1})
        if repeated:
            return f"name each part once; repeated: {', '.join(repeated)}"
        open_ = [i for i in self.state.outstanding() if i not in self.state.signing]
        unknown = sorted(set(items) - set(open_))
        if unknown:
            return f"not an outstanding missing part: {', '.join(unknown)}; outstanding: " + (
                ", ".join(open_) or "none"
            )
        return None

    async def run(self, missing: list[dict[str, Any]]) -> None:
        """Chase each missing part, then wait until each is fitted and signed or ships
        separately. Nothing is listed: nothing to do."""
        if not missing or not workflow.patched(MISSING_PARTS_GATE):
            return
        order, no = self.ctx, self.ctx.inp.order_no
        self.state.listed = {str(m["item"]): _qty(m["qty"]) for m in missing}
        await order.event(
            "missing_parts",
            "quality",
            f"{no} passed final inspection with {len(missing)} part(s) missing: "
            + _text(self.state.listed),
            {"parts": self.state.listed},
        )
        for item, qty in self.state.listed.items():
            chase = await order.book.open(
                "procurement.chase_supply",
                f"Chase {qty} {item} missing at final inspection of {no}",
                {"item": item, "missing": qty, "found_in": "final_inspection"},
            )
            self.state.chases[item] = chase.task_id
            order.branch(self._chase(item, chase))
        asked = await order.book.open(
            "sales.missing_parts_shipment",
            f"{no} passed final inspection without {_text(self.state.listed)}: "
            "ship any separately?",
            {"missing_parts": self.state.listed},
        )
        order.branch(self._sales_decides(asked))
        while self.state.outstanding():
            await self._fit_round()
        await order.book.withdraw(asked)

    async def _fit_round(self) -> None:
        """One fitting of outstanding parts and quality's signature; a task left unanswered
        when sales ships the rest separately is withdrawn."""
        order, no = self.ctx, self.ctx.inp.order_no
        parts = {i: self.state.listed[i] for i in self.state.outstanding()}
        fit = await order.book.open(
            "production.fit_missing_parts",
            f"Fit {_text(parts)} on {no}; the team leader signs each",
            {"missing_parts": parts},
        )
        await order.until(
            lambda: not fit.is_open or not self.state.outstanding(),
            "waiting for production.fit_missing_parts or sales.missing_parts_shipment",
        )
        if fit.is_open or fit.payload is None:
            await order.book.withdraw(fit)
            return
        # A part sales has had ship separately meanwhile is not signed for here.
        outstanding = self.state.outstanding()
        fitted = [
            part for part in pf.FitMissingParts.parse(fit.payload).parts if part.item in outstanding
        ]
        if not fitted:
            return
        self.state.signing = [part.item for part in fitted]
        sign = await order.book.open(
            "quality.sign_fitted_parts",
            f"Check and sign the parts fitted on {no}: {', '.join(self.state.signing)}",
            {"parts": [part.model_dump() for part in fitted]},
        )
        await order.wait_tasks(sign)
        verdict = pf.SignFittedParts.parse(sign.payload)
        signed, self.state.signing = self.state.signing, []
        by = sign.completed_by or "quality"
        if not verdict.signed:
            await order.event(
                "missing_parts_refused",
                by,
                f"fitted parts of {no} not signed: {verdict.comment}",
                {"parts": signed, "comment": verdict.comment},
            )
            return
        self.state.fitted.extend(signed)
        await order.event(
            "missing_parts_fitted",
            by,
            f"missing parts fitted and signed on {no}: {', '.join(signed)}",
            {"parts": signed, "fitted_by": {p.item: p.signed_by for p in fitted}},
        )
        for item in signed:
            chase = order.book.get(self.state.chases.get(item))
            if chase is not None:
                await order.book.withdraw(chase)

    async def _sales_decides(self, task: TaskState) -> None:
        """Sales names the parts that ship separately: they no longer hold the shipment."""
        order = self.ctx
        await order.until(lambda: not task.is_open, f"waiting for {task.kind}")
        if task.payload is None:  # withdrawn: every part was fitted first
            return
        answer = pf.MissingPartsShipment.parse(task.payload)
        parts = [i for i in answer.ship_separately if i in self.state.outstanding()]
        if not parts:
            return
        self.state.separate.extend(parts)
        await order.event(
            "missing_parts_separate",
            task.completed_by or "sales",
            f"{order.inp.order_no} ships without {', '.join(parts)}; they ship separately"
            + (f": {answer.comment}" if answer.comment else ""),
            {"parts": parts, "comment": answer.comment},
        )

    async def _chase(self, item: str, task: TaskState) -> None:
        """The buyer's expected date moves the ship forecast while the part holds the order."""
        order = self.ctx
        await order.until(lambda: not task.is_open, f"waiting for {task.kind}")
        if task.payload is None or item not in self.state.outstanding():
            return
        expected = p.ChaseSupply.parse(task.payload).expected_date
        ship = order.state.plan.forecast.get("ship")
        if ship is not None and expected > ship:
            await order.reforecast("ship", expected)


def _qty(value: Any) -> str:
    """A quantity as people write it: 2, not 2.0."""
    return format(Decimal(str(value)).normalize(), "f")


def _text(parts: dict[str, str]) -> str:
    return ", ".join(f"{qty} {item}" for item, qty in parts.items())
