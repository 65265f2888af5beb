"""The inputs and outputs of MRP (`services/procurement/mrp.py`): plain, frozen data."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

MakeOrBuy = Literal["make", "buy"]
Reason = Literal["order", "safety_stock"]

ZERO = Decimal(0)


# --------------------------------------------------------------------------------------------
# Inputs


@dataclass(frozen=True, slots=True)
class BomItem:
    """One BOM line: `qty_per` of `item` goes into one `parent` (None: into the ordered product).

    An item may appear on several lines (a shared component under two parents); its own
    attributes (make/buy, lead days, supplier, special) must then agree, because MRP proposes
    one work order or one requisition per item and cannot buy it from two suppliers at once.
    """

    item: str
    parent: str | None
    qty_per: Decimal
    make_or_buy: MakeOrBuy
    lead_days: int | None = None
    supplier: str | None = None
    special: bool = False


@dataclass(frozen=True, slots=True)
class Supply:
    """What is available for this order of one item: quantities not yet reserved for others.

    Free stock can be reserved for the order now; open purchase and work orders are counted on
    (they will arrive) but reserved only on receipt, so MRP does not reserve them.
    """

    free_stock: Decimal = ZERO
    open_po: Decimal = ZERO
    open_wo: Decimal = ZERO

    @property
    def total(self) -> Decimal:
        """Everything that counts against the requirement."""
        return self.free_stock + self.open_po + self.open_wo


# --------------------------------------------------------------------------------------------
# Outputs


@dataclass(frozen=True, slots=True)
class WorkOrderProposal:
    """A semi-finished work order for a make item (P4.1), keyed for idempotent insertion."""

    key: str
    item: str
    qty: Decimal


@dataclass(frozen=True, slots=True)
class RequisitionProposal:
    """A purchase requisition for a buy item (P4.1), keyed for idempotent insertion.

    `reason` and `special` route the approval (P4.3): special items go to the division leader,
    safety-stock requisitions to the department head. `engineering_change` marks requisitions
    proposed by `delta` after a design change, which also need the division leader (§4.4).
    """

    key: str
    item: str
    qty: Decimal
    supplier: str | None
    lead_days: int | None
    special: bool
    reason: Reason
    engineering_change: bool = False


@dataclass(frozen=True, slots=True)
class MrpLine:
    """How one item's net requirement came about, kept so a planner can see the arithmetic.

    `gross` is the plain explosion (BOM x order quantity); `requirement` is what the order needs
    after assemblies above it were netted against their own supply, and is what is netted here.
    """

    item: str
    make_or_buy: MakeOrBuy
    supplier: str | None
    lead_days: int | None
    special: bool
    level: int
    gross: Decimal
    requirement: Decimal
    free_stock: Decimal
    open_po: Decimal
    open_wo: Decimal
    safety_stock: Decimal
    reserve: Decimal
    order_shortage: Decimal
    safety_topup: Decimal

    @property
    def net(self) -> Decimal:
        """Quantity to make or buy: the order shortage plus the safety-stock top-up."""
        return self.order_shortage + self.safety_topup


@dataclass(frozen=True, slots=True)
class MrpResult:
    """Everything one MRP run for one order and BOM revision decided."""

    order_no: str
    bom_revision: str
    order_qty: Decimal
    lines: dict[str, MrpLine]
    reserve: dict[str, Decimal]
    work_orders: tuple[WorkOrderProposal, ...]
    requisitions: tuple[RequisitionProposal, ...]

    @property
    def net(self) -> dict[str, Decimal]:
        """Net requirement per item (zero for items fully covered)."""
        return {item: line.net for item, line in self.lines.items()}

    @property
    def requirement(self) -> dict[str, Decimal]:
        """What the order itself consumes of each item, after assembly netting."""
        return {item: line.requirement for item, line in self.lines.items()}


@dataclass(frozen=True, slots=True)
class MrpDelta:
    """What a design change means for material: extra to provide, surplus to return (§7.3.1).

    `extra` and `surplus` are per item and only hold positive quantities; `work_orders` and
    `requisitions` cover `extra` for make and buy items, keyed like `plan`'s proposals for the
    new revision so the two never both get inserted.
    """

    order_no: str
    old_revision: str
    new_revision: str
    extra: dict[str, Decimal] = field(default_factory=dict)
    surplus: dict[str, Decimal] = field(default_factory=dict)
    work_orders: tuple[WorkOrderProposal, ...] = ()
    requisitions: tuple[RequisitionProposal, ...] = ()
