"""MRP in linear time (issue 17, item 3): the one-pass `plan` proposes exactly what the earlier
two-pass `plan` did, on generated multi-level BOMs of a few thousand lines.

The earlier implementation is kept here, and only here, as the reference: a heap-ordered
topological pass, a gross explosion, a second netting walk, then proposals keyed through
`json.dumps` and `uuid.uuid5`. Pure functions, no timing: `bench/bench_mrp.py` measures speed.
"""

from __future__ import annotations

import gc
import heapq
import itertools
import json
import random
import uuid
from collections import defaultdict
from collections.abc import Callable
from decimal import Decimal, localcontext

import pytest

from services.procurement.mrp import (
    BomItem,
    Reason,
    RequisitionProposal,
    Supply,
    WorkOrderProposal,
    delta,
    plan,
    proposal_key,
)
from services.procurement.mrp.keys import ProposalKeys
from services.procurement.mrp.rules import _EXACT

ZERO = Decimal(0)
# An item's line of the reference run: make/buy, level, gross, requirement, reserve, order
# shortage, safety top-up.
Row = tuple[str, int, Decimal, Decimal, Decimal, Decimal, Decimal]
_NAMESPACE = uuid.UUID("6f1c2a4e-8d0b-5c3e-9a71-4b2d0e5f8c19")


def reference_key(order_no: str, revision: str, item: str, reason: str | None = None) -> str:
    payload = json.dumps(["mrp", str(order_no), str(revision), item, reason])
    return f"mrp-{uuid.uuid5(_NAMESPACE, payload)}"


def reference_plan(
    order_no: str,
    revision: str,
    bom: list[BomItem],
    qty: Decimal,
    supply: dict[str, Supply],
    safety: dict[str, Decimal],
) -> tuple[dict[str, Row], list[WorkOrderProposal], list[RequisitionProposal]]:
    """The earlier `plan`, condensed (validation left out: the inputs here are valid)."""
    info = {line.item: line for line in bom}
    children: dict[str | None, list[BomItem]] = defaultdict(list)
    pending = dict.fromkeys(info, 0)
    for line in bom:
        children[line.parent].append(line)
        if line.parent is not None:
            pending[line.item] += 1
    levels = dict.fromkeys(info, 0)
    ready = [item for item, n in pending.items() if n == 0]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        item = heapq.heappop(ready)
        order.append(item)
        for line in children.get(item, []):
            levels[line.item] = max(levels[line.item], levels[item] + 1)
            pending[line.item] -= 1
            if pending[line.item] == 0:
                heapq.heappush(ready, line.item)
    order.sort(key=lambda item: (levels[item], item))

    def walk(on_item: Callable[[str, Decimal], Decimal] | None = None) -> dict[str, Decimal]:
        req = dict.fromkeys(order, ZERO)
        for line in children.get(None, []):
            req[line.item] += qty * line.qty_per
        for item in order:
            driving = req[item] if on_item is None else on_item(item, req[item])
            for line in children.get(item, []):
                req[line.item] += driving * line.qty_per
        return req

    lines: dict[str, Row] = {}
    with localcontext(_EXACT):
        gross = walk()

        def net_item(item: str, requirement: Decimal) -> Decimal:
            s = supply.get(item, Supply())
            ss = safety.get(item, ZERO)
            available = s.total
            shortage = max(ZERO, requirement - available)
            topup = max(ZERO, ss - max(ZERO, available - requirement))
            first = info[item]
            lines[item] = (
                first.make_or_buy,
                levels[item],
                gross[item],
                requirement,
                min(s.free_stock, requirement),
                shortage,
                topup,
            )
            return shortage + topup

        walk(net_item)

    work_orders: list[WorkOrderProposal] = []
    requisitions: list[RequisitionProposal] = []
    for item in order:
        make_or_buy, _, _, _, _, shortage, topup = lines[item]
        first = info[item]
        if make_or_buy == "make":
            if shortage + topup > 0:
                key = reference_key(order_no, revision, item)
                work_orders.append(WorkOrderProposal(key, item, shortage + topup))
            continue
        parts: tuple[tuple[Reason, Decimal], ...] = (("order", shortage), ("safety_stock", topup))
        for reason, part in parts:
            if part > 0:
                requisitions.append(
                    RequisitionProposal(
                        reference_key(order_no, revision, item, reason),
                        item,
                        part,
                        first.supplier,
                        first.lead_days,
                        first.special,
                        reason,
                    )
                )
    return lines, work_orders, requisitions


def generated_bom(n: int, *, levels: int = 5, seed: int = 0) -> list[BomItem]:
    """A random `levels`-deep BOM of `n` lines; some components are shared by two parents
    (one item on two lines), quantities have decimals."""
    rnd = random.Random(seed)
    bom: list[BomItem] = []
    above: list[str | None] = [None]
    per_level = n // levels
    parents_of: dict[str, set[str | None]] = defaultdict(set)
    first_line: dict[str, BomItem] = {}
    for level in range(levels):
        here: list[str] = []
        count = per_level if level < levels - 1 else n - len(bom)
        for i in range(count):
            if here and rnd.random() < 0.05:  # a shared component: same attributes, another parent
                first = first_line[here[-1]]
                parents = [p for p in above if p not in parents_of[first.item]]
                if not parents:
                    continue
                parent = rnd.choice(parents)
                parents_of[first.item].add(parent)
                bom.append(
                    BomItem(
                        first.item,
                        parent,
                        Decimal(rnd.randint(1, 9)),
                        first.make_or_buy,
                        first.lead_days,
                        first.supplier,
                        first.special,
                    )
                )
                continue
            line = BomItem(
                f"L{level}-{i:05d}",
                rnd.choice(above),
                Decimal(rnd.randint(1, 40)) / 4,
                "make" if level < levels - 1 and rnd.random() < 0.4 else "buy",
                rnd.choice([None, 5, 20]),
                rnd.choice([None, "ACME", "Bolt & Co"]),
                rnd.random() < 0.1,
            )
            bom.append(line)
            first_line[line.item] = line
            parents_of[line.item].add(line.parent)
            here.append(line.item)
        above = list(here) or above
    return bom


def generated_supply(bom: list[BomItem], seed: int) -> tuple[dict[str, Supply], dict[str, Decimal]]:
    rnd = random.Random(seed)
    supply: dict[str, Supply] = {}
    safety: dict[str, Decimal] = {}
    for line in bom:
        if rnd.random() < 0.3:
            supply[line.item] = Supply(
                Decimal(rnd.randint(0, 60)) / 2,
                Decimal(rnd.randint(0, 20)),
                Decimal(rnd.randint(0, 5)),
            )
        if rnd.random() < 0.1:
            safety[line.item] = Decimal(rnd.randint(0, 30))
    return supply, safety


@pytest.mark.parametrize("shuffled", [False, True], ids=["parents-first", "shuffled"])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_one_pass_plan_equals_the_earlier_two_pass_plan(seed: int, shuffled: bool) -> None:
    """Parents first, `plan` takes the low-level codes it works out while reading the lines;
    shuffled, components come before their parents and it works them out again by Kahn's
    algorithm. Both must plan what the reference does."""
    bom = generated_bom(3000, seed=seed)
    assert any(a.item == b.item and a.parent != b.parent for a, b in itertools.pairwise(bom)), (
        "the generated BOM shares components"
    )
    supply, safety = generated_supply(bom, seed)
    qty = Decimal(seed * 3)
    lines = random.Random(seed).sample(bom, len(bom)) if shuffled else bom
    got = plan("SO-9", 2, lines, qty, supply, safety)
    want_lines, want_work_orders, want_requisitions = reference_plan(
        "SO-9", "2", bom, qty, supply, safety
    )

    assert list(got.work_orders) == want_work_orders
    assert list(got.requisitions) == want_requisitions
    assert list(got.lines) == list(want_lines)  # the planning order
    for item, line in got.lines.items():
        expected = want_lines[item]
        assert (
            line.make_or_buy,
            line.level,
            line.gross,
            line.requirement,
            line.reserve,
            line.order_shortage,
            line.safety_topup,
        ) == expected, item
        # Same value *and* representation: quantities are stored and shown as text.
        assert [str(q) for q in (line.gross, line.requirement, line.order_shortage)] == [
            str(q) for q in expected[2:4] + expected[5:6]
        ]
    assert got.reserve == {i: ln.reserve for i, ln in got.lines.items() if ln.reserve > 0}
    assert got.work_orders and got.requisitions


def test_delta_keys_match_the_plain_key_function() -> None:
    bom = generated_bom(600, seed=7)
    old = plan("SO-9", 1, bom, 2, {})
    new = plan("SO-9", 2, bom, 3, {})
    change = delta(old, new)
    assert change.requisitions and change.work_orders
    for proposal in change.requisitions:
        assert proposal.key == reference_key("SO-9", "2", proposal.item, proposal.reason)
    for wo in change.work_orders:
        assert wo.key == reference_key("SO-9", "2", wo.item)


@pytest.mark.parametrize(
    ("order_no", "revision", "item", "reason"),
    [
        ("SO-1", "1", "bolt M8", None),
        ("SO-1", "1", "bolt M8", "order"),
        ('S"O\\2', "3:CC-1", "軸承 6204", "safety_stock"),
        ("SO-1", "1", "tab\there, newline\n and \u2028", "order"),
        ("", "", "", None),
        ("SO-1", "1", "emoji \U0001f529 and surrogate-free", "safety_stock"),
    ],
)
def test_batched_keys_equal_proposal_key(
    order_no: str, revision: str, item: str, reason: str | None
) -> None:
    keys = ProposalKeys(order_no, revision)
    assert keys.key(item, reason) == proposal_key(order_no, revision, item, reason)
    assert keys.key(item, reason) == reference_key(order_no, revision, item, reason)


def test_plan_collects_only_the_young_generation_and_puts_the_thresholds_back() -> None:
    """Full and middle-generation collections walk far more than the run's newest objects
    (services/procurement/mrp/collector.py): none runs inside `plan`, and the collector's
    thresholds are the caller's again afterwards, also when the plan refuses its input."""
    bom = generated_bom(3000, seed=5)
    supply, safety = generated_supply(bom, 5)
    before = gc.get_threshold()
    generations: list[int] = []

    def record(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            generations.append(info["generation"])

    gc.callbacks.append(record)
    try:
        plan("SO-9", 1, bom, 2, supply, safety)
        inside = list(generations)
        with pytest.raises(ValueError, match="unknown parent"):
            plan("SO-9", 1, [*bom, BomItem("X", "nowhere", Decimal(1), "buy")], 2, {})
    finally:
        gc.callbacks.remove(record)
    assert gc.isenabled()
    assert inside and set(inside) == {0}, inside
    assert gc.get_threshold() == before
