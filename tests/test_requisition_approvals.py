"""Who approves a requisition (§4.4-4.5), and that no order's path takes the stock approval:
safety stock is the daily run's (its requisitions belong to no order, tests/
test_daily_mrp_safety_stock.py walks their `procurement.stock_approval`), an order's MRP nets
no safety stock, so an order's requisition goes to the division when special and to nobody
otherwise."""

from __future__ import annotations

import itertools
from decimal import Decimal
from pathlib import Path

from shared.types import RequisitionSummary
from workflows.requisition import approval_kind

WORKFLOWS = Path(__file__).resolve().parent.parent / "workflows"


def _requisition(*, special: bool, reason: str) -> RequisitionSummary:
    return RequisitionSummary(
        key="k", item="BOLT", qty=Decimal(1), supplier=None, special=special, reason=reason
    )


def test_an_orders_requisition_never_goes_to_the_stock_approval() -> None:
    for special, reason in itertools.product((False, True), ("order", "safety_stock")):
        requisition = _requisition(special=special, reason=reason)
        expected = "procurement.special_approval" if special else None
        assert approval_kind(requisition, "SO-1") == expected, (special, reason)
        # Bought for no order: safety stock, approved by the procurement head, special or not.
        assert approval_kind(requisition, None) == "procurement.stock_approval"


def test_only_the_approval_of_stock_bought_for_no_order_names_the_stock_approval() -> None:
    naming = {
        path.name: path.read_text().count('"procurement.stock_approval"')
        for path in WORKFLOWS.glob("*.py")
    }
    assert {name: n for name, n in naming.items() if n} == {"requisition.py": 1}
    source = (WORKFLOWS / "requisition.py").read_text()
    body = source[source.index("def approval_kind") : source.index("class Buying")]
    assert 'if order_no is None:\n        return "procurement.stock_approval"' in body
