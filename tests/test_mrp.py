"""MRP (services/procurement/mrp.py): examples of each rule, then properties over random BOMs.

Pure functions only: no database, no Temporal, so these run in milliseconds."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.procurement.mrp import (
    BomItem,
    MrpResult,
    RequisitionProposal,
    Supply,
    WorkOrderProposal,
    delta,
    explode,
    plan,
    proposal_key,
)

D = Decimal


Qty = str | int | Decimal


def buy(
    item: str,
    parent: str | None,
    qty: Qty,
    *,
    supplier: str = "ACME",
    lead_days: int = 10,
    special: bool = False,
) -> BomItem:
    return BomItem(item, parent, D(qty), "buy", lead_days, supplier, special)


def proposals(result: MrpResult) -> list[WorkOrderProposal | RequisitionProposal]:
    """Work orders and requisitions together, for checks that apply to both."""
    return [*result.work_orders, *result.requisitions]


def make(item: str, parent: str | None, qty: Qty) -> BomItem:
    return BomItem(item=item, parent=parent, qty_per=D(qty), make_or_buy="make")


# Machine M: frame F (make) and cabinet C (make); bolt B is used in both, motor X in F only.
TWO_LEVEL = [
    make("F", None, 1),
    make("C", None, 2),
    buy("B", "F", 4),
    buy("B", "C", 6),
    buy("X", "F", 1, supplier="MotorCo", special=True, lead_days=40),
]


# ------------------------------------------------------------------------------------------
# explode


def test_explode_multi_level_shared_component_is_summed_over_both_parents() -> None:
    gross = explode(TWO_LEVEL, 3)
    assert gross == {"F": D(3), "C": D(6), "B": D(3 * 4 + 6 * 6), "X": D(3)}


def test_explode_three_levels_multiplies_down_the_tree() -> None:
    bom = [make("A", None, 2), make("S", "A", "1.5"), buy("P", "S", "0.25")]
    assert explode(bom, 4) == {"A": D(8), "S": D(12), "P": D(3)}


def test_explode_refuses_cycles_and_unknown_parents() -> None:
    with pytest.raises(ValueError, match="cycle"):
        explode([make("A", None, 1), make("B", "A", 1), make("A", "B", 1)], 1)
    with pytest.raises(ValueError, match="cycle"):
        explode([make("A", "A", 1)], 1)
    with pytest.raises(ValueError, match="unknown parent"):
        explode([make("A", None, 1), buy("B", "Z", 1)], 1)


def test_explode_refuses_bad_quantities_and_inconsistent_items() -> None:
    with pytest.raises(ValueError, match="positive"):
        explode([buy("A", None, 0)], 1)
    with pytest.raises(ValueError, match="non-negative"):
        explode([buy("A", None, 1)], -1)
    with pytest.raises(ValueError, match="differ"):
        explode([make("F", None, 1), buy("B", None, 1), buy("B", "F", 1, supplier="Other")], 1)
    with pytest.raises(ValueError, match="no lines"):
        explode([], 1)


# ------------------------------------------------------------------------------------------
# plan


def test_plan_without_supply_makes_assemblies_and_buys_components() -> None:
    result = plan("SO-1", 1, TWO_LEVEL, 3, {})
    assert {(w.item, w.qty) for w in result.work_orders} == {("F", D(3)), ("C", D(6))}
    by_item = {r.item: r for r in result.requisitions}
    assert set(by_item) == {"B", "X"}
    assert by_item["B"].qty == D(48)
    assert by_item["B"].reason == "order"
    x = by_item["X"]
    assert (x.qty, x.supplier, x.lead_days, x.special) == (D(3), "MotorCo", 40, True)
    assert result.reserve == {}


def test_plan_nets_against_free_stock_open_po_and_open_wo() -> None:
    bom = [make("A", None, 1), buy("P", "A", 10)]
    supply = {
        "A": Supply(free_stock=D(2), open_wo=D(3)),  # 5 of 10 covered
        "P": Supply(free_stock=D(7), open_po=D(11)),  # 18 of 50 covered
    }
    result = plan("SO-1", "A", bom, 10, supply)
    assert result.work_orders[0].qty == D(5)
    assert result.lines["P"].requirement == D(50)
    assert [(r.item, r.qty) for r in result.requisitions] == [("P", D(32))]
    # Only free stock is reserved now; open orders are reserved when they arrive.
    assert result.reserve == {"A": D(2), "P": D(7)}


def test_plan_reserves_no_more_than_the_order_needs() -> None:
    result = plan("SO-1", 1, [buy("P", None, 2)], 3, {"P": Supply(free_stock=D(100))})
    assert result.reserve == {"P": D(6)}
    assert result.requisitions == ()


def test_stock_of_an_assembly_spares_its_components() -> None:
    bom = [make("A", None, 1), make("S", "A", 2), buy("P", "S", 3)]
    result = plan("SO-1", 1, bom, 10, {"A": Supply(free_stock=D(4))})
    assert explode(bom, 10)["P"] == D(60)  # gross ignores stock...
    assert result.lines["S"].requirement == D(12)  # ...but netting does: 6 A to build
    assert result.lines["P"].requirement == D(36)
    assert [(w.item, w.qty) for w in result.work_orders] == [("A", D(6)), ("S", D(12))]
    assert [(r.item, r.qty) for r in result.requisitions] == [("P", D(36))]


def test_assembly_fully_in_stock_needs_nothing_below_it() -> None:
    bom = [make("A", None, 1), buy("P", "A", 3)]
    result = plan("SO-1", 1, bom, 5, {"A": Supply(free_stock=D(5))})
    assert result.work_orders == () and result.requisitions == ()
    assert result.lines["P"].requirement == 0
    assert result.reserve == {"A": D(5)}


def test_safety_stock_is_topped_up_in_its_own_requisition() -> None:
    # Need 5, have 10, keep 8: the order is covered but leaves 5, so 3 tops safety stock up.
    bom = [buy("P", None, 1)]
    result = plan("SO-1", 1, bom, 5, {"P": Supply(free_stock=D(10))}, {"P": D(8)})
    assert [(r.reason, r.qty) for r in result.requisitions] == [("safety_stock", D(3))]
    # Need 15, have 10, keep 8: 5 short for the order plus the whole 8 for safety stock.
    result = plan("SO-1", 1, bom, 15, {"P": Supply(free_stock=D(10))}, {"P": D(8)})
    assert [(r.reason, r.qty) for r in result.requisitions] == [
        ("order", D(5)),
        ("safety_stock", D(8)),
    ]
    assert result.net["P"] == D(13)  # = 15 - 10 + 8, PROCESS P4.1
    assert len({r.key for r in result.requisitions}) == 2


def test_safety_stock_of_a_make_item_goes_into_its_work_order_and_drives_components() -> None:
    bom = [make("A", None, 1), buy("P", "A", 2)]
    result = plan("SO-1", 1, bom, 3, {}, {"A": D(1)})
    assert [(w.item, w.qty) for w in result.work_orders] == [("A", D(4))]
    assert [(r.item, r.qty) for r in result.requisitions] == [("P", D(8))]


def test_rerun_proposes_the_same_keys_and_other_orders_or_revisions_do_not() -> None:
    first = plan("SO-1", 1, TWO_LEVEL, 3, {})
    # Supply changed in between: quantities may differ, keys must not.
    again = plan("SO-1", 1, list(reversed(TWO_LEVEL)), 3, {"B": Supply(open_po=D(5))})
    assert [w.key for w in first.work_orders] == [w.key for w in again.work_orders]
    assert [r.key for r in first.requisitions] == [r.key for r in again.requisitions]
    assert plan("SO-1", 1, TWO_LEVEL, 3, {}) == first
    keys = {p.key for p in proposals(first)}
    assert len(keys) == 4
    other_order = plan("SO-2", 1, TWO_LEVEL, 3, {})
    other_rev = plan("SO-1", 2, TWO_LEVEL, 3, {})
    for other in (other_order, other_rev):
        assert keys.isdisjoint({p.key for p in proposals(other)})
    assert proposal_key("SO-1", 1, "B", "order") == proposal_key("SO-1", "1", "B", "order")
    assert proposal_key("a:b", 1, "c") != proposal_key("a", 1, "b:c")


def test_plan_refuses_negative_supply() -> None:
    with pytest.raises(ValueError, match="free_stock"):
        plan("SO-1", 1, [buy("P", None, 1)], 1, {"P": Supply(free_stock=D(-1))})


# ------------------------------------------------------------------------------------------
# delta


def test_delta_after_design_change_requisitions_extra_and_returns_surplus() -> None:
    old = plan("SO-1", 1, TWO_LEVEL, 2, {})
    new_bom = [
        make("F", None, 1),
        make("C", None, 2),
        buy("B", "F", 4),
        buy("B", "C", 8),  # more bolts per cabinet
        buy("Y", "F", 1, supplier="MotorCo"),  # motor X replaced by Y
    ]
    new = plan("SO-1", 2, new_bom, 2, {})
    change = delta(old, new)
    assert change.extra == {"B": D(8), "Y": D(2)}
    assert change.surplus == {"X": D(2)}
    assert change.work_orders == ()
    reqs = {r.item: r for r in change.requisitions}
    assert {i: r.qty for i, r in reqs.items()} == {"B": D(8), "Y": D(2)}
    assert all(r.engineering_change and r.reason == "order" for r in reqs.values())
    assert reqs["Y"].supplier == "MotorCo"
    assert reqs["B"].key == proposal_key("SO-1", 2, "B", "order")
    assert delta(old, old).extra == {} and delta(old, old).surplus == {}


def test_delta_refuses_two_different_orders() -> None:
    with pytest.raises(ValueError):
        delta(plan("SO-1", 1, TWO_LEVEL, 1, {}), plan("SO-2", 1, TWO_LEVEL, 1, {}))


# ------------------------------------------------------------------------------------------
# Properties

quantities = st.decimals(min_value=0, max_value=1000, places=2, allow_nan=False)
qty_per = st.decimals(min_value=D("0.01"), max_value=50, places=2, allow_nan=False)
order_qtys = st.integers(min_value=0, max_value=500).map(D)


@st.composite
def single_level(draw: st.DrawFn) -> tuple[list[BomItem], dict[str, Supply]]:
    """A flat BOM of buy items (some listed twice) with random supply."""
    names = draw(st.lists(st.sampled_from("ABCDEFGH"), min_size=1, max_size=8, unique=True))
    bom = [buy(n, None, draw(qty_per)) for n in names]
    bom += [buy(n, None, draw(qty_per)) for n in names if draw(st.booleans())]
    supply = {
        n: Supply(draw(quantities), draw(quantities), draw(quantities))
        for n in names
        if draw(st.booleans())
    }
    return bom, supply


@st.composite
def multi_level(
    draw: st.DrawFn,
) -> tuple[list[BomItem], dict[str, Supply], dict[str, Decimal]]:
    """A random acyclic BOM: item i's parents are drawn from items before it, so components
    may be shared by several assemblies and appear at different depths."""
    n = draw(st.integers(min_value=1, max_value=9))
    names = [f"I{i}" for i in range(n)]
    kinds = {name: draw(st.sampled_from(["make", "buy"])) for name in names}
    bom: list[BomItem] = []
    for i, name in enumerate(names):
        parents = draw(st.sets(st.sampled_from([None, *names[:i]]), min_size=1, max_size=3))
        for parent in sorted(parents, key=str):
            if kinds[name] == "make":
                bom.append(make(name, parent, draw(qty_per)))
            else:
                bom.append(buy(name, parent, draw(qty_per)))
    supply = {
        name: Supply(draw(quantities), draw(quantities), draw(quantities))
        for name in names
        if draw(st.booleans())
    }
    safety = {name: draw(quantities) for name in names if draw(st.booleans())}
    return bom, supply, safety


@settings(max_examples=200, deadline=None)
@given(multi_level(), order_qtys)
def test_no_negative_quantities_and_net_follows_the_formula(
    case: tuple[list[BomItem], dict[str, Supply], dict[str, Decimal]], qty: Decimal
) -> None:
    bom, supply, safety = case
    result = plan("SO-P", 1, bom, qty, supply, safety)
    for item, line in result.lines.items():
        s = supply.get(item, Supply())
        assert line.net >= 0 and line.order_shortage >= 0 and line.safety_topup >= 0
        assert line.net == max(D(0), line.requirement - s.total + safety.get(item, D(0)))
        assert 0 <= line.reserve <= min(s.free_stock, line.requirement)
        if not safety:  # a parent's safety top-up legitimately adds to its components
            assert line.requirement <= line.gross
    for p in proposals(result):
        assert p.qty > 0
    for item, r in result.reserve.items():
        assert r > 0 and r == result.lines[item].reserve


@settings(max_examples=200, deadline=None)
@given(multi_level(), order_qtys)
def test_proposals_cover_the_net_requirement_exactly(
    case: tuple[list[BomItem], dict[str, Supply], dict[str, Decimal]], qty: Decimal
) -> None:
    bom, supply, safety = case
    result = plan("SO-P", 1, bom, qty, supply, safety)
    proposed: dict[str, Decimal] = {}
    for p in proposals(result):
        proposed[p.item] = proposed.get(p.item, D(0)) + p.qty
    for item, line in result.lines.items():
        assert proposed.get(item, D(0)) == line.net
        kinds = {w.item for w in result.work_orders}, {r.item for r in result.requisitions}
        if line.net > 0:
            assert item in (kinds[0] if line.make_or_buy == "make" else kinds[1])


@settings(max_examples=300, deadline=None)
@given(single_level(), order_qtys)
def test_requisitions_exactly_cover_gross_minus_supply_on_a_single_level_bom(
    case: tuple[list[BomItem], dict[str, Supply]], qty: Decimal
) -> None:
    bom, supply = case
    gross = explode(bom, qty)
    result = plan("SO-P", "r1", bom, qty, supply)
    requisitioned: dict[str, Decimal] = {}
    for r in result.requisitions:
        assert r.reason == "order"
        requisitioned[r.item] = requisitioned.get(r.item, D(0)) + r.qty
    for item, g in gross.items():
        shortage = g - supply.get(item, Supply()).total
        assert requisitioned.get(item, D(0)) == max(D(0), shortage)
    assert result.work_orders == ()


@settings(max_examples=150, deadline=None)
@given(multi_level(), order_qtys, st.randoms(use_true_random=False))
def test_results_are_stable_across_reruns_and_line_order(
    case: tuple[list[BomItem], dict[str, Supply], dict[str, Decimal]],
    qty: Decimal,
    rnd: random.Random,
) -> None:
    bom, supply, safety = case
    first = plan("SO-P", 7, bom, qty, supply, safety)
    shuffled = list(bom)
    rnd.shuffle(shuffled)
    assert plan("SO-P", 7, bom, qty, supply, safety) == first
    assert plan("SO-P", 7, shuffled, qty, supply, safety) == first
    assert delta(first, first).extra == {} and delta(first, first).surplus == {}


@settings(max_examples=200, deadline=None)
@given(multi_level(), order_qtys, order_qtys, st.integers(min_value=0, max_value=20))
def test_explosion_is_linear_in_order_quantity(
    case: tuple[list[BomItem], dict[str, Supply], dict[str, Decimal]],
    q1: Decimal,
    q2: Decimal,
    k: int,
) -> None:
    bom = case[0]
    g1, g2 = explode(bom, q1), explode(bom, q2)
    assert explode(bom, q1 * k) == {item: g * k for item, g in g1.items()}
    assert explode(bom, q1 + q2) == {item: g1[item] + g2[item] for item in g1}
    assert explode(bom, 0) == dict.fromkeys(g1, D(0))
