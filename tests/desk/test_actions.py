"""The desk's actions outside task forms (issue 14), over HTTP against a real gateway: a new
order taken in through the sales form starts its workflow, and a double submit of one form
makes one order; a bad line's problem is shown at its field; a customer change and a
cancellation with its cost; a receipt against a PO with its lines prefilled; a return; an
assembly issue reported from production; and the 403 page naming the role for the others."""

from __future__ import annotations

import html
import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, timedelta
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.testing import WorkflowEnvironment

from app.desk.i18n import MESSAGES
from tests.cancellation_drivers import _settle
from tests.conftest import Stack
from tests.helpers import wait_task
from tests.issue_drivers import _in_assembly
from tests.material_drivers import order_view, to_materials
from tests.test_receiving import _open_po

EN = MESSAGES["en"]
ENGLISH = {"Accept-Language": "en"}


@asynccontextmanager
async def _signed_in(stack: Stack, name: str, *roles: str) -> AsyncIterator[httpx.AsyncClient]:
    """A browser signed in at the desk as `name` with `roles` (English pages)."""
    base = str(stack.http.base_url)
    async with httpx.AsyncClient(base_url=base, headers=ENGLISH, timeout=60) as http:
        page = await http.get("/desk/sign-in")
        answer = await http.post(
            "/desk/sign-in",
            data={"csrf": _hidden(page, "csrf"), "name": name, "roles": list(roles)},
            follow_redirects=False,
        )
        assert answer.status_code == 303, answer.text
        yield http


def _hidden(page: httpx.Response, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', page.text)
    assert found, page.text[:800]
    return found.group(1)


def _problem(page: httpx.Response, path: str) -> str:
    """The problem the page shows at the field with API path `path` ('' when none)."""
    found = re.search(rf'<p class="problem" id="p-{path.replace(".", "-")}">([^<]*)</p>', page.text)
    return html.unescape(found.group(1)) if found else ""


def _order_form(page: httpx.Response, order_no: str, **overrides: str) -> dict[str, Any]:
    form: dict[str, Any] = {
        "csrf": _hidden(page, "csrf"),
        "idempotency_key": _hidden(page, "idempotency_key"),
        "order_no": order_no,
        "customer": "Huadian Power Equipment",
        "project_name": "10 kV switchgear line-up",
        "contract_no": "HT-2026-0412",
        "technical_agreement_ref": "TA-0412",
        "drawing_refs": "DWG-0412-01\nDWG-0412-02",
        "requested_date": (date.today() + timedelta(days=120)).isoformat(),
        "amount": "480000",
        "currency": "CNY",
        "priority": "high",
        "lines.0.item": "KYN28-12",
        "lines.0.description": "withdrawable switchgear",
        "lines.0.qty": "6",
        "lines.0.unit": "set",
        # A row the user added and left blank: not sent as a line.
        "lines.1.item": "",
        "lines.1.description": "",
        "lines.1.qty": "",
        "lines.2.item": "VS1-12",
        "lines.2.qty": "6",
        "lines.2.unit": "pcs",
    }
    form.update(overrides)
    return form


async def test_an_order_taken_in_at_the_desk_starts_its_workflow_once_per_form(
    stack: Stack,
) -> None:
    order_no = f"SO-D{uuid.uuid4().hex[:6]}"
    async with _signed_in(stack, "sam", "sales") as http:
        page = await http.get("/desk/sales/orders/new")
        assert page.status_code == 200
        for label in ("actions.order.order_no", "actions.line.qty", "actions.add_row"):
            assert html.escape(EN[label]) in page.text
        assert 'for="f-lines-0-qty"' in page.text and 'id="f-lines-0-qty"' in page.text
        assert "/desk/static/desk_rows.js" in page.text
        form = _order_form(page, order_no)

        forged = await http.post("/desk/sales/orders/new", data={**form, "csrf": "forged"})
        assert forged.status_code == 403 and EN["error.csrf"] in forged.text

        first = await http.post("/desk/sales/orders/new", data=form, follow_redirects=False)
        assert first.status_code == 303, first.text
        assert first.headers["location"] == f"/desk/orders/{order_no}"
        # The same form sent again (a double click, a resend): the same order, not a second.
        again = await http.post("/desk/sales/orders/new", data=form, follow_redirects=False)
        assert again.status_code == 303, again.text
        assert again.headers["location"] == f"/desk/orders/{order_no}"

        # A new form (a new key) for the same number is the API's duplicate: its sentence.
        fresh = await http.get("/desk/sales/orders/new")
        duplicate = await http.post("/desk/sales/orders/new", data=_order_form(fresh, order_no))
        assert duplicate.status_code == 409
        assert f"order {order_no} already exists" in duplicate.text

        # A change in contract review is refused by the API: its sentence on the form.
        change_page = await http.get(f"/desk/sales/orders/{order_no}/change")
        refused = await http.post(
            f"/desk/sales/orders/{order_no}/change",
            data={
                "csrf": _hidden(change_page, "csrf"),
                "idempotency_key": _hidden(change_page, "idempotency_key"),
                "kind": "date",
                "detail": "earlier please",
                "customer_confirmation_ref": "R-1",
                "new_date": (date.today() + timedelta(days=90)).isoformat(),
            },
        )
        assert refused.status_code == 409 and "contract review" in refused.text

    review = await wait_task(stack, "engineering.contract_review", order_no)
    assert review["order_no"] == order_no
    view = await order_view(stack, order_no)
    assert [(line["item"], line["unit"]) for line in view["lines"]] == [
        ("KYN28-12", "set"),
        ("VS1-12", "pcs"),
    ]
    assert view["drawing_refs"] == ["DWG-0412-01", "DWG-0412-02"]
    assert view["priority"] == "high"
    listed = await stack.http.get("/orders", headers=stack.token("ops", "ops"))
    assert [o["order_no"] for o in listed.json()].count(order_no) == 1


async def test_a_bad_line_is_shown_at_its_field_and_nothing_is_taken_in(stack: Stack) -> None:
    order_no = f"SO-B{uuid.uuid4().hex[:6]}"
    async with _signed_in(stack, "sam", "sales") as http:
        page = await http.get("/desk/sales/orders/new")
        # The blank second row is dropped, so the third row the user filled is line 1.
        bad = await http.post(
            "/desk/sales/orders/new",
            data=_order_form(page, order_no, **{"lines.2.qty": "-2", "customer": " "}),
        )
        assert bad.status_code == 422, bad.text
        assert "greater than 0" in _problem(bad, "lines.1.qty")
        assert _problem(bad, "customer")
        assert not _problem(bad, "lines.0.qty")
        assert 'aria-describedby="p-lines-1-qty"' in bad.text
        # The form keeps what was typed, and its key: fixing it and sending makes the order.
        assert 'value="-2"' in bad.text and 'value="VS1-12"' in bad.text
        fixed = _order_form(bad, order_no, **{"lines.2.qty": "2"})
        fixed.pop("lines.2.item"), fixed.pop("lines.2.qty"), fixed.pop("lines.2.unit")
        fixed.update({"lines.1.item": "VS1-12", "lines.1.qty": "2", "lines.1.unit": "pcs"})
        made = await http.post("/desk/sales/orders/new", data=fixed, follow_redirects=False)
        assert made.status_code == 303, made.text

        # A long order (more fields than a form parser takes by default) reaches the API, and
        # its problem is at the row the user sees.
        long = _order_form(page, f"{order_no}-L")
        for i in range(3, 300):
            long.update({f"lines.{i}.item": f"PART-{i}", f"lines.{i}.qty": "1"})
            long[f"lines.{i}.unit"] = "pcs" if i != 299 else "crates"
        refused_line = await http.post("/desk/sales/orders/new", data=long)
        assert refused_line.status_code == 422, refused_line.text[:300]
        assert "unknown unit 'crates'" in _problem(refused_line, "lines.298.unit")

        chinese = await http.get("/desk/sales/orders/new", headers={"Accept-Language": "zh-CN"})
        for label in ("actions.order.order_no", "actions.line.unit", "actions.priority.urgent"):
            assert MESSAGES["zh"][label] in chinese.text

    async with _signed_in(stack, "wang", "warehouse") as http:
        refused = await http.get("/desk/sales/orders/new")
        assert refused.status_code == 403
        assert EN["forbidden.missing"] in refused.text and "sales" in refused.text


async def test_a_customer_change_and_a_cancellation_show_their_answers(flow: Stack) -> None:
    order_no, view = await to_materials(flow, uuid.uuid4().hex[:6])
    later = date.fromisoformat(view["due_date"]) + timedelta(days=30)
    async with _signed_in(flow, "sam", "sales") as http:
        page = await http.get(f"/desk/sales/orders/{order_no}/change")
        assert page.status_code == 200
        form = {
            "csrf": _hidden(page, "csrf"),
            "idempotency_key": _hidden(page, "idempotency_key"),
            "kind": "date",
            "detail": "site not ready until spring",
            "customer_confirmation_ref": "",
            "new_date": later.isoformat(),
            # A value in a field of another kind is not sent with a date change.
            "qty": "9",
        }
        unconfirmed = await http.post(f"/desk/sales/orders/{order_no}/change", data=form)
        assert unconfirmed.status_code == 422
        assert "customer_confirmation_ref" in unconfirmed.text
        form["customer_confirmation_ref"] = "HD-LTR-2211"
        applied = await http.post(f"/desk/sales/orders/{order_no}/change", data=form)
        assert applied.status_code == 200, applied.text
        assert EN["actions.change.state.applied"] in applied.text
        assert (await order_view(flow, order_no))["due_date"] == later.isoformat()

        before = await http.get(f"/desk/sales/orders/{order_no}/cancel")
        assert before.status_code == 200
        assert EN["stage.materials"] in before.text
        assert html.escape(EN["actions.cancel.cost_note"]) in before.text
        assert (
            EN["actions.cancel.quote"] in before.text and EN["actions.cancel.total"] in before.text
        )
        csrf = _hidden(before, "csrf")
        blank = await http.post(
            f"/desk/sales/orders/{order_no}/cancel", data={"csrf": csrf, "reason": " "}
        )
        assert blank.status_code == 422 and _problem(blank, "reason")
        done = await http.post(
            f"/desk/sales/orders/{order_no}/cancel",
            data={"csrf": csrf, "reason": "project shelved by the customer"},
        )
        assert done.status_code == 200, done.text
        assert EN["actions.cancel.total"] in done.text and "CNY" in done.text
        assert EN["stage.materials"] in done.text
        # The order is `cancelled` once sales has recorded the fee agreed with the customer.
        await _settle(flow, order_no)
        again = await http.post(
            f"/desk/sales/orders/{order_no}/cancel", data={"csrf": csrf, "reason": "again"}
        )
        assert again.status_code == 409 and "already cancelled" in again.text
    assert (await order_view(flow, order_no))["status"] == "cancelled"


async def test_a_receipt_against_a_po_prefills_its_lines_and_shows_the_lot(
    stack: Stack, engine: AsyncEngine
) -> None:
    po_no, item = await _open_po(engine, qty=40)
    async with _signed_in(stack, "wang", "warehouse") as http:
        page = await http.get("/desk/warehouse/receipts/new", params={"po_no": po_no})
        assert page.status_code == 200, page.text
        assert f'value="{item}"' in page.text and 'value="Far East Cable"' in page.text
        assert 'name="lines.0.qty_noted" type="text" value="40"' in page.text
        form = {
            "csrf": _hidden(page, "csrf"),
            "po_no": po_no,
            "supplier": "Far East Cable",
            "delivery_note_no": f"DN-{uuid.uuid4().hex[:6]}",
            "lines.0.item": item,
            "lines.0.qty_noted": "40",
            "lines.0.qty_counted": "40",
            "lines.0.qty_damaged": "3",
            "lines.0.supplier_lot": "MT-2026-07",
        }
        wrong = await http.post(
            "/desk/warehouse/receipts/new", data={**form, "lines.0.qty_damaged": "41"}
        )
        assert wrong.status_code == 422 and "exceeds qty_counted" in _problem(wrong, "lines.0")
        booked = await http.post("/desk/warehouse/receipts/new", data=form)
        assert booked.status_code == 200, booked.text
        assert EN["actions.receipt.done"] in booked.text
        lot = re.search(r'<td class="lot">([^<]+)</td>', booked.text)
        assert lot and lot.group(1) != "—"
        assert ">37<" in booked.text or ">37.0000<" in booked.text
        # The PO's outstanding quantity is what the next receipt starts from.
        next_page = await http.get("/desk/warehouse/receipts/new", params={"po_no": po_no})
        assert 'name="lines.0.qty_noted" type="text" value="3"' in next_page.text
        unknown = await http.get("/desk/warehouse/receipts/new", params={"po_no": "PO-NOPE"})
        assert EN["actions.receipt.po_unknown"].format(po_no="PO-NOPE") in unknown.text

        returns = await http.get("/desk/warehouse/returns/new")
        assert returns.status_code == 200
        refused = await http.post(
            "/desk/warehouse/returns/new",
            data={
                "csrf": _hidden(returns, "csrf"),
                "idempotency_key": _hidden(returns, "idempotency_key"),
                "kind": "leftover",
                "order_no": "",
                "reason": "left over",
                "lines.0.item": item,
                "lines.0.qty": "1",
            },
        )
        assert refused.status_code == 422 and "order_no is required" in refused.text
        # Back from a customer: booked once however often the same form is sent.
        spare = {
            "csrf": _hidden(returns, "csrf"),
            "idempotency_key": _hidden(returns, "idempotency_key"),
            "kind": "aftersales",
            "order_no": "",
            "reason": "customer sent back a spare unused",
            "lines.0.item": item,
            "lines.0.qty": "2",
        }
        booked_returns = [
            await http.post("/desk/warehouse/returns/new", data=spare) for _ in range(2)
        ]
        numbers = set()
        for answer in booked_returns:
            assert answer.status_code == 200, answer.text
            assert EN["actions.return.done"] in answer.text
            numbers.add(re.findall(r"<h1>[^<]*· ([^<]+)</h1>", answer.text)[0].strip())
        assert len(numbers) == 1

    async with _signed_in(stack, "sam", "sales") as http:
        forbidden = await http.get("/desk/warehouse/receipts/new", params={"po_no": po_no})
        assert forbidden.status_code == 403 and "warehouse" in forbidden.text


async def test_an_assembly_issue_is_reported_from_the_desk(
    flow: Stack, ts_env: WorkflowEnvironment
) -> None:
    order_no, suffix = await _in_assembly(flow, ts_env)
    async with _signed_in(flow, "lead-wu", "production") as http:
        page = await http.get(f"/desk/production/orders/{order_no}/issues/new")
        assert page.status_code == 200
        assert html.escape(EN["actions.issue.kind.missing_part"]) in page.text
        form = {
            "csrf": _hidden(page, "csrf"),
            "kind": "design_problem",
            "severity": "normal",
            "description": "",
            "items.0.item": f"BOLT-{suffix}",
            "items.0.qty": "4",
        }
        empty = await http.post(f"/desk/production/orders/{order_no}/issues/new", data=form)
        assert empty.status_code == 422 and _problem(empty, "description")
        form["description"] = "bolts foul the frame; gaskets needed"
        reported = await http.post(
            f"/desk/production/orders/{order_no}/issues/new", data=form, follow_redirects=False
        )
        assert reported.status_code == 303, reported.text
        assert reported.headers["location"] == f"/desk/orders/{order_no}"
    issues = (await order_view(flow, order_no))["issues"]
    assert [(i["kind"], i["reported_by"]) for i in issues] == [("design_problem", "lead-wu")]

    async with _signed_in(flow, "sam", "sales") as http:
        refused = await http.get(f"/desk/production/orders/{order_no}/issues/new")
        assert refused.status_code == 403 and "production" in refused.text
