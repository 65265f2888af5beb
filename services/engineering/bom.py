"""Checks of a multi-level BOM before engineering releases it (P3.1): pure, no I/O.

A BOM is a list of lines (`item`, `parent`, `qty_per`, `make_or_buy`, `supplier`, ...); a line
with no parent is a top-level line of the ordered product. Every problem is reported with the
lines it concerns, so the engineer can fix them all in one go.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from shared.payloads import BomLine


# One thing wrong with a BOM: a code clients can branch on, the lines it concerns, a sentence.
@dataclass(frozen=True)
class BomProblem:
    code: str
    lines: tuple[int, ...]
    message: str

    def as_dict(self) -> dict[str, object]:
        return {"code": self.code, "lines": list(self.lines), "message": self.message}


def validate_bom(lines: list[BomLine]) -> list[BomProblem]:
    """Every problem of the BOM (empty when it can be released); line numbers count from 1."""
    problems: list[BomProblem] = []
    problems += _bad_quantities(lines)
    problems += _buy_without_supplier(lines)
    problems += _duplicates(lines)
    problems += _conflicting_items(lines)
    problems += _unknown_parents(lines)
    problems += _cycles(lines)
    return problems


def _bad_quantities(lines: list[BomLine]) -> list[BomProblem]:
    return [
        BomProblem("qty_not_positive", (n,), f"line {n} ({line.item}): qty_per must be above 0")
        for n, line in enumerate(lines, start=1)
        if line.qty_per <= 0
    ]


def _buy_without_supplier(lines: list[BomLine]) -> list[BomProblem]:
    return [
        BomProblem(
            "buy_without_supplier", (n,), f"line {n} ({line.item}): a buy item needs a supplier"
        )
        for n, line in enumerate(lines, start=1)
        if line.make_or_buy == "buy" and not (line.supplier or "").strip()
    ]


def _duplicates(lines: list[BomLine]) -> list[BomProblem]:
    seen: dict[tuple[str | None, str], list[int]] = defaultdict(list)
    for n, line in enumerate(lines, start=1):
        seen[(line.parent, line.item)].append(n)
    return [
        BomProblem(
            "duplicate_item",
            tuple(numbers),
            f"lines {', '.join(map(str, numbers))}: {item} appears more than once under "
            f"{parent or 'the top level'}; give one line with the total qty_per",
        )
        for (parent, item), numbers in seen.items()
        if len(numbers) > 1
    ]


def _conflicting_items(lines: list[BomLine]) -> list[BomProblem]:
    """One item is one thing: make or buy, supplier, lead time and special flag agree."""
    seen: dict[str, list[int]] = defaultdict(list)
    for n, line in enumerate(lines, start=1):
        seen[line.item].append(n)
    problems = []
    for item, numbers in seen.items():
        kinds = {
            (line.make_or_buy, line.supplier, line.lead_days, bool(line.special))
            for line in (lines[n - 1] for n in numbers)
        }
        if len(kinds) > 1:
            problems.append(
                BomProblem(
                    "conflicting_item",
                    tuple(numbers),
                    f"lines {', '.join(map(str, numbers))}: {item} is given different make/buy, "
                    "supplier, lead_days or special values; one item must be described alike",
                )
            )
    return problems


def _unknown_parents(lines: list[BomLine]) -> list[BomProblem]:
    items = {line.item for line in lines}
    return [
        BomProblem(
            "unknown_parent",
            (n,),
            f"line {n} ({line.item}): parent {line.parent} is not an item of this BOM",
        )
        for n, line in enumerate(lines, start=1)
        if line.parent is not None and line.parent not in items
    ]


def _cycles(lines: list[BomLine]) -> list[BomProblem]:
    """Items that are (indirectly) their own parent, one problem per cycle."""
    children: dict[str, set[str]] = defaultdict(set)
    for line in lines:
        if line.parent is not None:
            children[line.parent].add(line.item)
    cycles = _find_cycles(children)
    problems = []
    for cycle in cycles:
        members = set(cycle)
        numbers = tuple(
            n
            for n, line in enumerate(lines, start=1)
            if line.item in members and line.parent in members
        )
        problems.append(
            BomProblem(
                "cycle",
                numbers,
                f"lines {', '.join(map(str, numbers))} form a cycle: " + " → ".join(cycle),
            )
        )
    return problems


def _find_cycles(children: dict[str, set[str]]) -> list[list[str]]:
    """Each cycle met by a depth-first walk from every item in name order, children in name
    order, as the items along it. The walk keeps its own stack (a BOM of 100,000 lines may
    nest deeper than Python's recursion allows)."""
    state: dict[str, str] = {}  # "open" while on the current path, "done" after
    cycles: list[list[str]] = []
    for root in sorted(children):
        if root in state:
            continue
        state[root] = "open"
        path = [root]
        pending = [iter(sorted(children[root]))]
        while pending:
            child = next(pending[-1], None)
            if child is None:
                pending.pop()
                state[path.pop()] = "done"
            elif state.get(child) == "open":
                cycles.append([*path[path.index(child) :], child])
            elif child not in state:
                state[child] = "open"
                path.append(child)
                pending.append(iter(sorted(children[child])))
    return cycles
