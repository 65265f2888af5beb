"""Design change notices (DCN, P3.4, P8.4a): a DCN's BOM changes applied to the order's current
revision, and the activities that read that revision and issue the DCN as revision N+1.

A change names one BOM line by item and parent. `qty_per` above 0 sets the line's quantity, or
adds the line when the BOM has none; `qty_per` 0 removes it. Without a parent a change means
the item's only line, or a new top-level line when the item is not on the BOM; an item on
several lines needs its parent named. A new line takes supplier, lead days and the special flag
from the change itself when it names them, else from the item's other lines on the BOM, else
from the item master. A bought item new to all three goes to procurement without a supplier,
and the buyer names it on the purchase order; every other rule of a BOM release
(`validate_bom`) holds.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from services.engineering.bom import validate_bom
from shared.payloads import BomChange, BomLine

# The error type of a DCN for an order that has no released BOM to change.
NO_BOM = "NoBomReleased"


# What the item master knows of an item: a new BOM line of it takes these.
@dataclass(frozen=True)
class ItemFacts:
    make_or_buy: str
    supplier: str | None
    lead_days: int | None
    special: bool


# A DCN's changes applied to a BOM: the lines of the new revision, what changed line by line
# (as `engineering.design_changes.changes` keeps it), and every rule the result breaks.
@dataclass(frozen=True)
class AppliedChanges:
    lines: list[BomLine]
    changes: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def added_items(self) -> set[str]:
        return {c["item"] for c in self.changes if c["action"] == "add"}


def apply_changes(
    current: Sequence[BomLine],
    changes: Sequence[BomChange],
    master: Mapping[str, ItemFacts] | None = None,
) -> AppliedChanges:
    """The BOM after the changes: kept lines in their order, removed ones dropped, new ones
    appended; `problems` lists every change that cannot apply and every rule the result breaks."""
    lines = list(current)
    at = {(line.item, line.parent): n for n, line in enumerate(lines)}
    removed: set[int] = set()
    added: list[BomLine] = []
    done: list[dict[str, Any]] = []
    problems: list[str] = []
    unresolved: set[str] = set()  # bought items new to the BOM and the item master
    seen: set[tuple[str, str | None]] = set()
    for number, change in enumerate(changes, start=1):
        key, problem = _target(current, change)
        if key is None:  # the change names no single line; `problem` says why
            problems.append(f"change {number} ({_where(change.item, change.parent)}): {problem}")
            continue
        if key in seen:
            problem = "changes the same line again; give one change per line"
        elif key in at:
            problem = _change_line(lines, at[key], change, removed, done)
        else:
            line, problem = _new_line(current, change, master or {})
            if line is not None:
                added.append(line)
                done.append(_record("add", change, None, change.qty_per))
                if line.make_or_buy == "buy" and not line.supplier:
                    unresolved.add(line.item)
        if problem is not None:
            problems.append(f"change {number} ({_where(change.item, change.parent)}): {problem}")
        else:
            seen.add(key)
    result = [line for n, line in enumerate(lines) if n not in removed] + added
    if not problems:
        problems += _result_problems(current, result, unresolved)
    return AppliedChanges(lines=result, changes=done, problems=problems)


def _target(
    current: Sequence[BomLine], change: BomChange
) -> tuple[tuple[str, str | None] | None, str | None]:
    """The (item, parent) line a change means, or why it is ambiguous."""
    if change.parent is not None:
        return (change.item, change.parent), None
    on = [line for line in current if line.item == change.item]
    if len(on) > 1:
        parents = ", ".join(sorted(line.parent or "the top level" for line in on))
        return None, f"{change.item} is on {len(on)} lines (under {parents}); name the parent"
    return (change.item, on[0].parent if on else None), None


def _change_line(
    lines: list[BomLine],
    n: int,
    change: BomChange,
    removed: set[int],
    done: list[dict[str, Any]],
) -> str | None:
    line = lines[n]
    if change.make_or_buy != line.make_or_buy:
        return (
            f"{line.item} is a {line.make_or_buy} item on this BOM; a DCN changes quantities, "
            "not make or buy (remove the line and add a new item instead)"
        )
    if change.qty_per == line.qty_per:
        return f"qty_per is already {line.qty_per:g}; nothing would change"
    if change.qty_per == 0:
        removed.add(n)
        done.append(_record("remove", change, line.qty_per, None, parent=line.parent))
    else:
        lines[n] = line.model_copy(update={"qty_per": change.qty_per})
        done.append(_record("change", change, line.qty_per, change.qty_per, parent=line.parent))
    return None


def _new_line(
    current: Sequence[BomLine], change: BomChange, master: Mapping[str, ItemFacts]
) -> tuple[BomLine | None, str | None]:
    """A new line, described like the item's other lines, else as the item master has it."""
    if change.qty_per == 0:
        return None, "the BOM has no such line to remove"
    same = next((line for line in current if line.item == change.item), None)
    if same is not None:
        if same.make_or_buy != change.make_or_buy:
            return None, f"{change.item} is a {same.make_or_buy} item on this BOM"
        facts = ItemFacts(same.make_or_buy, same.supplier, same.lead_days, bool(same.special))
    else:
        known = master.get(change.item)
        facts = (
            known
            if known is not None and known.make_or_buy == change.make_or_buy
            else ItemFacts(change.make_or_buy, None, None, False)
        )
    line = BomLine.model_validate(
        {
            "item": change.item,
            "parent": change.parent,
            "qty_per": change.qty_per,
            "make_or_buy": change.make_or_buy,
            "lead_days": change.lead_days if change.lead_days is not None else facts.lead_days,
            "supplier": change.supplier or facts.supplier,
            "special": change.special if change.special is not None else facts.special,
        }
    )
    return line, None


def _result_problems(
    current: Sequence[BomLine], result: list[BomLine], unresolved: set[str]
) -> list[str]:
    """What `validate_bom` finds in the new revision, but for bought items nobody has named a
    supplier for yet (new to the item master now, or by an earlier DCN)."""
    if not result:
        return ["the DCN would leave the BOM without lines"]
    no_supplier = unresolved | {
        line.item for line in current if line.make_or_buy == "buy" and not line.supplier
    }
    return [
        f"the BOM after this DCN: {problem.message}"
        for problem in validate_bom(result)
        if not (
            problem.code == "buy_without_supplier"
            and all(result[n - 1].item in no_supplier for n in problem.lines)
        )
    ]


def _record(
    action: str,
    change: BomChange,
    before: float | None,
    after: float | None,
    *,
    parent: str | None = None,
) -> dict[str, Any]:
    return {
        "action": action,
        "item": change.item,
        "parent": parent if action != "add" else change.parent,
        "make_or_buy": change.make_or_buy,
        "qty_per_before": before,
        "qty_per_after": after,
    }


def _where(item: str, parent: str | None) -> str:
    return f"{item} under {parent}" if parent else item


def describe(changes: Sequence[dict[str, Any]]) -> str:
    """One line for the timeline: how many lines were added, changed and removed."""
    count = {action: sum(c["action"] == action for c in changes) for action in _ACTIONS}
    return f"{count['add']} added, {count['change']} changed, {count['remove']} removed"


_ACTIONS = ("add", "change", "remove")


# -- the workflow's view of the BOM and the activities ----------------------------------------


# The order's newest BOM revision and the DCN numbers it has issued: what a DCN is checked
# against while its task is open (the update validator cannot read the database).
class BomSnapshot(BaseModel):
    order_no: str
    revision: int
    lines: list[BomLine]
    dcn_nos: list[str] = Field(default_factory=list)

    def check(
        self, dcn_no: str, changes: Sequence[BomChange], master: Mapping[str, ItemFacts] | None
    ) -> AppliedChanges:
        """The changes applied to this revision, with the DCN number's own rule first."""
        applied = apply_changes(self.lines, changes, master)
        if dcn_no not in self.dcn_nos:
            return applied
        taken = f"{dcn_no} is already a DCN of order {self.order_no}; give it another number"
        return replace(applied, problems=[taken, *applied.problems])


# engineering.design_change completed: the DCN to issue.
class DcnIssue(BaseModel):
    order_no: str
    issue_no: str
    task_id: str
    dcn_no: str
    summary: str
    changes: list[BomChange]
    requested_at: datetime
    due_at: datetime
    by: str
    at: datetime


# The issued DCN, or why it could not be issued as completed: the BOM or the order's DCN
# numbers moved after its task was checked (another DCN of the order came first); then
# `snapshot` is what a new task is checked against.
class DcnIssued(BaseModel):
    dcn_no: str
    from_revision: int
    to_revision: int
    changes: list[dict[str, Any]] = Field(default_factory=list)
    new_items: list[str] = Field(default_factory=list)
    within_sla: bool = True
    refused: str | None = None
    snapshot: BomSnapshot | None = None
