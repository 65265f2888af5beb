"""A BOM's structure as MRP plans it: one node per item, linked to the nodes of its parents,
in planning order (low-level code, then item).

Why nodes rather than dictionaries keyed by item: a 100,000-line BOM's item strings, lines and
quantities are tens of MB, far beyond the CPU caches, so every lookup by item (the string's
hash, a random slot of a large table) and every append to a random parent's list of
components waits for memory. Here items are looked up by name once per line, while the BOM is
read; planning then follows each node's link to its parent's node. Low-level codes are worked
out while the lines are read (see `structure`) rather than by a second walk over the graph.
(With dictionaries, lists of components and Kahn's walk over them, building the structure
took about 30x time per 10x lines at 100,000 lines, the walk alone 40x.)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from operator import attrgetter

from services.procurement.mrp.schemas import ZERO, BomItem


class Node:
    """One item of the BOM (or the order's root, the parent of the top-level lines): its first
    line (its attributes), the node of that line's parent, the item's further lines as (parent
    node, qty per) in BOM order, its low-level code and what a run works out for it. (Most
    items are on one line: no list and no pair for them.)"""

    __slots__ = ("above", "driving", "gross", "level", "line", "more", "seen")

    def __init__(self, line: BomItem | None, above: Node | None) -> None:
        # None while the item has only been seen as a parent: an unknown parent if it stays so.
        # (The item is `line.item`: no reference of its own, one object less to touch when a
        # run's nodes are released.)
        self.line = line
        self.above = above
        self.more: list[tuple[Node, Decimal]] | None = None
        self.level = 0
        # Whether a component's level was worked out from this item's (see `structure`).
        self.seen = False
        # What a run works out: the gross requirement, and the quantity (net requirement) that
        # drives the components; the root's are the order quantity.
        self.gross = ZERO
        self.driving = ZERO


@dataclass(frozen=True, slots=True)
class Structure:
    """A validated BOM: the order's root node (level -1, the parent of the top-level lines)
    and the items' nodes in planning order (every item after all of its parents)."""

    root: Node
    order: list[Node]


_ITEM = attrgetter("line.item")


def structure(lines: Sequence[BomItem]) -> Structure:
    """Validate the BOM and order its items so every item comes after all of its parents.

    Raises ValueError for an empty BOM, a non-positive quantity per, an unknown parent, an
    item whose attributes differ between lines, or a cycle. Engineering refuses these at
    release already; MRP checks again because it must never loop or propose nonsense.

    An item's level (low-level code) is one below its deepest parent. A BOM is usually listed
    parents first (level by level, or indented), so the level is worked out while the lines are
    read, from the parent's level so far. That is final unless a line read later moves down an
    item whose level was already passed on to a component (a component listed before its
    parent's last line, or a cycle: then every level is worked out again by `_levels`). If no
    passed-on level moves, each line's parent is at least one level above the line's item, so
    there is no cycle and the levels are the same as `_levels` finds.
    """
    if not lines:
        raise ValueError("BOM has no lines")
    root = Node(None, None)
    root.level = -1
    nodes: dict[str, Node] = {}
    # Items seen as a parent and not (yet) on a line of their own.
    unknowns = 0
    in_order = True
    for line in lines:
        item, qty_per = line.item, line.qty_per
        if not isinstance(qty_per, Decimal) or not qty_per.is_finite():
            raise ValueError(f"{item}: qty_per must be a finite Decimal")
        if qty_per <= 0:
            raise ValueError(f"{item}: qty_per must be positive, got {qty_per}")
        if line.make_or_buy not in ("make", "buy"):
            raise ValueError(f"{item}: make_or_buy must be 'make' or 'buy'")
        parent = line.parent
        if parent is None:
            above = root
        else:
            found = nodes.get(parent)
            if found is None:
                found = nodes[parent] = Node(None, None)
                unknowns += 1
            above = found
            above.seen = True
        node = nodes.get(item)
        if node is None:
            node = nodes[item] = Node(line, above)
        elif node.line is None:
            node.line, node.above = line, above
            unknowns -= 1
        else:
            known = node.line
            if (known.make_or_buy, known.lead_days, known.supplier, known.special) != (
                line.make_or_buy,
                line.lead_days,
                line.supplier,
                line.special,
            ):
                raise ValueError(f"{item}: make/buy, lead days, supplier or special differ")
            if node.more is None:
                node.more = [(above, qty_per)]
            else:
                node.more.append((above, qty_per))
        if node.level <= above.level:
            if node.seen:
                in_order = False
            node.level = above.level + 1

    if unknowns:
        unknown = sorted(item for item, node in nodes.items() if node.line is None)
        raise ValueError(f"unknown parent(s): {', '.join(unknown)}")
    if not in_order:
        _levels(nodes, root)
    # Planning order: by level, then by item (buckets per level, no key tuple per item).
    by_level: list[list[Node]] = []
    for node in nodes.values():
        level = node.level
        while len(by_level) <= level:
            by_level.append([])
        by_level[level].append(node)
    for bucket in by_level:
        bucket.sort(key=_ITEM)
    return Structure(root=root, order=[node for bucket in by_level for node in bucket])


def _levels(nodes: dict[str, Node], root: Node) -> None:
    """Every item's level from scratch, for lines in any order, or raise on a cycle.

    Kahn's algorithm on the item graph (parent -> item), O(lines): each line is followed
    once, when its parent is taken. An item's level is final when the item is taken (all its
    parents came before), so the order items are taken in does not matter.
    """
    components: dict[Node, list[Node]] = {}
    pending: dict[Node, int] = {}
    for node in nodes.values():
        node.level = 0
        pending[node] = 0
    for node in nodes.values():
        for above, _ in lines_of(node):
            if above is not root:
                components.setdefault(above, []).append(node)
                pending[node] += 1
    ready = [node for node, n in pending.items() if n == 0]
    taken = 0
    while ready:
        node = ready.pop()
        taken += 1
        below = node.level + 1
        for child in components.get(node, ()):
            if child.level < below:
                child.level = below
            pending[child] -= 1
            if pending[child] == 0:
                ready.append(child)
    if taken != len(nodes):
        stuck = sorted(item for item, node in nodes.items() if pending[node] > 0)
        raise ValueError(f"BOM has a cycle through: {', '.join(stuck)}")


def lines_of(node: Node) -> list[tuple[Node, Decimal]]:
    """The item's lines as (parent node, qty per), in BOM order."""
    assert node.line is not None and node.above is not None  # `structure` refused unknowns
    return [(node.above, node.line.qty_per), *(node.more or ())]


def line_of(node: Node) -> BomItem:
    """The item's first line (its attributes); every node of a `Structure` has one."""
    assert node.line is not None  # `structure` refused unknown parents
    return node.line
