"""The material effect of quality's NCR judgements beyond incoming stock: nonconforming material
found in assembly (§8.5b) as incoming goods are judged (P6.3), and scrapped incoming goods
covered again at once.

In assembly the goods were picked for the order. Return and repair move them out of the plant
on a release pass (放行单), scrap writes them off; either way they leave the order, which is
short of them again, and a replacement is requisitioned (bought item) or put on a work order
(made item) at once. Concession keeps them where they are. Every write is keyed by the NCR, so
a retried judgement changes nothing twice.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from services.procurement.replace import owe_again_if_open, replace_for_order
from services.quality.models import Ncr, ReleasePass
from services.warehouse.nonconforming import take_from_order
from services.warehouse.stock import record
from shared.material_types import AssemblyNcrJudged, AssemblyNcrLine
from shared.timeline import add_event
from shared.types import RequisitionSummary

LEAVING = ("return", "repair")


def assembly_ncr_nos(issue_no: str, lines: int) -> list[str]:
    """The NCR of each item line of an issue: the issue's own NCR number for a single line (as
    the judgement task names it), `-1`, `-2`, … after it for several."""
    if lines == 1:
        return [f"NCR-{issue_no}"]
    return [f"NCR-{issue_no}-{n}" for n in range(1, lines + 1)]


def pass_no_of(ncr_no: str) -> str:
    """The release pass of an NCR's goods: RP- and the NCR's own number."""
    return f"RP-{ncr_no.removeprefix('NCR-')}"


async def judge_assembly(session: AsyncSession, judged: AssemblyNcrJudged) -> list[AssemblyNcrLine]:
    """Record each item line's NCR as judged and carry out its material effect."""
    numbers = assembly_ncr_nos(judged.issue_no, len(judged.items))
    lines: list[AssemblyNcrLine] = []
    for ncr_no, line in zip(numbers, judged.items, strict=True):
        item, qty = str(line["item"]), Decimal(str(line["qty"]))
        existing = await session.get(Ncr, ncr_no, with_for_update=True)
        if existing is not None:  # a retry after the first attempt committed
            lines.append(await _as_judged(session, existing, judged))
            continue
        lines.append(await _judge_line(session, judged, ncr_no, item, qty))
    return lines


async def _judge_line(
    session: AsyncSession, judged: AssemblyNcrJudged, ncr_no: str, item: str, qty: Decimal
) -> AssemblyNcrLine:
    detail = {"ncr_no": ncr_no, "issue_no": judged.issue_no, "disposition": judged.disposition}
    result = AssemblyNcrLine(ncr_no=ncr_no, item=item, qty=qty)
    lot_no = supplier = po_no = None
    if judged.disposition == "concession":  # used as is: the goods stay with the order
        await record(
            session,
            kind="concession",
            item=item,
            qty=qty,
            by=judged.by,
            at=judged.at,
            order_no=judged.order_no,
            ref=ncr_no,
            detail=detail,
        )
    else:
        leaving = judged.disposition in LEAVING
        pass_no = pass_no_of(ncr_no) if leaving else None
        taken = await take_from_order(
            session,
            order_no=judged.order_no,
            item=item,
            qty=qty,
            kind="released" if leaving else "scrapped",
            by=judged.by,
            at=judged.at,
            ref=pass_no or ncr_no,
            detail=detail,
        )
        first = taken[0] if taken else None
        lot_no = first.lot_no if first else None
        supplier, po_no = (first.supplier, first.po_no) if first else (None, None)
        if pass_no is not None:
            session.add(
                ReleasePass(
                    pass_no=pass_no,
                    ncr_no=ncr_no,
                    supplier=supplier,
                    item=item,
                    qty=qty,
                    reason=judged.disposition,
                    issued_by=judged.by,
                    issued_at=judged.at,
                )
            )
        # What left must be had again: every reported piece is gone from the assembly.
        replacement = await replace_for_order(
            session, order_no=judged.order_no, item=item, qty=qty, ncr_no=ncr_no, at=judged.at
        )
        result = result.model_copy(
            update={
                "taken": sum((part.qty for part in taken), Decimal(0)),
                "pass_no": pass_no,
                "requisition": replacement.requisition,
                "work_order": replacement.work_order,
            }
        )
    session.add(
        Ncr(
            ncr_no=ncr_no,
            lot_no=lot_no,
            po_no=po_no,
            supplier=supplier,
            found_in="assembly",
            issue_no=judged.issue_no,
            order_no=judged.order_no,
            item=item,
            qty=qty,
            defect=judged.description,
            state="closed",
            disposition=judged.disposition,
            comment=judged.comment or None,
            judged_by=judged.by,
            judged_at=judged.at,
            created_at=judged.at,
        )
    )
    await add_event(
        session,
        key=f"{ncr_no}:judged",
        order_no=judged.order_no,
        at=judged.at,
        kind="ncr",
        actor=judged.by,
        summary=_summary(judged, result),
        detail={
            "ncr_no": ncr_no,
            "issue_no": judged.issue_no,
            "disposition": judged.disposition,
            "pass_no": result.pass_no,
            "requisition": result.requisition.key if result.requisition else None,
            "work_order": result.work_order,
        },
    )
    return result


def _summary(judged: AssemblyNcrJudged, line: AssemblyNcrLine) -> str:
    what = f"{line.ncr_no} ({line.qty} {line.item} found in assembly) judged {judged.disposition}"
    if line.pass_no:
        what += f", release pass {line.pass_no}"
    if line.requisition:
        what += f"; requisition {line.requisition.key} for {line.qty} {line.item}"
    if line.work_order:
        what += f"; work order {line.work_order} for {line.qty} {line.item}"
    return what + (f": {judged.comment}" if judged.comment else "")


async def _as_judged(session: AsyncSession, ncr: Ncr, judged: AssemblyNcrJudged) -> AssemblyNcrLine:
    """A stored line's result again (its replacement is keyed by the NCR: found, not made)."""
    qty = Decimal(ncr.qty)
    if ncr.disposition == "concession":
        return AssemblyNcrLine(ncr_no=ncr.ncr_no, item=ncr.item, qty=qty)
    released = await session.get(ReleasePass, pass_no_of(ncr.ncr_no))
    replacement = await replace_for_order(
        session, order_no=judged.order_no, item=ncr.item, qty=qty, ncr_no=ncr.ncr_no, at=judged.at
    )
    return AssemblyNcrLine(
        ncr_no=ncr.ncr_no,
        item=ncr.item,
        qty=qty,
        pass_no=released.pass_no if released else None,
        requisition=replacement.requisition,
        work_order=replacement.work_order,
    )


async def cover_scrapped(
    session: AsyncSession, ncr: Ncr, *, qty: Decimal, at: datetime
) -> list[RequisitionSummary]:
    """Incoming goods scrapped here are had again at once: the supplier owes them again on
    their PO, or, when that PO was cancelled, the order they were bought for requisitions
    them. Returns the requisitions made (the order must buy them)."""
    if ncr.po_no and await owe_again_if_open(session, po_no=ncr.po_no, item=ncr.item, qty=qty):
        return []
    if not ncr.order_no:  # for stock, of a cancelled PO: the daily MRP's safety stock decides
        return []
    replacement = await replace_for_order(
        session, order_no=ncr.order_no, item=ncr.item, qty=qty, ncr_no=ncr.ncr_no, at=at
    )
    return [replacement.requisition] if replacement.requisition else []
