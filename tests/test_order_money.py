"""The order's money (issue 16) on the time-skipping server through the public API: finance's
order audit at intake, management approval forced by the credit limit or a missing deposit and
refused to who took the order in (four eyes), the deposit holding the release to planning until
it is paid, payments and the receivables with their ageing, and a short settlement kept in
`closing` with a collection task and a reminder until the rest is paid."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from temporalio.testing import WorkflowEnvironment

from tests.conftest import THRESHOLD, Stack, run_stack, settings_for
from tests.drivers import propose_and_plan_date, technical_and_lead_time
from tests.helpers import (
    MARGIN,
    advance_to,
    complete,
    complete_ok,
    order_body,
    wait_task,
)
from tests.material_drivers import (
    DOCUMENTS,
    buy_and_pick,
    order_view,
    production_start,
    ship,
    two_level_bom,
)
from workflows.common import end_of_day

FINANCE = ("finance",)


@pytest.fixture
async def money(base_settings: Any, ts_env: WorkflowEnvironment) -> AsyncIterator[Stack]:
    """The time-skipping stack with the order audit on (finance audits) and the `flow`
    stack's approval threshold."""
    settings = settings_for(base_settings, approval_threshold=THRESHOLD, order_audit=True)
    async with run_stack(settings, ts_env.client) as stack:
        yield stack


async def _take_in(stack: Stack, **fields: Any) -> str:
    body = order_body(**fields)
    response = await stack.http.post(
        "/sales/orders", json=body, headers=stack.token("sam", "sales")
    )
    assert response.status_code == 201, response.text
    return str(body["order_no"])


async def _pay(
    stack: Stack, order_no: str, amount: int, reference: str, on: date | None = None
) -> Any:
    return await stack.http.post(
        f"/sales/orders/{order_no}/payments",
        json={"amount": amount, "date": (on or date.today()).isoformat(), "reference": reference},
        headers=stack.token("fin-wu", *FINANCE),
    )


async def _receivables(stack: Stack, order_no: str, as_of: date | None = None) -> dict[str, Any]:
    params = {"order_no": order_no, **({"as_of": as_of.isoformat()} if as_of else {})}
    response = await stack.http.get(
        "/sales/receivables", params=params, headers=stack.token("fin-wu", *FINANCE)
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def _kinds(view: dict[str, Any]) -> list[str]:
    return [task["kind"] for task in view["open_tasks"]]


async def test_audit_by_finance_forced_approval_and_four_eyes(money: Stack) -> None:
    # Below the approval threshold, but above the customer's credit limit and with no deposit.
    order_no = await _take_in(
        money,
        payment_terms={"deposit_pct": 0, "progress": [{"stage": "delivery", "pct": 50}]},
        credit_limit=200000,
        customer_qualification="business licence checked; rating B",
    )
    audit = await wait_task(money, "sales.order_audit", order_no)
    assert audit["context"]["terms"]["credit_limit"] == "200000"
    assert len(audit["context"]["approval_reasons"]) == 2
    verdict = {"customer_qualified": True, "terms_ok": True, "comment": "credit per contract"}
    # Finance audits: neither sales nor, in a plant with finance, the sales head.
    assert (await complete(money, "sales.order_audit", order_no, verdict)).status_code == 403
    head = await complete(money, "sales.order_audit", order_no, verdict, roles=("head:sales",))
    assert head.status_code == 403 and "finance" in head.json()["detail"], head.text
    await complete_ok(money, "sales.order_audit", order_no, verdict, roles=FINANCE)

    await technical_and_lead_time(money, order_no)
    await propose_and_plan_date(money, order_no)
    approval = await wait_task(money, "sales.management_approval", order_no)
    assert "credit limit" in " ".join(approval["context"]["approval_reasons"])
    assert approval["context"]["taken_in_by"] == "sam"
    # Four eyes: sam took the order in, so sam may not approve it, even as the sales head.
    own = await complete(
        money, "sales.management_approval", order_no, {"approved": True}, sub="sam"
    )
    assert own.status_code == 409 and own.json()["error"] == "four_eyes", own.text
    await complete_ok(
        money, "sales.management_approval", order_no, {"approved": True}, sub="head-zhao"
    )
    view = await complete_ok(money, "sales.confirm_delivery", order_no, {"accepted": True})
    # No deposit term: nothing holds the release.
    assert view["stage"] == "planning", view["stage"]

    # The plan: no deposit, 50 % at delivery, the plant's 5 % retention, the rest at acceptance.
    [row] = (await _receivables(money, order_no))["orders"]
    plan = {i["kind"]: Decimal(i["amount"]) for i in row["instalments"]}
    assert plan == {
        "progress": Decimal(240000),
        "final": Decimal(216000),
        "retention": Decimal(24000),
    }
    assert Decimal(row["due"]) == 0 and Decimal(row["outstanding"]) == 480000

    # An intake without terms (as before the audit) gets the plant's: 30 % deposit, 5 %
    # retention, no credit limit; nothing forces approval.
    plain = await _take_in(money)
    audit = await wait_task(money, "sales.order_audit", plain)
    assert audit["context"]["approval_reasons"] == []
    [row] = (await _receivables(money, plain))["orders"]
    plan = {i["kind"]: (Decimal(i["amount"]), i["bucket"]) for i in row["instalments"]}
    assert plan == {
        "deposit": (Decimal(144000), "not_due"),
        "final": (Decimal(312000), "not_due"),
        "retention": (Decimal(24000), "not_due"),
    }


async def test_deposit_gate_receivables_short_settlement_and_close(
    money: Stack, ts_env: WorkflowEnvironment
) -> None:
    suffix = uuid.uuid4().hex[:6]
    terms = {
        "deposit_pct": 30,
        "progress": [{"stage": "delivery", "pct": 30}],
        "retention_pct": 10,
        "credit_days": 30,
        "deposit_before_release": True,
    }
    order_no = await _take_in(money, payment_terms=terms, credit_limit=1000000)
    verdict = {"customer_qualified": True, "terms_ok": True}
    await complete_ok(money, "sales.order_audit", order_no, verdict, roles=FINANCE)
    await technical_and_lead_time(money, order_no)
    await propose_and_plan_date(money, order_no)
    # Confirmed, but held in review until the deposit (30 % of 480 000) is in.
    view = await complete_ok(money, "sales.confirm_delivery", order_no, {"accepted": True})
    assert view["stage"] == "review" and "planning.master_plan" not in _kinds(view)
    chase = await wait_task(money, "sales.collect_payment", order_no)
    assert chase["context"]["outstanding"] == "144000.00", chase["context"]

    assert (await _pay(money, order_no, 100000, "BANK-1")).status_code == 201
    again = await _pay(money, order_no, 100000, "BANK-1")
    assert again.status_code == 200 and again.json()["paid_total"] == "100000.00", again.text
    other = await _pay(money, order_no, 90000, "BANK-1")
    assert other.status_code == 409 and other.json()["error"] == "duplicate_payment"
    ahead = await _pay(money, order_no, 1, "BANK-X", on=date.today() + timedelta(days=2))
    assert ahead.status_code == 422, ahead.text
    assert (await _pay(money, order_no, 900000, "BANK-Y")).json()["error"] == "overpayment"
    assert "planning.master_plan" not in _kinds(await order_view(money, order_no))
    assert (await _pay(money, order_no, 44000, "BANK-2")).status_code == 201
    await wait_task(money, "planning.master_plan", order_no)
    view = await order_view(money, order_no)
    assert view["stage"] == "planning" and "sales.collect_payment" not in _kinds(view)
    assert {"awaiting_deposit", "deposit_paid"} <= {e["kind"] for e in view["timeline"]}

    # Through plan, materials, production and final inspection to delivery and acceptance.
    await complete_ok(money, "planning.master_plan", order_no, {"accept_proposal": True})
    await complete_ok(money, "engineering.release_bom", order_no, {"lines": two_level_bom(suffix)})
    view = await complete_ok(
        money,
        "engineering.release_drawings",
        order_no,
        {"drawings": [{"number": f"DWG-{suffix}", "title": "general arrangement", "rev": "A"}]},
    )
    view = await buy_and_pick(money, ts_env, order_no, suffix, view)
    await advance_to(ts_env, production_start(view) + MARGIN)
    card = {"operations": [{"name": "frame assembly", "signed_by": "op-1"}]}
    await complete_ok(money, "production.assembly", order_no, card)
    await complete_ok(money, "production.hand_over_documents", order_no, DOCUMENTS)
    await complete_ok(money, "production.submit_inspection", order_no, {"missing_parts": []})
    await complete_ok(money, "quality.final_inspection", order_no, {"passed": True})
    await ship(money, order_no)
    today = (await ts_env.get_current_time()).date()
    await complete_ok(
        money, "sales.delivery_confirmed", order_no, {"received_on": today.isoformat()}
    )
    accepted = {"installed": True, "trained": True, "power_on_ok": True, "notes": "accepted"}
    await complete_ok(money, "aftersales.commissioning", order_no, accepted)

    # Settlement on the deposit alone: 144 000 of the 432 000 due (retention 48 000 comes
    # later); the order stays in closing with a collection task, not closed.
    settled = {"invoice_no": "INV-9", "amount_paid": 144000}
    view = await complete_ok(money, "sales.settlement", order_no, settled)
    chase = await wait_task(money, "sales.collect_payment", order_no)
    view = await order_view(money, order_no)
    assert view["stage"] == "closing" and view["status"] == "active"
    assert "sales.evaluation" not in _kinds(view)
    assert "short_payment" in {e["kind"] for e in view["timeline"]}
    assert chase["context"]["outstanding"] == "288000.00" and chase["context"]["reminder"] == 0

    # Receivables 40 days after the final payment fell due: progress and final overdue, the
    # retention not due yet.
    [row] = (await _receivables(money, order_no))["orders"]
    final = next(i for i in row["instalments"] if i["kind"] == "final")
    as_of = date.fromisoformat(final["due_on"]) + timedelta(days=40)
    answer = await _receivables(money, order_no, as_of)
    [row] = answer["orders"]
    rows = {i["kind"]: i for i in row["instalments"]}
    assert rows["deposit"]["bucket"] == "paid"
    assert rows["final"]["days_overdue"] == 40 and rows["final"]["bucket"] == "31-60"
    assert rows["progress"]["days_overdue"] >= 40 and rows["retention"]["bucket"] == "not_due"
    ageing = {k: Decimal(v) for k, v in answer["ageing"]["CNY"].items()}
    assert ageing["not_due"] == 48000 and sum(ageing.values()) == 336000
    assert Decimal(row["overdue"]) == 288000 and Decimal(row["paid"]) == 144000

    # The customer promises a date; it passes unpaid: a reminder and the next collection task.
    promised = today + timedelta(days=3)
    promise = {"promised_on": promised.isoformat(), "comment": "customer's CFO promised"}
    await complete_ok(money, "sales.collect_payment", order_no, promise)
    await advance_to(ts_env, end_of_day(promised) + MARGIN)
    reminder = await wait_task(money, "sales.collect_payment", order_no)
    assert reminder["context"]["reminder"] == 1, reminder["context"]
    view = await order_view(money, order_no)
    assert "payment_reminder" in {e["kind"] for e in view["timeline"]}

    # Paid in full (but the retention): the collection is withdrawn, evaluation closes it.
    assert (await _pay(money, order_no, 288000, "BANK-3")).status_code == 201
    await wait_task(money, "sales.evaluation", order_no)
    assert "sales.collect_payment" not in _kinds(await order_view(money, order_no))
    closed = await complete_ok(
        money, "sales.evaluation", order_no, {"satisfaction": 4, "lessons": "chase earlier"}
    )
    assert closed["status"] == "closed", closed["status"]
