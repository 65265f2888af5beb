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

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import (
    Context,
    Decimal,
    DivisionByZero,
    Inexact,
    InvalidOperation,
    Overflow,
    localcontext,
)

from services.procurement.mrp.collector import no_cycle_collection
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

# Precision of the exact context. Quantities multiply down the BOM levels, so digits add up;
# 100 significant digits is far beyond any real BOM, and if it were ever exceeded `Inexact`
# is raised instead of a rounded quantity being proposed.
_PRECISION = 100

# The context every calculation runs in: a fixed one rather than the caller's, so results do not
# depend on whatever precision a caller set, with rounding (`Inexact`) trapped as an error.
_EXACT = Context(prec=_PRECISION, traps=[InvalidOperation, DivisionByZero, Overflow, Inexact])


# --------------------------------------------------------------------------------------------
# BOM structure


@dataclass(frozen=True, slots=True)
class _Structure:
    """A validated BOM: each item's first line (its attributes: make/buy, lead days, supplier,
    special, the same on every line), lines by parent, items in planning order."""

    info: dict[str, BomItem]
    children: dict[str | None, list[BomItem]]
    levels: dict[str, int]
    order: list[str]


def _check_quantity(name: str, value: Decimal) -> None:
    """Refuse quantities that would make the arithmetic meaningless (NaN, infinite, negative)."""
    if not isinstance(value, Decimal) or not value.is_finite() or value < 0:
        raise ValueError(f"{name} must be a finite, non-negative Decimal, got {value!r}")


def _structure(bom: Iterable[BomItem]) -> _Structure:
    """Validate the BOM and order its items so every item comes after all of its parents.

    Raises ValueError for an empty BOM, a non-positive quantity per, an unknown parent, an
    item whose attributes differ between lines, or a cycle. Engineering refuses these at
    release already; MRP checks again because it must never loop or propose nonsense.
    """
    lines = list(bom)
    if not lines:
        raise ValueError("BOM has no lines")
    info: dict[str, BomItem] = {}
    children: dict[str | None, list[BomItem]] = defaultdict(list)
    # How many lines name each item as a component under a parent: the item is ready to be
    # planned once all of those parents have been.
    pending: dict[str, int] = {}
    for line in lines:
        item, qty_per = line.item, line.qty_per
        if not isinstance(qty_per, Decimal) or not qty_per.is_finite():
            raise ValueError(f"{item}: qty_per must be a finite Decimal")
        if qty_per <= 0:
            raise ValueError(f"{item}: qty_per must be positive, got {qty_per}")
        if line.make_or_buy not in ("make", "buy"):
            raise ValueError(f"{item}: make_or_buy must be 'make' or 'buy'")
        known = info.get(item)
        if known is None:
            info[item] = line
            pending[item] = 0
        elif (known.make_or_buy, known.lead_days, known.supplier, known.special) != (
            line.make_or_buy,
            line.lead_days,
            line.supplier,
            line.special,
        ):
            raise ValueError(f"{item}: make/buy, lead days, supplier or special differ")
        children[line.parent].append(line)
        if line.parent is not None:
            pending[item] += 1

    unknown = sorted({p for p in children if p is not None and p not in info})
    if unknown:
        raise ValueError(f"unknown parent(s): {', '.join(unknown)}")

    # Kahn's algorithm on the item graph (parent -> item), O(lines): each line is followed
    # once, when its parent is planned. An item's level (low-level code) is one below its
    # deepest parent, and final when the item is taken (all its parents came before), so the
    # order items are taken in does not matter: the final sort by (level, item) decides the
    # planning order. (A list re-sorted for every ready item made a 10,000-line BOM quadratic.)
    levels: dict[str, int] = dict.fromkeys(info, 0)
    ready = [item for item, n in pending.items() if n == 0]
    taken = 0
    while ready:
        item = ready.pop()
        taken += 1
        below = levels[item] + 1
        for line in children.get(item, ()):
            child = line.item
            if levels[child] < below:
                levels[child] = below
            left = pending[child] - 1
            pending[child] = left
            if left == 0:
                ready.append(child)
    if taken != len(info):
        stuck = sorted(item for item, n in pending.items() if n > 0)
        raise ValueError(f"BOM has a cycle through: {', '.join(stuck)}")
    # Planning order: by level, then by item (buckets per level, no key tuple per item).
    by_level: list[list[str]] = []
    for item, level in levels.items():
        while len(by_level) <= level:
            by_level.append([])
        by_level[level].append(item)
    order = [item for bucket in by_level for item in sorted(bucket)]
    return _Structure(info=info, children=dict(children), levels=levels, order=order)


def _order_qty(order_qty: Decimal | int) -> Decimal:
    """Accept an int for convenience, but keep the arithmetic in Decimal."""
    qty = Decimal(order_qty) if isinstance(order_qty, int) else order_qty
    _check_quantity("order_qty", qty)
    return qty


def _propagate(
    structure: _Structure,
    order_qty: Decimal,
    on_item: Callable[[str, Decimal], Decimal] | None = None,
) -> dict[str, Decimal]:
    """Walk the BOM top-down, accumulating each item's requirement from its parents.

    Without `on_item` a parent passes its whole requirement down (the gross explosion); with
    it, the callback nets the item and returns the quantity that drives its children.
    """
    req: dict[str, Decimal] = {item: ZERO for item in structure.order}
    for line in structure.children.get(None, []):
        req[line.item] += order_qty * line.qty_per
    for item in structure.order:
        driving = req[item] if on_item is None else on_item(item, req[item])
        for line in structure.children.get(item, []):
            req[line.item] += driving * line.qty_per
    return req


# --------------------------------------------------------------------------------------------
# Public API


def explode(bom: Iterable[BomItem], order_qty: Decimal | int) -> dict[str, Decimal]:
    """Gross requirement per item over all levels: BOM x order quantity, before any netting.

    A child's gross is its parent's gross x qty_per, summed over every line it appears on, so a
    component shared by two assemblies is counted for both. Raises ValueError on a cycle or an
    unknown parent rather than looping.
    """
    structure = _structure(bom)
    with localcontext(_EXACT):
        return _propagate(structure, _order_qty(order_qty))


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
    with no_cycle_collection():
        return _plan(order_no, bom_revision, bom, order_qty, supply, safety_stock)


def _plan(
    order_no: str,
    bom_revision: str | int,
    bom: Iterable[BomItem],
    order_qty: Decimal | int,
    supply: Mapping[str, Supply],
    safety_stock: Mapping[str, Decimal] | None,
) -> MrpResult:
    structure = _structure(bom)
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
    info, children, levels = structure.info, structure.children, structure.levels
    no_supply = Supply()

    # One top-down pass in planning order: an item's gross and requirement are complete when
    # it is reached (every parent came before), so it is netted, its proposals made and its
    # gross and net passed to its children in one step; dictionaries only, O(lines).
    mrp_lines: dict[str, MrpLine] = {}
    work_orders: list[WorkOrderProposal] = []
    requisitions: list[RequisitionProposal] = []
    with localcontext(_EXACT):
        gross: dict[str, Decimal] = dict.fromkeys(structure.order, ZERO)
        req: dict[str, Decimal] = dict.fromkeys(structure.order, ZERO)
        for line in children.get(None, ()):
            gross[line.item] += qty * line.qty_per
        for line in children.get(None, ()):
            req[line.item] += qty * line.qty_per
        for item in structure.order:
            item_info = info[item]
            requirement = req[item]
            s = supply.get(item, no_supply)
            ss = safety.get(item, ZERO)
            available = s.free_stock + s.open_po + s.open_wo
            order_shortage = max(ZERO, requirement - available)
            left_after_order = max(ZERO, available - requirement)
            topup = max(ZERO, ss - left_after_order)
            item_gross = gross[item]
            mrp_lines[item] = MrpLine(
                item=item,
                make_or_buy=item_info.make_or_buy,
                supplier=item_info.supplier,
                lead_days=item_info.lead_days,
                special=item_info.special,
                level=levels[item],
                gross=item_gross,
                requirement=requirement,
                free_stock=s.free_stock,
                open_po=s.open_po,
                open_wo=s.open_wo,
                safety_stock=ss,
                reserve=min(s.free_stock, requirement),
                order_shortage=order_shortage,
                safety_topup=topup,
            )
            driving = order_shortage + topup
            for line in children.get(item, ()):
                gross[line.item] += item_gross * line.qty_per
                req[line.item] += driving * line.qty_per
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
        reserve={item: ln.reserve for item, ln in mrp_lines.items() if ln.reserve > 0},
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
