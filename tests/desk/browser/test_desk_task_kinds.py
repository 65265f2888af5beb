"""The task kinds the browser walk (test_desk_walk.py) never meets, each completed at the desk in
Chromium through its generated form: one order is driven over the API (the drivers the API
tests use) to each task's door, and the task itself is opened from its department's inbox,
filled and submitted in the browser. Each completion is then read back through the API: the
task is done, with the payload the form was filled from.

One order on a plant working every day carries eleven kinds, in the order they arise: above
the approval threshold (management approval), planned late (renegotiation), a customer's
change (agreement), one breaker rejected at incoming inspection (NCR judgement and
disposition), in assembly a design problem (confirmation, DCN) and a bought part missing
(analysis, chase), a failed final inspection (defects corrected) and, in finished goods, the
weekly unshipped list's question (ship date). A safety-stock requisition of the daily MRP
brings the twelfth, stock approval, which belongs to no order: in a test of its own (on the same
time-skipping server as the order, the order's clock then would not advance to its picking time).
Both run on a plant working every day: the daily MRP skips days off.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlparse

from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.testing import WorkflowEnvironment

from tests.change_drivers import change_ok
from tests.conftest import Stack
from tests.daily_mrp_drivers import (  # the stack: a plant working every day (the daily MRP)
    _daily,
    _on_hand,
    every_day_stack,  # noqa: F401
)
from tests.desk.browser.conftest import Desk, DeskMaker
from tests.desk.browser.test_desk_walk import (
    Payload,
    Walk,
    complete_at_desk,
    fill,
    open_task,
    submit,
)
from tests.drivers import (
    day,
    iso,
    proposal_of,
    propose_and_plan_date,
    technical_and_lead_time,
)
from tests.helpers import MARGIN, advance_to, complete_ok, create_order, wait_task
from tests.issue_drivers import _report_ok
from tests.material_drivers import (
    DOCUMENTS,
    SETS,
    inspect,
    milestones,
    order_view,
    place_orders,
    production_start,
    receive_ok,
    two_level_bom,
)
from tests.test_daily_mrp_safety_stock import _item

# The kinds one order carries (test_the_task_kinds_of_one_order_...); the twelfth is stock
# approval, which belongs to no order (test_a_stock_approval_...).
ORDER_KINDS = {
    "sales.management_approval",
    "sales.renegotiate_delivery",
    "procurement.chase_supply",
    "quality.ncr_judgement",
    "planning.ncr_disposition",
    "engineering.design_change",
    "production.confirm_issue",
    "planning.missing_part_analysis",
    "production.correct_defects",
    "sales.ship_date",
    "sales.change_agreement",
}


def holds(given: Any, stored: Any, path: str = "payload") -> None:
    """What the form was filled with is what the task stored (numbers compared as numbers:
    the desk decodes `1` from its input; fields the payload left out are not compared)."""
    if isinstance(given, dict):
        assert isinstance(stored, dict), (path, stored)
        for key, value in given.items():
            assert key in stored, f"{path}.{key} missing from {stored}"
            holds(value, stored[key], f"{path}.{key}")
    elif isinstance(given, list):
        assert isinstance(stored, list) and len(stored) == len(given), (path, given, stored)
        for n, (value, kept) in enumerate(zip(given, stored, strict=True)):
            holds(value, kept, f"{path}.{n}")
    elif isinstance(given, int | float) and not isinstance(given, bool):
        assert Decimal(str(stored)) == Decimal(str(given)), (path, given, stored)
    else:
        assert stored == given, (path, given, stored)


class Kinds:
    """Completes tasks at the desk and checks each through the API; keeps which kinds it did."""

    def __init__(self, stack: Stack, expected: int) -> None:
        self.stack = stack
        self.walk = Walk()
        self.expected = expected
        self.done: list[str] = []

    async def check(self, desk: Desk, kind: str, order_no: str, payload: Payload) -> None:
        """The task the desk just completed (its id in the landing page's `done=`) is done,
        with `payload`; the kind is printed."""
        dept = kind.split(".")[0]
        (task_id,) = parse_qs(urlparse(desk.page.url).query)["done"]
        answer = await self.stack.http.get(
            f"/{dept}/tasks/{task_id}", headers=self.stack.token("ops-bot", "ops")
        )
        assert answer.status_code == 200, answer.text
        task = answer.json()
        assert (task["kind"], task["state"], task["order_no"]) == (kind, "done", order_no), task
        holds(payload, task["payload"])
        self.done.append(kind)
        self.walk.step(dept, f"{kind} completed at the desk ({len(self.done)}/{self.expected})")

    async def complete(self, desk: Desk, kind: str, order_no: str, payload: Payload) -> None:
        """The order's open task of `kind`, completed through its form at the desk."""
        await wait_task(self.stack, kind, order_no)  # the workflow has opened it
        await complete_at_desk(self.walk, self.stack, desk, kind, order_no, payload)
        await self.check(desk, kind, order_no, payload)


async def test_a_stock_approval_is_decided_at_the_desk_by_the_head_of_buying(
    desk: Desk, stack: Stack, engine: AsyncEngine
) -> None:
    """The daily MRP's safety-stock requisition, decided by the head of buying in the browser;
    a task of no order."""
    kinds = Kinds(stack, 1)
    suffix = uuid.uuid4().hex[:6].upper()
    await desk.sign_in("pei", "procurement", "head:procurement")
    # The daily MRP finds a safety-stock item below its level: the head of buying decides.
    tie = f"CABLE-TIE-{suffix}"
    await _item(engine, tie, safety_stock=50)
    await _on_hand(engine, tie, 10)
    (requisition,) = (await _daily(stack)).safety_stock.created
    kind = "procurement.stock_approval"
    answer: Payload = {"approved": False, "comment": "obsolete: the new tie replaces it"}
    task_id = await open_task(desk, "procurement", kind, "")
    task = await stack.http.get(
        f"/procurement/tasks/{task_id}", headers=stack.token("ops-bot", "ops")
    )
    assert task.json()["context"]["key"] == requisition.key, task.text
    kinds.walk.step("procurement", f"{kind} {answer}")
    form = desk.page.locator("main form[method=post]")
    await fill(form, "", answer)
    await submit(desk, form)
    # A task of no order lands back on its inbox.
    assert "/desk/inbox/procurement?done=" in desk.page.url, desk.page.url
    await kinds.check(desk, kind, "", answer)
    desk.assert_clean_console()


async def test_the_task_kinds_of_one_order_the_walk_does_not_reach_are_completed_at_the_desk(
    new_desk: DeskMaker, stack: Stack, ts_env: WorkflowEnvironment
) -> None:
    """One order over the API to each of eleven tasks, each completed at the desk."""
    kinds = Kinds(stack, len(ORDER_KINDS))
    suffix = uuid.uuid4().hex[:6].upper()
    people = {
        "sales": ("hana", "sales", "head:sales"),
        "engineering": ("erin", "engineering"),
        "procurement": ("pei", "procurement"),
        "planning": ("pia", "planning"),
        "quality": ("lin", "quality"),
        "production": ("zhou", "production"),
    }
    desks = {dept: await new_desk() for dept in people}
    for dept, who in people.items():
        await desks[dept].sign_in(*who)
    sales, engineering, procurement = desks["sales"], desks["engineering"], desks["procurement"]
    planning, quality, production = desks["planning"], desks["quality"], desks["production"]

    # P1: above the approval threshold (1 000 000 by default) the head of sales approves.
    order_no = await create_order(stack, order_no=f"KINDS-{suffix}", amount=1500000)
    await technical_and_lead_time(stack, order_no)
    await propose_and_plan_date(stack, order_no)
    await kinds.complete(
        sales,
        "sales.management_approval",
        order_no,
        {"approved": True, "comment": "strategic customer"},
    )
    await complete_ok(stack, "sales.confirm_delivery", order_no, {"accepted": True})

    # P2: planned to ship two weeks late, sales renegotiates the date with the customer.
    plan = await wait_task(stack, "planning.master_plan", order_no)
    late = proposal_of(plan)
    for name in ("production_start", "production_end", "final_inspection", "ship"):
        late[name] += timedelta(days=14)
    await complete_ok(
        stack,
        "planning.master_plan",
        order_no,
        {"milestones": iso(late), "reason": "workshop busy with the substation order"},
    )
    new_date = (late["ship"] + timedelta(days=2)).isoformat()
    await kinds.complete(
        sales,
        "sales.renegotiate_delivery",
        order_no,
        {"new_date": new_date, "customer_confirmation_ref": f"FAX-{suffix}"},
    )
    assert (await order_view(stack, order_no))["due_date"] == new_date

    # P3: the BOM and drawings; then the customer asks for two sets more and will not pay.
    await complete_ok(stack, "engineering.release_bom", order_no, {"lines": two_level_bom(suffix)})
    view = await complete_ok(
        stack,
        "engineering.release_drawings",
        order_no,
        {"drawings": [{"number": f"DWG-{suffix}", "title": "general arrangement", "rev": "A"}]},
    )
    assert view["stage"] == "materials", view["stage"]
    held = await change_ok(
        stack,
        order_no,
        {"kind": "qty", "detail": "two sets more", "customer_confirmation_ref": "M-1", "qty": 8},
        202,
    )
    assert held["state"] == "awaiting_agreement", held
    await kinds.complete(
        sales,
        "sales.change_agreement",
        order_no,
        {"agreed": False, "comment": "the customer will not pay the surcharge"},
    )

    # P4-P6: both POs; one breaker of six rejected at incoming inspection: an NCR.
    start, required = production_start(view), milestones(view)["material_required"]
    bolts_po, breakers_po = await place_orders(
        stack, order_no, suffix, breaker_promised=required - timedelta(days=2)
    )
    bolt, breaker = f"BOLT-{suffix}", f"VS1-{suffix}"
    receipt = await receive_ok(
        stack, bolts_po, "Fastenal", [{"item": bolt, "qty_noted": 288, "qty_counted": 288}]
    )
    passed = [{"item": bolt, "qualified_qty": 288, "rejected_qty": 0}]
    await inspect(stack, order_no, receipt["lot_no"], passed)
    receipt = await receive_ok(
        stack, breakers_po, "Chint", [{"item": breaker, "qty_noted": SETS, "qty_counted": SETS}]
    )
    await inspect(
        stack,
        order_no,
        receipt["lot_no"],
        [{"item": breaker, "qualified_qty": 5, "rejected_qty": 1, "defect": "cracked housing"}],
    )
    await kinds.complete(
        quality,
        "quality.ncr_judgement",
        order_no,
        {"disposition": "return", "comment": "supplier replaces"},
    )
    await kinds.complete(
        planning,
        "planning.ncr_disposition",
        order_no,
        {"action": "new_arrival", "expected_date": (required - timedelta(days=1)).isoformat()},
    )
    receipt = await receive_ok(
        stack, breakers_po, "Chint", [{"item": breaker, "qty_noted": 1, "qty_counted": 1}]
    )
    passed = [{"item": breaker, "qualified_qty": 1, "rejected_qty": 0}]
    await inspect(stack, order_no, receipt["lot_no"], passed)

    # P7-P8: picked at the picking time; assembly opens at the production start.
    await advance_to(ts_env, start - timedelta(hours=4) + MARGIN)
    picked = await complete_ok(
        stack,
        "warehouse.picking",
        order_no,
        {"lines": [{"item": bolt, "qty_picked": 288}, {"item": breaker, "qty_picked": SETS}]},
    )
    assert picked["stage"] == "production", picked["stage"]
    await advance_to(ts_env, start + MARGIN)
    await wait_task(stack, "production.assembly", order_no)

    # P8.4: a design problem the process engineer confirms becomes a DCN (a drawing change).
    await _report_ok(
        stack,
        order_no,
        {"kind": "design_problem", "description": "the nameplate fouls the busbar", "items": []},
    )
    await kinds.complete(
        production,
        "production.confirm_issue",
        order_no,
        {"confirmed": True, "comment": "drawing clash"},
    )
    await kinds.complete(
        engineering,
        "engineering.design_change",
        order_no,
        {"dcn_no": f"DCN-{suffix}", "summary": "nameplate moved clear of the busbar"},
    )

    # A bought part missing in assembly: the planner finds it purchased, the buyer chases it.
    await _report_ok(
        stack,
        order_no,
        {
            "kind": "missing_part",
            "description": "nameplate not delivered",
            "items": [{"item": f"NAMEPLATE-{suffix}", "qty": 6}],
        },
    )
    await kinds.complete(
        planning,
        "planning.missing_part_analysis",
        order_no,
        {"cause": "purchased", "comment": "bought in, not yet delivered"},
    )
    today = (await ts_env.get_current_time()).date()
    await kinds.complete(
        procurement,
        "procurement.chase_supply",
        order_no,
        {"expected_date": (today + timedelta(days=3)).isoformat(), "comment": "ships Monday"},
    )

    # P9: the card signed; final inspection finds a defect, production corrects and signs it.
    card = {"operations": [{"name": "frame assembly", "signed_by": "op-1"}]}
    await complete_ok(stack, "production.assembly", order_no, card)
    await complete_ok(stack, "production.hand_over_documents", order_no, DOCUMENTS)
    await complete_ok(stack, "production.submit_inspection", order_no, {"missing_parts": []})
    await complete_ok(
        stack,
        "quality.final_inspection",
        order_no,
        {"passed": False, "defects": [{"description": "scratched door"}]},
    )
    correction = await wait_task(stack, "production.correct_defects", order_no)
    signed = [{"id": d["id"], "signed_by": "leader-zhou"} for d in correction["context"]["defects"]]
    await kinds.complete(production, "production.correct_defects", order_no, {"defects": signed})
    view = await complete_ok(stack, "quality.final_inspection", order_no, {"passed": True})
    assert view["stage"] == "delivery", view["stage"]

    # P2.6: in finished goods and not shipped, the weekly run asks sales for a ship date.
    await stack.client.get_workflow_handle(f"order-{order_no}").signal("ship_date_due")
    expected_ship = day(new_date) - timedelta(days=1)
    await kinds.complete(
        sales, "sales.ship_date", order_no, {"expected_ship": expected_ship.isoformat()}
    )

    assert sorted(kinds.done) == sorted(ORDER_KINDS), sorted(ORDER_KINDS - set(kinds.done))
    for desk in desks.values():
        desk.assert_clean_console()
