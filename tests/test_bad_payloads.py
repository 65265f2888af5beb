"""The twelve payloads of issue 11 that used to pass the API and break the order for good.

Each is now a 422 at the API with a sentence naming the field, the task stays open in the
inbox and in the workflow, and a valid completion of the same task afterwards moves the order
on. One stack and two orders serve the whole module (one at review, one walked to the
engineering release and on to purchasing), so the cases of one task run in order against it:
each case refuses its payload, and the last case of a task completes it validly.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from shared.payloads import DeliveryReview
from shared.settings import Settings
from shared.temporal import ensure_search_attributes
from tests.conftest import BIN, THRESHOLD, Databases, Stack, run_stack, settings_for
from tests.drivers import inbox, to_master_plan
from tests.helpers import complete_ok, create_order, order_body, wait_task
from tests.material_drivers import milestones, order_view, two_level_bom

FAR = "9999-12-31"
NUL = "\x00"


@dataclass
class Shared:
    stack: Stack
    review_order: str
    release_order: str


@pytest.fixture(scope="module")
async def shared(databases: Databases, home: Path) -> AsyncIterator[Shared]:
    """One stack for the module, an order at review and one at the engineering release."""
    name = await databases.take()
    base = Settings(
        env="test",
        home=home,
        database_url=databases.url(name),
        jwt_key="test-signing-key-" + "x" * 32,
        webhook_secret="test-webhook-secret",
        # The walks here play no finance role: the order audit (issue 16) is off for them.
        order_audit=False,
    )
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=pydantic_data_converter,
        test_server_existing_path=str(BIN / "temporal-test-server"),
    )
    await ensure_search_attributes(env.client)
    try:
        settings = settings_for(base, approval_threshold=THRESHOLD)
        async with run_stack(settings, env.client) as stack:
            review_order = await create_order(stack)
            release_order = await create_order(stack)
            await to_master_plan(stack, release_order)
            await complete_ok(
                stack, "planning.master_plan", release_order, {"accept_proposal": True}
            )
            yield Shared(stack, review_order, release_order)
    finally:
        await env.shutdown()
        databases.drop(name)


Valid = Callable[[Stack, str], Awaitable[dict[str, Any]]]


def fixed(payload: dict[str, Any]) -> Valid:
    async def build(_: Stack, __: str) -> dict[str, Any]:
        return payload

    return build


async def proposed_date(stack: Stack, order_no: str) -> dict[str, Any]:
    task = await wait_task(stack, "planning.delivery_review", order_no)
    return {"delivery_date": task["context"]["proposed_date"]}


async def bolts_po(stack: Stack, order_no: str) -> dict[str, Any]:
    required = milestones(await order_view(stack, order_no))["material_required"]
    promised = (required - timedelta(days=5)).isoformat()
    return {"supplier": "Fastenal", "promised_date": promised, "po_no": "PO-BOUNDS-1"}


BOM = two_level_bom("bounds")
DRAWING = {"number": "DWG-BOUNDS", "title": "general arrangement", "rev": "A"}


# One refused payload: the task it goes to, what is sent, what the answer must name, and for
# the last case of a task the valid completion that must then move the order.
@dataclass(frozen=True)
class Case:
    id: str
    order: str  # "review" or "release"
    kind: str
    payload: dict[str, Any]
    names: tuple[str, ...]
    then: Valid | None = None
    moved_to: str | None = None


CASES = [
    Case(
        "review-issues-nul",
        "review",
        "engineering.contract_review",
        {"ok": False, "design_days": 0, "issues": [f"busbar{NUL}rating"]},
        ("issues.0", "control characters"),
        # Not ok with issues: the review goes round again, so the next case has a task too.
        fixed({"ok": False, "design_days": 0, "issues": ["busbar rating missing"]}),
        "engineering.contract_review",
    ),
    Case(
        "review-extra-field-1mb",
        "review",
        "engineering.contract_review",
        {"ok": True, "design_days": 8, "attachment": "x" * 1_000_000},
        ("attachment", "extra fields"),
        fixed({"ok": True, "design_days": 8}),
    ),
    Case(
        "lead-days-1e12",
        "review",
        "procurement.lead_time_review",
        {"lead_days": 10**12, "critical_items": []},
        ("lead_days", "less than or equal to 3650"),
        fixed({"lead_days": 30, "critical_items": ["VS1 breaker"]}),
        "planning.delivery_review",
    ),
    Case(
        "delivery-date-9999",
        "review",
        "planning.delivery_review",
        {"delivery_date": FAR},
        ("delivery_date", "must not be after"),
        proposed_date,
        "sales.confirm_delivery",
    ),
    Case(
        "bom-qty-per-1e-9",
        "release",
        "engineering.release_bom",
        {"lines": [*BOM[:3], {**BOM[3], "qty_per": 1e-9}]},
        ("lines.3.qty_per", "at most 4 decimal places"),
        fixed({"lines": BOM}),
        "engineering.release_drawings",
    ),
    Case(
        "drawing-number-65",
        "release",
        "engineering.release_drawings",
        {"drawings": [{**DRAWING, "number": "D" * 65}]},
        ("drawings.0.number", "at most 64 characters"),
    ),
    Case(
        "drawing-rev-17",
        "release",
        "engineering.release_drawings",
        {"drawings": [{**DRAWING, "rev": "R" * 17}]},
        ("drawings.0.rev", "at most 16 characters"),
        fixed({"drawings": [DRAWING]}),
        "procurement.place_po",
    ),
    Case(
        "po-no-65",
        "release",
        "procurement.place_po",
        {"supplier": "Fastenal", "promised_date": "2030-01-01", "po_no": "P" * 65},
        ("po_no", "at most 64 characters"),
    ),
    Case(
        "unit-price-1e300",
        "release",
        "procurement.place_po",
        {"supplier": "Fastenal", "promised_date": "2030-01-01", "unit_price": 1e300},
        ("unit_price", "less than 10^14"),
    ),
    Case(
        "unit-price-infinity",
        "release",
        "procurement.place_po",
        {"supplier": "Fastenal", "promised_date": "2030-01-01", "unit_price": float("inf")},
        ("unit_price", "finite number"),
    ),
    Case(
        "promised-date-9999",
        "release",
        "procurement.place_po",
        {"supplier": "Fastenal", "promised_date": FAR},
        ("promised_date", "must not be after"),
        bolts_po,
        "procurement.special_approval",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
async def test_a_bad_payload_is_422_and_the_order_still_moves(shared: Shared, case: Case) -> None:
    stack = shared.stack
    order_no = shared.review_order if case.order == "review" else shared.release_order
    task = await wait_task(stack, case.kind, order_no)
    dept = case.kind.split(".")[0]
    # Sent as Python's json writes it: `Infinity` is no JSON a strict client would send.
    response = await stack.http.post(
        f"/{dept}/tasks/{task['task_id']}/complete",
        content=json.dumps(case.payload),
        headers={**stack.token("worker-1", dept), "Content-Type": "application/json"},
    )
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["error"] == "invalid_payload"
    for name in case.names:
        assert name in body["detail"], body["detail"]
    assert [t["task_id"] for t in await inbox(stack, case.kind, order_no, "open")] == [
        task["task_id"]
    ]
    if case.then is None:
        return
    view = await complete_ok(stack, case.kind, order_no, await case.then(stack, order_no))
    assert view["status"] == "active"
    done = [t for t in await inbox(stack, case.kind, order_no) if t["task_id"] == task["task_id"]]
    assert done[0]["state"] == "done"
    if case.moved_to:
        await wait_task(stack, case.moved_to, order_no)


@pytest.mark.parametrize(
    ("field", "value", "names"),
    [
        ("customer", f"Huadian{NUL}Power", ("customer", "control characters")),
        ("lines", None, ("lines.0.description", "control characters")),
        ("requested_date", FAR, ("requested_date", "must not be after")),
    ],
    ids=["customer-nul", "line-description-nul", "requested-date-9999"],
)
async def test_a_bad_intake_is_422_and_a_good_one_is_taken(
    shared: Shared, field: str, value: Any, names: tuple[str, ...]
) -> None:
    stack = shared.stack
    headers = stack.token("sam", "sales")
    body = order_body()
    if field == "lines":
        body["lines"] = [{**body["lines"][0], "description": f"withdrawable{NUL}switchgear"}]
    else:
        body[field] = value
    response = await stack.http.post("/sales/orders", json=body, headers=headers)
    assert response.status_code == 422, response.text
    answer = response.json()
    assert answer["error"] == "invalid_request"
    for name in names:
        assert name in answer["detail"], answer["detail"]
    assert (await stack.http.get(f"/orders/{body['order_no']}", headers=headers)).status_code == 404
    good = order_body(body["order_no"])
    assert (await stack.http.post("/sales/orders", json=good, headers=headers)).status_code == 201
    await wait_task(stack, "engineering.contract_review", body["order_no"])


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/sales/tasks", {"order_no": f"SO{NUL}"}),
        ("/sales/tasks", {"kind": f"sales.ship{NUL}"}),
        ("/orders", {"customer": f"Hua{NUL}dian"}),
        ("/orders/{order_no}%00", {}),
        ("/orders/" + "9" * 65, {}),
        ("/sales/tasks", {"order_no": "9" * 65}),
    ],
    ids=["order_no-nul", "kind-nul", "customer-nul", "path-nul", "path-65", "order_no-65"],
)
async def test_bad_query_and_path_parameters_are_422_and_the_order_still_reads(
    shared: Shared, path: str, params: dict[str, str]
) -> None:
    stack = shared.stack
    headers = stack.token("ops-bot", "ops")
    order_no = shared.review_order
    response = await stack.http.get(path.format(order_no=order_no), params=params, headers=headers)
    assert response.status_code == 422, response.text
    assert response.json()["error"] in ("invalid_request", "invalid_payload")
    assert (await stack.http.get(f"/orders/{order_no}", headers=headers)).status_code == 200
    clean = await stack.http.get("/sales/tasks", params={"order_no": order_no}, headers=headers)
    assert clean.status_code == 200


def test_the_far_date_bound_is_today_plus_twenty_years() -> None:
    """Just inside the horizon is accepted, a day past it refused; the workflow keeps only the
    fixed outer horizon (no clock in a validator it runs)."""
    today = date.today()
    inside = today.replace(year=today.year + 20) if (today.month, today.day) != (2, 29) else today
    DeliveryReview.parse({"delivery_date": inside.isoformat()}, today=today)
    with pytest.raises(ValueError, match="must not be after"):
        DeliveryReview.parse(
            {"delivery_date": (inside + timedelta(days=1)).isoformat()}, today=today
        )
    DeliveryReview.parse({"delivery_date": (inside + timedelta(days=1)).isoformat()})
    with pytest.raises(ValueError, match="must not be after 2199-12-31"):
        DeliveryReview.parse({"delivery_date": FAR})
