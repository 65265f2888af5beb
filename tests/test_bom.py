"""The BOM checks engineering's release runs: every problem found, named with its lines."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from services.engineering.bom import validate_bom
from shared.payloads import BomLine


def line(item: str, parent: str | None = None, **fields: Any) -> BomLine:
    values: dict[str, Any] = {"qty_per": 1, "make_or_buy": "make", **fields}
    return BomLine(item=item, parent=parent, **values)


def buy(item: str, parent: str, **fields: Any) -> BomLine:
    return line(item, parent, **{"make_or_buy": "buy", "supplier": "Chint", **fields})


SWITCHGEAR = [
    line("CABINET"),
    line("FRAME", "CABINET", qty_per=1),
    buy("BREAKER", "CABINET", qty_per=2, lead_days=30),
    buy("BOLT-M8", "FRAME", qty_per=48),
    buy("BOLT-M8", "CABINET", qty_per=12),  # the same item under another parent is fine
]


def codes(lines: list[BomLine]) -> list[str]:
    return sorted(problem.code for problem in validate_bom(lines))


def test_a_sound_two_level_bom_has_no_problem() -> None:
    assert validate_bom(SWITCHGEAR) == []


def test_quantity_not_above_zero_is_named_with_its_line() -> None:
    problems = validate_bom([*SWITCHGEAR, buy("NUT", "FRAME", qty_per=0)])
    assert [(p.code, p.lines) for p in problems] == [("qty_not_positive", (6,))]


def test_buy_item_without_supplier_is_refused() -> None:
    problems = validate_bom([*SWITCHGEAR, line("LABEL", "CABINET", make_or_buy="buy")])
    assert [(p.code, p.lines) for p in problems] == [("buy_without_supplier", (6,))]
    assert "LABEL" in problems[0].message


def test_the_same_item_twice_under_one_parent_is_a_duplicate() -> None:
    problems = validate_bom([*SWITCHGEAR, buy("BREAKER", "CABINET", lead_days=30)])
    assert [(p.code, p.lines) for p in problems] == [("duplicate_item", (3, 6))]


def test_one_item_described_two_ways_is_refused() -> None:
    problems = validate_bom([*SWITCHGEAR[:3], buy("BOLT-M8", "FRAME", supplier="Würth")])
    assert problems == []
    problems = validate_bom([*SWITCHGEAR, buy("BOLT-M8", "BREAKER", supplier="Würth")])
    assert [(p.code, p.lines) for p in problems] == [("conflicting_item", (4, 5, 6))]


def test_unknown_parent_is_refused() -> None:
    problems = validate_bom([*SWITCHGEAR, buy("HINGE", "DOOR")])
    assert [(p.code, p.lines) for p in problems] == [("unknown_parent", (6,))]


def test_a_cycle_is_found_and_its_lines_named() -> None:
    lines = [
        line("CABINET"),
        line("FRAME", "CABINET"),
        line("RAIL", "FRAME"),
        line("FRAME", "RAIL"),
    ]
    problems = validate_bom(lines)
    assert [p.code for p in problems] == ["cycle"]
    assert problems[0].lines == (3, 4)
    assert "FRAME → RAIL → FRAME" in problems[0].message


def test_every_problem_is_reported_at_once() -> None:
    lines = [
        line("CABINET"),
        line("A", "A"),
        line("B", "CABINET", qty_per=-1, make_or_buy="buy"),
        line("C", "NOWHERE"),
    ]
    assert codes(lines) == [
        "buy_without_supplier",
        "cycle",
        "qty_not_positive",
        "unknown_parent",
    ]


@given(depth=st.integers(min_value=1, max_value=40), qty=st.integers(min_value=1, max_value=9))
def test_any_chain_of_distinct_items_is_sound(depth: int, qty: int) -> None:
    chain = [line("L0")] + [line(f"L{i}", f"L{i - 1}", qty_per=qty) for i in range(1, depth)]
    assert validate_bom(chain) == []


@given(depth=st.integers(min_value=2, max_value=40))
def test_closing_any_chain_into_a_loop_is_a_cycle(depth: int) -> None:
    chain = [line("L0")] + [line(f"L{i}", f"L{i - 1}") for i in range(1, depth)]
    looped = [*chain, line("L0", f"L{depth - 1}")]
    assert codes(looped) == ["cycle"]
