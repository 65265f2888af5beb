"""One order from intake to `closed` entirely at the desk, in Chromium: sales takes it in through
the new-order form, then each department at its own browser (all open at once, each signed in
through the sign-in page) opens its tasks from its inbox and completes them through their
generated forms, in the order the workflow opens them; the warehouse books the deliveries
through the receipt form. Only the clock is moved outside the browser: the time-skipping
server is advanced to the picking time and to the production start, as the API walks do
(tests/material_drivers.py). Each step is printed as it goes; the order page at the end shows
stage `closed` and is kept as a screenshot."""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from playwright.async_api import Locator
from temporalio.testing import WorkflowEnvironment

from app.desk.i18n import MESSAGES
from tests.conftest import Stack
from tests.desk.browser.conftest import Desk, DeskMaker
from tests.helpers import MARGIN, advance_to, order_body
from tests.material_drivers import (
    DOCUMENTS,
    SETS,
    SHIPPING_CHECKED,
    milestones,
    order_view,
    production_start,
    two_level_bom,
)

EN = MESSAGES["en"]
# How long an inbox is re-read for a task the workflow has yet to open.
TASK_WAIT = 15.0

Payload = dict[str, Any]
# A task's payload, or how to make it from the task's context (a date the task proposes).
PayloadOf = Payload | Callable[[dict[str, Any]], Payload]


class Walk:
    """The walk's clock and its step log: each step printed with the seconds since the start,
    so a failure's output says how far the order got."""

    def __init__(self) -> None:
        self.started = time.monotonic()

    def step(self, who: str, what: str) -> None:
        print(f"[{time.monotonic() - self.started:5.1f}s] {who}: {what}", flush=True)


def _text(value: Any) -> str:
    """A payload value as its input holds it (a yes/no select holds `true`/`false`)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


async def set_field(form: Locator, name: str, value: Any) -> None:
    """Give the input named `name` the value, as a user would with that kind of input."""
    control = form.locator(f'[name="{name}"]')
    tag, kind = await control.evaluate("e => [e.tagName, e.type]")
    if tag == "SELECT":
        await control.select_option(_text(value))
    elif kind == "checkbox":
        await control.set_checked(bool(value))
    elif isinstance(value, list):  # a list of texts: one per line of its textarea
        await control.fill("\n".join(_text(v) for v in value))
    else:
        await control.fill(_text(value))


async def row_indices(form: Locator, path: str) -> list[str]:
    """The indices of the rows the list at `path` shows, in the order they are shown (rows
    added after one was removed keep their own numbers, so the n-th row is not `path.n`)."""
    found: list[str] = await form.evaluate(
        """(form, path) => {
            const seen = [];
            for (const el of form.querySelectorAll("[name]")) {
                const name = el.getAttribute("name");
                if (!name.startsWith(path + ".")) continue;
                const index = name.slice(path.length + 1).split(".")[0];
                if (/^\\d+$/.test(index) && !seen.includes(index)) seen.push(index);
            }
            return seen;
        }""",
        path,
    )
    return found


async def fill_rows(form: Locator, path: str, rows: list[Payload]) -> None:
    """One row of the list at `path` per payload row: "add a row" clicked until there are
    enough, rows the payload does not have left blank (a blank row is no entry)."""
    indices = await row_indices(form, path)
    add = form.locator(f'[data-rows="{path}"] > [data-add-row]')
    while len(indices) < len(rows):
        await add.click()
        grown = await row_indices(form, path)
        assert len(grown) > len(indices), f"'add a row' added no row to {path}"
        indices = grown
    for index, row in zip(indices, rows, strict=False):
        await fill(form, f"{path}.{index}", row)
    for index in indices[len(rows) :]:
        names: list[str] = await form.evaluate(
            "(form, prefix) => [...form.querySelectorAll('[name]')]"
            ".map(e => e.getAttribute('name')).filter(n => n.startsWith(prefix))",
            f"{path}.{index}.",
        )
        for name in names:
            await set_field(form, name, None)


async def fill(form: Locator, prefix: str, value: Any) -> None:
    """Fill the form from a payload (or part of one at `prefix`), by the inputs' names: the
    payload's dotted paths (`lines.0.item`)."""
    if isinstance(value, dict):
        for key, sub in value.items():
            await fill(form, f"{prefix}.{key}" if prefix else key, sub)
    elif isinstance(value, list) and (
        any(isinstance(v, dict) for v in value)
        or await form.locator(f'[data-rows="{prefix}"]').count()
    ):
        await fill_rows(form, prefix, value)
    elif value is not None:
        await set_field(form, prefix, value)


async def submit(desk: Desk, form: Locator) -> None:
    """Submit the form; a form drawn again (the API's 422) fails with the problems it shows."""
    page = desk.page
    async with page.expect_navigation() as navigation:
        await form.locator("button[type=submit]").click()
    answer = await navigation.value
    if answer is None or answer.status >= 400:
        shown = await page.locator("main .problem, main [role=alert]").all_inner_texts()
        raise AssertionError(f"{page.url}: {answer and answer.status} {shown}")


async def open_task(desk: Desk, dept: str, kind: str, order_no: str) -> str:
    """Open the order's task of `kind` from the department's inbox (re-read until the workflow
    has opened it); returns the task's id."""
    page = desk.page
    inbox = f"/desk/inbox/{dept}?" + urlencode({"order_no": order_no, "kind": kind})
    link = page.locator(f'main a[href^="/desk/tasks/{dept}/"]').first
    deadline = time.monotonic() + TASK_WAIT
    await desk.open(inbox)
    while not await link.count():
        assert time.monotonic() < deadline, f"no open {kind} for {order_no} in the {dept} inbox"
        await asyncio.sleep(0.1)
        await desk.open(inbox)
    await link.click()
    await page.wait_for_url(re.compile(rf"/desk/tasks/{dept}/[^/?]+$"))
    return page.url.rsplit("/", 1)[1]


async def task_context(stack: Stack, dept: str, task_id: str) -> dict[str, Any]:
    """What the task was opened with (read through the API: a date to agree to, a lot)."""
    answer = await stack.http.get(f"/{dept}/tasks/{task_id}", headers=stack.token("ops-bot", "ops"))
    assert answer.status_code == 200, answer.text
    return dict(answer.json()["context"])


async def complete_at_desk(
    walk: Walk,
    stack: Stack,
    desk: Desk,
    kind: str,
    order_no: str,
    payload: PayloadOf,
) -> None:
    """Complete the order's open task of `kind` through its form at the desk: opened from the
    inbox, filled from the payload, submitted, landing on the order page."""
    dept = kind.split(".")[0]
    task_id = await open_task(desk, dept, kind, order_no)
    if callable(payload):
        payload = payload(await task_context(stack, dept, task_id))
    walk.step(dept, f"{kind} {payload}")
    form = desk.page.locator("main form[method=post]")
    await fill(form, "", payload)
    await submit(desk, form)
    assert re.search(rf"/desk/orders/{re.escape(order_no)}\?done=", desk.page.url), desk.page.url


async def receive_at_desk(walk: Walk, desk: Desk, po_no: str, note: str) -> str:
    """Book the PO's delivery through the receipt form (its outstanding lines prefilled);
    returns the inspection lot the receipt opened."""
    walk.step("warehouse", f"receipt of {po_no}")
    await desk.open("/desk/warehouse/receipts/new?" + urlencode({"po_no": po_no}))
    form = desk.page.locator("main form[method=post]")
    await fill(form, "", {"delivery_note_no": note})
    await submit(desk, form)
    await desk.page.get_by_role("heading", name=re.compile(EN["actions.receipt.done"])).wait_for()
    lot = (await desk.page.locator("td.lot").inner_text()).strip()
    assert lot and lot != "—", f"the receipt of {po_no} opened no inspection lot"
    return lot


async def stage_shown(desk: Desk, order_no: str, stage: str) -> None:
    """The order page shows `stage` as the current one (re-read while the workflow ends)."""
    current = desk.page.locator('ol.stages [aria-current="step"]')
    deadline = time.monotonic() + TASK_WAIT
    while True:
        await desk.open(f"/desk/orders/{order_no}")
        shown = await current.inner_text()
        if shown == EN[f"stage.{stage}"]:
            return
        assert time.monotonic() < deadline, f"{order_no} shows stage {shown!r}, not {stage}"
        await asyncio.sleep(0.1)


async def test_one_order_from_intake_to_closed_at_the_desk(
    new_desk: DeskMaker, stack: Stack, ts_env: WorkflowEnvironment
) -> None:
    walk = Walk()
    suffix = uuid.uuid4().hex[:6].upper()
    people = {
        "sales": ("sam", "sales"),
        "engineering": ("erin", "engineering"),
        "procurement": ("pei", "procurement", "division"),
        "planning": ("pia", "planning"),
        "warehouse": ("wang", "warehouse"),
        "quality": ("lin", "quality"),
        "production": ("zhou", "production"),
        "aftersales": ("ada", "aftersales"),
    }
    desks = {dept: await new_desk() for dept in people}
    # Every department at its own browser, all signed in at once.
    await asyncio.gather(*(desks[d].sign_in(*who) for d, who in people.items()))
    walk.step("desk", f"{len(desks)} browsers signed in: {', '.join(desks)}")
    sales, engineering, procurement = desks["sales"], desks["engineering"], desks["procurement"]
    planning, warehouse, quality = desks["planning"], desks["warehouse"], desks["quality"]
    production, aftersales = desks["production"], desks["aftersales"]

    async def done(desk: Desk, kind: str, payload: PayloadOf) -> None:
        await complete_at_desk(walk, stack, desk, kind, order_no, payload)

    # Intake through the new-order form.
    body = order_body(f"WALK-{suffix}")
    order_no = str(body["order_no"])
    walk.step("sales", f"new order {order_no}")
    await sales.open("/desk/sales/orders/new")
    form = sales.page.locator("main form[method=post]")
    await fill(form, "", body)
    await submit(sales, form)
    assert sales.page.url.endswith(f"/desk/orders/{order_no}"), sales.page.url

    # P1: engineering and procurement review at the same time, at two browsers.
    await asyncio.gather(
        done(engineering, "engineering.contract_review", {"ok": True, "design_days": 10}),
        done(
            procurement,
            "procurement.lead_time_review",
            {"lead_days": 30, "critical_items": ["VS1 breaker"]},
        ),
    )
    await done(
        planning,
        "planning.delivery_review",
        lambda context: {"delivery_date": context["proposed_date"]},
    )
    await done(sales, "sales.confirm_delivery", {"accepted": True})

    # P2-P3: the proposed plan, the BOM (a special breaker, a special process) and drawings.
    await done(planning, "planning.master_plan", {"accept_proposal": True})
    await done(
        engineering,
        "engineering.release_bom",
        {"lines": two_level_bom(suffix), "special_operations": ["welding"]},
    )
    await done(
        engineering,
        "engineering.release_drawings",
        {"drawings": [{"number": f"DWG-{suffix}", "title": "general arrangement", "rev": "A"}]},
    )

    # P4: the bolts' PO, the division's approval of the special breaker, the breakers' PO.
    view = await order_view(stack, order_no)
    required = milestones(view)["material_required"]
    bolt, breaker = f"BOLT-{suffix}", f"VS1-{suffix}"
    pos = {bolt: (f"PO-B-{suffix}", "Fastenal", 288), breaker: (f"PO-V-{suffix}", "Chint", SETS)}

    def purchase(context: dict[str, Any]) -> Payload:
        po_no, supplier, _ = pos[context["item"]]
        return {
            "supplier": supplier,
            "promised_date": (required - timedelta(days=5)).isoformat(),
            "po_no": po_no,
        }

    await done(procurement, "procurement.place_po", purchase)
    await done(
        procurement,
        "procurement.special_approval",
        {"approved": True, "comment": "single source"},
    )
    await done(procurement, "procurement.place_po", purchase)

    # P5-P6: each delivery booked at the warehouse's browser, its lot inspected at quality's.
    for item, (po_no, _, qty) in pos.items():
        lot = await receive_at_desk(walk, warehouse, po_no, f"DN-{po_no}")
        walk.step("quality", f"lot {lot}")
        await done(
            quality,
            "quality.incoming_inspection",
            {"lines": [{"item": item, "qualified_qty": qty, "rejected_qty": 0}]},
        )

    # P7: picking opens four hours before the production start; the clock is moved there.
    start = production_start(view)
    walk.step("clock", f"to the picking time, {start - timedelta(hours=4)}")
    await advance_to(ts_env, start - timedelta(hours=4) + MARGIN)
    await done(
        warehouse,
        "warehouse.picking",
        {"lines": [{"item": bolt, "qty_picked": 288}, {"item": breaker, "qty_picked": SETS}]},
    )

    # P8: the work order starts on its planned date; the card, the special process confirmed.
    walk.step("clock", f"to the production start, {start}")
    await advance_to(ts_env, start + MARGIN)
    await done(
        production,
        "production.assembly",
        {
            "operations": [
                {"name": "welding", "signed_by": "op-2"},
                {"name": "frame assembly", "signed_by": "op-1"},
            ]
        },
    )
    await done(quality, "quality.process_confirmation", {"operation": "welding", "confirmed": True})

    # P9-P10: final inspection, shipping, delivery, commissioning, settlement, evaluation.
    await done(production, "production.hand_over_documents", DOCUMENTS)
    await done(production, "production.submit_inspection", {"missing_parts": []})
    await done(quality, "quality.final_inspection", {"passed": True})
    await done(sales, "sales.shipping_check", SHIPPING_CHECKED)
    await done(
        sales, "sales.ship", {"carrier": "Deppon", "mode": "road", "tracking_no": f"DP-{suffix}"}
    )
    today = (await ts_env.get_current_time()).date().isoformat()
    await done(sales, "sales.delivery_confirmed", {"received_on": today})
    await done(
        aftersales,
        "aftersales.commissioning",
        {"installed": True, "trained": True, "power_on_ok": True, "notes": "accepted"},
    )
    await done(sales, "sales.settlement", {"invoice_no": f"INV-{suffix}", "amount_paid": 480000})
    await done(sales, "sales.evaluation", {"satisfaction": 5, "lessons": "none"})

    await stage_shown(sales, order_no, "closed")
    walk.step("sales", f"{order_no} closed")
    await sales.shot("walk-closed")
    for desk in desks.values():
        desk.assert_clean_console()
