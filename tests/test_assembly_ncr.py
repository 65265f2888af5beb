"""Nonconforming material found in assembly (§8.5b) has the material effect an incoming NCR
has (P6.3), on the time-skipping server through the public API. One order in assembly, four
NCRs: two breakers returned (out on a release pass, bought again at once, the planner asked),
48 bolts scrapped (written off, bought again, the planner asked), one breaker kept on a
concession (nothing moves), one made frame sent for repair (made again on a work order; the
order held none from stock, so the planner is not asked). And incoming scrap of a PO that
was cancelled is requisitioned again for its order."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col
from temporalio.testing import WorkflowEnvironment

from services.procurement.models import PurchaseOrder, Requirement, Requisition
from services.quality.assembly_ncr import cover_scrapped
from services.quality.models import Ncr
from shared.db import session_scope
from tests.conftest import Stack
from tests.daily_mrp_drivers import _get
from tests.helpers import settled, wait_task
from tests.issue_drivers import _complete_task, _in_assembly, _issue, _report_ok, _task_of_issue
from tests.material_drivers import inbox_tasks, order_view, wait_view

D = Decimal


def _line(view: dict[str, Any], item: str) -> dict[str, Any]:
    (line,) = [x for x in view["materials"] if x["item"] == item]
    return dict(line)


def _judged(view: dict[str, Any], ncr_no: str) -> dict[str, Any]:
    (event,) = [
        e for e in view["timeline"] if e["kind"] == "ncr" and e["detail"].get("ncr_no") == ncr_no
    ]
    return dict(event)


async def _ncr(
    flow: Stack, order_no: str, item: str, qty: int, description: str, disposition: str
) -> str:
    """Report one nonconforming item from assembly and have quality judge it; its NCR number."""
    reported = await _report_ok(
        flow,
        order_no,
        {
            "kind": "nonconforming_material",
            "description": description,
            "items": [{"item": item, "qty": qty}],
        },
    )
    issue_no = reported["issue_no"]
    (judgement,) = await _task_of_issue(flow, order_no, "quality.ncr_judgement", issue_no)
    await _complete_task(flow, judgement, {"disposition": disposition}, sub="qa-li")
    await _issue(flow, order_no, issue_no, "closed")
    return f"NCR-{issue_no}"


async def test_nonconforming_material_in_assembly_moves_the_goods_as_an_incoming_ncr_does(
    flow: Stack, ts_env: WorkflowEnvironment
) -> None:
    order_no, suffix = await _in_assembly(flow, ts_env)
    breaker, bolt, frame = f"VS1-{suffix}", f"BOLT-{suffix}", f"FRAME-{suffix}"

    returned = await _ncr(flow, order_no, breaker, 2, "breaker housing cracked", "return")
    scrapped = await _ncr(flow, order_no, bolt, 48, "bolts stripped", "scrap")
    kept = await _ncr(flow, order_no, breaker, 1, "scratched front", "concession")
    repaired = await _ncr(flow, order_no, frame, 1, "frame weld porous", "repair")
    await settled(flow, f"order-{order_no}")
    view = await wait_view(
        flow,
        order_no,
        lambda v: len([e for e in v["timeline"] if e["kind"] == "ncr"]) == 4,
        "four NCR judgements",
    )

    # Return: the two breakers leave the order on a release pass; it holds four of six.
    event = _judged(view, returned)
    pass_no = f"RP-{returned.removeprefix('NCR-')}"
    assert event["detail"]["disposition"] == "return" and event["detail"]["pass_no"] == pass_no
    line = _line(view, breaker)
    assert (D(line["reserved"]), D(line["picked"]), D(line["missing"])) == (4, 4, 2)
    assert line["ncrs"] == [
        f"{returned}: 2.0000 breaker housing cracked (return)",
        f"{kept}: 1.0000 scratched front (concession)",
    ]
    trace = await _get(flow, "/warehouse/trace", item=breaker)
    (ncr,) = [
        n
        for lot in trace["lots"]
        for lot_item in lot["items"]
        for n in lot_item["ncrs"]
        if n["ncr_no"] == returned
    ]
    assert ncr["release_pass"]["pass_no"] == pass_no
    assert (ncr["release_pass"]["reason"], D(ncr["release_pass"]["qty"])) == ("return", 2)
    moved = [
        m
        for lot in trace["lots"]
        for m in lot["movements"]
        if m["kind"] == "released" and m["ref"] == pass_no
    ]
    assert [D(m["qty"]) for m in moved] == [2]

    # ... and are bought again at once: a special breaker goes to the division for approval.
    requisitions = {
        r["key"]: r for r in await _get(flow, "/procurement/requisitions", order_no=order_no)
    }
    again = requisitions[event["detail"]["requisition"]]
    assert (again["item"], D(again["qty"]), again["reason"], again["special"]) == (
        breaker,
        2,
        "ncr",
        True,
    )
    approval = await wait_task(flow, "procurement.special_approval", order_no)
    assert approval["workflow_id"] == f"requisition-{again['key']}"

    # Scrap: the bolts are written off and bought again.
    event = _judged(view, scrapped)
    assert event["detail"]["pass_no"] is None
    line = _line(view, bolt)
    assert (D(line["reserved"]), D(line["picked"]), D(line["missing"])) == (240, 240, 48)
    again = requisitions[event["detail"]["requisition"]]
    assert (again["item"], D(again["qty"]), again["reason"]) == (bolt, 48, "ncr")
    bolt_trace = await _get(flow, "/warehouse/trace", item=bolt)
    written_off = [
        m
        for lot in bolt_trace["lots"]
        for m in lot["movements"]
        if m["kind"] == "scrapped" and m["ref"] == scrapped
    ]
    assert [D(m["qty"]) for m in written_off] == [48]

    # Concession: kept as is; no pass, nothing bought.
    event = _judged(view, kept)
    assert event["detail"]["pass_no"] is None and event["detail"]["requisition"] is None

    # Repair of a made frame: out on a pass, made again on a work order.
    event = _judged(view, repaired)
    assert event["detail"]["pass_no"] == f"RP-{repaired.removeprefix('NCR-')}"
    work_orders = await _get(flow, "/procurement/work-orders", order_no=order_no)
    (made,) = [w for w in work_orders if w["key"] == event["detail"]["work_order"]]
    assert (made["item"], D(made["qty"]), made["state"]) == (frame, 1, "open")

    # The planner is asked for the two lines the order is short of because of the NCRs.
    dispositions = await inbox_tasks(flow, "planning", order_no, "planning.ncr_disposition")
    asked = {t["context"]["ncr_no"]: t["context"]["missing"] for t in dispositions}
    assert asked == {returned: "2.0000", scrapped: "48.0000"}
    # What replaces them is picked for production as it comes: procurement chases it.
    chases = await inbox_tasks(flow, "procurement", order_no, "procurement.chase_supply")
    assert {t["context"]["item"] for t in chases} == {breaker, bolt}
    assert (await order_view(flow, order_no))["stage"] == "production"


async def test_scrap_of_a_cancelled_po_is_requisitioned_again_once(engine: AsyncEngine) -> None:
    """A PO that can no longer owe the scrapped goods: the order they were bought for
    requisitions them at the judgement (a retried judgement finds the same requisition)."""
    suffix = uuid.uuid4().hex[:6]
    order_no, po_no, item = f"SO-{suffix}", f"PO-{suffix}", f"VS1-{suffix}"
    now = datetime.now(UTC)
    ncr = Ncr(
        ncr_no=f"NCR-L{suffix}-1",
        lot_no=f"L{suffix}",
        receipt_no=f"R{suffix}",
        po_no=po_no,
        supplier="Chint",
        order_no=order_no,
        item=item,
        qty=D(1),
        defect="cracked housing",
        state="closed",
        disposition="scrap",
        created_at=now,
    )
    async with session_scope(engine) as session:
        session.add(
            PurchaseOrder(
                po_no=po_no,
                supplier="Chint",
                order_no=order_no,
                promised_date=now.date(),
                state="cancelled",
                created_by="buyer",
                created_at=now,
            )
        )
        session.add(
            Requirement(
                order_no=order_no,
                item=item,
                bom_revision=1,
                qty=D(6),
                make_or_buy="buy",
                special=True,
                required_date=now.date() + timedelta(days=9),
                updated_at=now,
            )
        )
    async with session_scope(engine) as session:
        (first,) = await cover_scrapped(session, ncr, qty=D(1), at=now)
    async with session_scope(engine) as session:
        (again,) = await cover_scrapped(session, ncr, qty=D(1), at=now)
        rows = list(
            (
                await session.execute(
                    select(Requisition).where(col(Requisition.order_no) == order_no)
                )
            ).scalars()
        )
    assert first == again
    assert (first.item, first.qty, first.reason, first.special) == (item, 1, "ncr", True)
    assert [(r.key, r.state, r.required_date) for r in rows] == [
        (first.key, "open", now.date() + timedelta(days=9))
    ]
