"""Material requirements planning (PROCESS P4.1, P3.4): a pure, deterministic calculation.

No I/O, no database, no Temporal: activities read the BOM, supply and safety stock, call
`plan` (or `delta` after a design change) and write what it proposes. Keeping the arithmetic
here means the rules that decide how much the factory buys and builds are tested on their own,
by example and by property, and the activities only move data.

Rules, and why:

* Quantities are `Decimal` and every calculation runs in an exact context (`Inexact` is
  trapped) so a quantity is never silently rounded: a requisition that is off by a rounding
  error is a shortage on the shop floor or money spent on stock nobody asked for.
* Items are planned level by level (low-level code: an item is planned only after every item
  that uses it), and an item's *net* requirement — not its gross — drives its children: if an
  assembly is in stock, its components are not needed for that quantity.
* net = order shortage + safety-stock top-up, where
  order shortage = max(0, requirement - free stock - open PO - open WO) and
  safety top-up = max(0, safety stock - what would be left after the order).
  Their sum is max(0, requirement - supply + safety stock), PROCESS P4.1's formula, but buy
  items propose the two parts as separate requisitions because they are approved by different
  people (P4.3: safety-stock requisitions go to the department head).
* Every proposal's key is a function of (order no., BOM revision, item, reason) only, so
  re-running MRP for the same order and revision proposes the same keys and callers insert with
  ON CONFLICT DO NOTHING: nothing is created twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from decimal import (
    Context,
    Decimal,
    DivisionByZero,
    Inexact,
    InvalidOperation,
    Overflow,
    localcontext,
)

from services.procurement.mrp.collector import young_collections_only
from services.procurement.mrp.keys import ProposalKeys
from services.procurement.mrp.schemas import (
    ZERO,
    BomItem,
    MrpDelta,
    MrpLine,
    MrpResult,
    Reason,
    RequisitionProposal,
    Supply,
    WorkOrderProposal,
)
from services.procurement.mrp.structure import line_of, lines_of, structure

# Precision of the exact context. Quantities multiply down the BOM levels, so digits add up;
# 100 significant digits is far beyond any real BOM, and if it were ever exceeded `Inexact`
# is raised instead of a rounded quantity being proposed.
_PRECISION = 100

# The context every calculation runs in: a fixed one rather than the caller's, so results do not
# depend on whatever precision a caller set, with rounding (`Inexact`) trapped as an error.
_EXACT = Context(prec=_PRECISION, traps=[InvalidOperation, DivisionByZero, Overflow, Inexact])


def _check_quantity(name: str, value: Decimal) -> None:
    """Refuse quantities that would make the arithmetic meaningless (NaN, infinite, negative)."""
    if not isinstance(value, Decimal) or not value.is_finite() or value < 0:
        raise ValueError(f"{name} must be a finite, non-negative Decimal, got {value!r}")


def _lines(bom: Iterable[BomItem]) -> Sequence[BomItem]:
    """The BOM's lines as a sequence; a list or tuple is read as it is (copying a 100,000-line
    list touches, and then releases, every line once more)."""
    return bom if isinstance(bom, list | tuple) else list(bom)


def _order_qty(order_qty: Decimal | int) -> Decimal:
    """Accept an int for convenience, but keep the arithmetic in Decimal."""
    qty = Decimal(order_qty) if isinstance(order_qty, int) else order_qty
    _check_quantity("order_qty", qty)
    return qty


# --------------------------------------------------------------------------------------------
# Public API


def explode(bom: Iterable[BomItem], order_qty: Decimal | int) -> dict[str, Decimal]:
    """Gross requirement per item over all levels: BOM x order quantity, before any netting.

    A child's gross is its parent's gross x qty_per, summed over every line it appears on, so a
    component shared by two assemblies is counted for both. Raises ValueError on a cycle or an
    unknown parent rather than looping.
    """
    bom_structure = structure(_lines(bom))
    with localcontext(_EXACT):
        bom_structure.root.gross = _order_qty(order_qty)
        for node in bom_structure.order:
            gross = ZERO
            for above, qty_per in lines_of(node):
                gross += above.gross * qty_per
            node.gross = gross
    return {line_of(node).item: node.gross for node in bom_structure.order}


def plan(
    order_no: str,
    bom_revision: str | int,
    bom: Iterable[BomItem],
    order_qty: Decimal | int,
    supply: Mapping[str, Supply],
    safety_stock: Mapping[str, Decimal] | None = None,
) -> MrpResult:
    """Net the exploded BOM against supply level by level and propose what to make and buy.

    `supply` and `safety_stock` are per item; a missing item has none. Each item's requirement
    comes from its parents' *net* quantities (top-level lines: order_qty x qty_per), so stock
    of an assembly spares its components. Free stock up to the requirement is reserved for the
    order. Make items with a net requirement become one work order; buy items become a
    requisition for the order shortage and one for the safety-stock top-up, which together
    cover the net requirement exactly.
    """
    with young_collections_only():
        return _plan(order_no, bom_revision, bom, order_qty, supply, safety_stock)


def _plan(
    order_no: str,
    bom_revision: str | int,
    bom: Iterable[BomItem],
    order_qty: Decimal | int,
    supply: Mapping[str, Supply],
    safety_stock: Mapping[str, Decimal] | None,
) -> MrpResult:
    bom_structure = structure(_lines(bom))
    safety = dict(safety_stock or {})
    qty = _order_qty(order_qty)
    for item, s in supply.items():
        _check_quantity(f"{item}: free_stock", s.free_stock)
        _check_quantity(f"{item}: open_po", s.open_po)
        _check_quantity(f"{item}: open_wo", s.open_wo)
    for item, ss in safety.items():
        _check_quantity(f"{item}: safety_stock", ss)
    revision = str(bom_revision)
    keys = ProposalKeys(order_no, revision)
    no_supply = Supply()

    # One top-down pass in planning order: when an item is reached every parent has been
    # planned, so its gross and requirement are summed over its lines from its parents' gross
    # and net quantities, it is netted and its proposals made in one step; O(lines).
    mrp_lines: dict[str, MrpLine] = {}
    reserved: dict[str, Decimal] = {}
    work_orders: list[WorkOrderProposal] = []
    requisitions: list[RequisitionProposal] = []
    with localcontext(_EXACT):
        root = bom_structure.root
        root.gross = root.driving = qty
        for node in bom_structure.order:
            item_info, above = node.line, node.above
            assert item_info is not None and above is not None  # structure() refused unknowns
            item = item_info.item
            # The item's first line, then any further lines (a component of several parents).
            qty_per = item_info.qty_per
            item_gross = ZERO + above.gross * qty_per
            requirement = ZERO + above.driving * qty_per
            if node.more is not None:
                for above, qty_per in node.more:
                    item_gross += above.gross * qty_per
                    requirement += above.driving * qty_per
            s = supply.get(item, no_supply)
            ss = safety.get(item, ZERO)
            if s is no_supply:
                # Nothing available: the shortage is the requirement itself (the same Decimal
                # `requirement - 0` would give: a sum starting at ZERO has no positive exponent)
                # and nothing is left after the order; nothing to reserve.
                order_shortage = requirement if requirement > 0 else ZERO
                topup = max(ZERO, ss - ZERO)
                reserve = ZERO
            else:
                available = s.free_stock + s.open_po + s.open_wo
                order_shortage = max(ZERO, requirement - available)
                left_after_order = max(ZERO, available - requirement)
                topup = max(ZERO, ss - left_after_order)
                reserve = min(s.free_stock, requirement)
                if reserve > 0:
                    reserved[item] = reserve
            mrp_lines[item] = MrpLine(
                item=item,
                make_or_buy=item_info.make_or_buy,
                supplier=item_info.supplier,
                lead_days=item_info.lead_days,
                special=item_info.special,
                level=node.level,
                gross=item_gross,
                requirement=requirement,
                free_stock=s.free_stock,
                open_po=s.open_po,
                open_wo=s.open_wo,
                safety_stock=ss,
                reserve=reserve,
                order_shortage=order_shortage,
                safety_topup=topup,
            )
            node.gross = item_gross
            # Shortage plus top-up; with no top-up (max() gave ZERO itself) the shortage is
            # already that sum, exponent included (it has no positive exponent either).
            node.driving = driving = order_shortage if topup is ZERO else order_shortage + topup
            if item_info.make_or_buy == "make":
                if driving > 0:
                    work_orders.append(
                        WorkOrderProposal(key=keys.key(item), item=item, qty=driving)
                    )
                continue
            if order_shortage > 0:
                requisitions.append(_requisition(keys, item, item_info, order_shortage, "order"))
            if topup > 0:
                requisitions.append(_requisition(keys, item, item_info, topup, "safety_stock"))

    return MrpResult(
        order_no=order_no,
        bom_revision=revision,
        order_qty=qty,
        lines=mrp_lines,
        reserve=reserved,
        work_orders=tuple(work_orders),
        requisitions=tuple(requisitions),
    )


def delta(old_result: MrpResult, new_result: MrpResult) -> MrpDelta:
    """What a design change (DCN, P3.4) adds and frees, per item.

    Compares what the order itself consumes of each item (`requirement`, after assembly
    netting, without safety stock): the old run's reservations, open supply and proposals
    covered exactly the old requirement, so more is `extra` — proposed as work orders (make)
    or engineering-change requisitions (buy) keyed for the new revision — and less is
    `surplus`, to return to stock (§7.3.1). Safety stock is left to the daily run (P4.2),
    which sees the returned surplus. The extra is not netted against free stock again: the
    caller may reserve free stock for it before placing the requisition.
    """
    if old_result.order_no != new_result.order_no:
        raise ValueError(
            f"delta needs two runs of one order, got {old_result.order_no} "
            f"and {new_result.order_no}"
        )
    old_req = old_result.requirement
    new_req = new_result.requirement
    extra: dict[str, Decimal] = {}
    surplus: dict[str, Decimal] = {}
    with localcontext(_EXACT):
        for item in sorted(set(old_req) | set(new_req)):
            diff = new_req.get(item, ZERO) - old_req.get(item, ZERO)
            if diff > 0:
                extra[item] = diff
            elif diff < 0:
                surplus[item] = -diff

    work_orders: list[WorkOrderProposal] = []
    requisitions: list[RequisitionProposal] = []
    revision = new_result.bom_revision
    keys = ProposalKeys(new_result.order_no, revision)
    for item in (i for i in new_result.lines if i in extra):
        line = new_result.lines[item]
        if line.make_or_buy == "make":
            work_orders.append(WorkOrderProposal(key=keys.key(item), item=item, qty=extra[item]))
        else:
            requisitions.append(
                _requisition(
                    keys,
                    item,
                    line,
                    extra[item],
                    "order",
                    engineering_change=True,
                )
            )
    return MrpDelta(
        order_no=new_result.order_no,
        old_revision=old_result.bom_revision,
        new_revision=revision,
        extra=extra,
        surplus=surplus,
        work_orders=tuple(work_orders),
        requisitions=tuple(requisitions),
    )


# --------------------------------------------------------------------------------------------
# Helpers


def _requisition(
    keys: ProposalKeys,
    item: str,
    info: BomItem | MrpLine,
    qty: Decimal,
    reason: Reason,
    *,
    engineering_change: bool = False,
) -> RequisitionProposal:
    """Build a requisition carrying the item's supplier data, keyed per reason."""
    return RequisitionProposal(
        key=keys.key(item, reason),
        item=item,
        qty=qty,
        supplier=info.supplier,
        lead_days=info.lead_days,
        special=info.special,
        reason=reason,
        engineering_change=engineering_change,
    )
