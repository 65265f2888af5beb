"""Design change notices (P8.4a, P3.4): the rules a DCN's BOM changes keep (pure)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from services.engineering.dcn import BomSnapshot, ItemFacts, apply_changes, describe
from shared.payloads import BomChange, BomLine

D = Decimal


# -- applying a DCN's changes to a BOM (pure) -------------------------------------------------


def _bom() -> list[BomLine]:
    """CAB ← FRAME (made) ← 48 BOLT (bought); CAB ← BRK (bought, special)."""
    return [
        BomLine(item="CAB", qty_per=1, make_or_buy="make"),
        BomLine(item="FRAME", parent="CAB", qty_per=1, make_or_buy="make"),
        BomLine(item="BOLT", parent="FRAME", qty_per=48, make_or_buy="buy", supplier="Fastenal"),
        BomLine(
            item="BRK",
            parent="CAB",
            qty_per=1,
            make_or_buy="buy",
            supplier="Chint",
            lead_days=30,
            special=True,
        ),
    ]


def _change(item: str, qty_per: float, make_or_buy: str = "buy", **kw: Any) -> BomChange:
    return BomChange.model_validate(
        {"item": item, "qty_per": qty_per, "make_or_buy": make_or_buy, **kw}
    )


def _lines(lines: list[BomLine]) -> list[tuple[str, str | None, float]]:
    return [(line.item, line.parent, line.qty_per) for line in lines]


def test_changes_set_a_quantity_remove_a_line_and_add_one_from_the_item_master() -> None:
    master = {"GASKET": ItemFacts("buy", "Parker", 12, False)}
    applied = apply_changes(
        _bom(),
        [
            _change("BRK", 2),  # its only line: no parent needed
            _change("BOLT", 0, parent="FRAME"),
            _change("GASKET", 4, parent="FRAME"),
        ],
        master,
    )
    assert applied.problems == []
    assert _lines(applied.lines) == [
        ("CAB", None, 1),
        ("FRAME", "CAB", 1),
        ("BRK", "CAB", 2),
        ("GASKET", "FRAME", 4),
    ]
    gasket = applied.lines[-1]
    assert (gasket.supplier, gasket.lead_days, gasket.special) == ("Parker", 12, False)
    assert [
        (c["action"], c["item"], c["qty_per_before"], c["qty_per_after"]) for c in applied.changes
    ] == [
        ("change", "BRK", 1, 2),
        ("remove", "BOLT", 48, None),
        ("add", "GASKET", None, 4),
    ]
    assert applied.added_items == {"GASKET"}
    assert describe(applied.changes) == "1 added, 1 changed, 1 removed"


def test_a_new_line_of_an_item_on_the_bom_is_described_like_its_other_lines() -> None:
    applied = apply_changes(_bom(), [_change("BOLT", 8, parent="CAB")])
    assert applied.problems == []
    added = applied.lines[-1]
    assert (added.item, added.parent, added.supplier) == ("BOLT", "CAB", "Fastenal")


def test_a_bought_item_new_to_bom_and_item_master_goes_without_a_supplier() -> None:
    # The DCN payload names no supplier (API.md): the buyer names one on the purchase order.
    applied = apply_changes(_bom(), [_change("CLIP", 2, parent="FRAME")], {})
    assert applied.problems == []
    assert applied.lines[-1].supplier is None
    # An item master entry of the other kind is not this item's description.
    applied = apply_changes(
        _bom(), [_change("CLIP", 2, parent="FRAME")], {"CLIP": ItemFacts("make", None, 3, False)}
    )
    assert (applied.lines[-1].make_or_buy, applied.lines[-1].lead_days) == ("buy", None)
    # A later DCN of that BOM is not refused for the supplier nobody has named yet.
    later = apply_changes(applied.lines, [_change("BRK", 3)])
    assert later.problems == []


def test_changes_that_cannot_apply_are_each_refused_with_their_number() -> None:
    bom = [*_bom(), BomLine(item="BOLT", parent="CAB", qty_per=4, make_or_buy="buy", supplier="F")]
    applied = apply_changes(
        bom,
        [
            _change("BOLT", 50),  # on two lines
            _change("BRK", 0, parent="FRAME"),  # no such line
            _change("FRAME", 2, "buy", parent="CAB"),  # make → buy
            _change("BRK", 1),  # already 1
            _change("BRK", 2, parent="CAB"),
            _change("BRK", 3, parent="CAB"),  # the same line twice
            _change("BRK", 2, "make", parent="FRAME"),  # a bought item elsewhere
        ],
    )
    problems = applied.problems
    assert len(problems) == 6, problems
    assert (
        problems[0].startswith("change 1 (BOLT): BOLT is on 2 lines")
        and "name the parent" in (problems[0])
    )
    assert problems[1] == "change 2 (BRK under FRAME): the BOM has no such line to remove"
    assert problems[2].startswith("change 3 (FRAME under CAB): FRAME is a make item")
    assert problems[3] == "change 4 (BRK): qty_per is already 1; nothing would change"
    assert problems[4].startswith("change 6 (BRK under CAB): changes the same line again")
    assert problems[5] == "change 7 (BRK under FRAME): BRK is a buy item on this BOM"


def test_the_bom_after_the_dcn_must_still_be_releasable() -> None:
    orphan = apply_changes(_bom(), [_change("FRAME", 0, "make", parent="CAB")])
    assert orphan.problems == [
        "the BOM after this DCN: line 2 (BOLT): parent FRAME is not an item of this BOM"
    ]
    cycle = apply_changes(_bom(), [_change("CAB", 1, "make", parent="BOLT")])
    assert len(cycle.problems) == 1 and "form a cycle" in cycle.problems[0]
    emptied = apply_changes(_bom()[:1], [_change("CAB", 0, "make")])
    assert emptied.problems == ["the DCN would leave the BOM without lines"]


def test_a_dcn_number_is_given_once_per_order() -> None:
    snapshot = BomSnapshot(order_no="SO-1", revision=2, lines=_bom(), dcn_nos=["DCN-1"])
    assert snapshot.check("DCN-2", [_change("BRK", 2)], None).problems == []
    taken = snapshot.check("DCN-1", [_change("BRK", 0, parent="FRAME")], None).problems
    assert taken[0] == "DCN-1 is already a DCN of order SO-1; give it another number"
    assert len(taken) == 2
