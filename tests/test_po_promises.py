"""Buyers keep POs current (§4.7, §4.9) and raise requisitions by hand (§4.4, §4.10), on the
time-skipping stack through the public API: a moved promise past the required date warns the
planner and re-forecasts the order; each open PO line's watch asks the buyer to confirm its date
`po_confirm_days` working days before it; a pre-purchase needs the division, then is bought."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.testing import WorkflowEnvironment

from services.engineering.models import Item
from shared.settings import Settings
from shared.workflow_ids import promise_watch_workflow_id
from tests.conftest import Stack, run_stack, settings_for
from tests.helpers import advance_to, escalations, parse_time, wait_escalation
from tests.material_drivers import milestones, order_view, place_orders, receive, to_materials
from tests.plant_calendar import PLANT_CLOCKS, plant_calendar

CONFIRM = "procurement.confirm_promise"


@pytest.fixture(name="plant")
async def plant_stack(base_settings: Settings, ts_env: WorkflowEnvironment) -> AsyncIterator[Stack]:
    """A stack on the plant's working time (Shanghai shifts, MON-FRI, China's holidays)."""
    async with run_stack(settings_for(base_settings, **PLANT_CLOCKS), ts_env.client) as running:
        yield running


async def _item(engine: AsyncEngine, item: str) -> None:
    """A bought item in engineering's master, as a BOM release would add it."""
    async with engine.begin() as conn:
        await conn.execute(
            insert(Item).values(
                item=item,
                make_or_buy="buy",
                supplier="Fastenal",
                lead_days=7,
                special=False,
                safety_stock=Decimal(0),
                first_order_no="SO-seed",
                created_at=datetime.now(UTC),
            )
        )


async def _tasks(stack: Stack, kind: str, state: str = "open") -> list[dict[str, Any]]:
    dept = kind.split(".")[0]
    response = await stack.http.get(
        f"/{dept}/tasks",
        params={"kind": kind, "state": state},
        headers=stack.token("ops-bot", "ops"),
    )
    assert response.status_code == 200, response.text
    return list(response.json())


async def _wait(
    stack: Stack, kind: str, match: Callable[[dict[str, Any]], bool], state: str = "open"
) -> dict[str, Any]:
    """The first task of `kind` in `state` that `match`es, once its inbox lists it."""
    deadline = asyncio.get_running_loop().time() + 15
    while True:
        found = [t for t in await _tasks(stack, kind, state) if match(t)]
        if found:
            return found[0]
        assert asyncio.get_running_loop().time() < deadline, f"no {state} {kind}"
        await asyncio.sleep(0.05)


async def _complete(
    stack: Stack, task: dict[str, Any], payload: dict[str, Any], *roles: str
) -> dict[str, Any]:
    response = await stack.http.post(
        f"/procurement/tasks/{task['task_id']}/complete",
        json=payload,
        headers=stack.token("buyer-1", *roles),
    )
    return {"status": response.status_code, "body": response.json()}


async def _move(
    stack: Stack, po_no: str, body: dict[str, Any], *roles: str
) -> tuple[int, dict[str, Any]]:
    response = await stack.http.post(
        f"/procurement/purchase-orders/{po_no}/promise",
        json=body,
        headers=stack.token("buyer-1", *(roles or ("procurement",))),
    )
    return response.status_code, response.json()


async def _line(stack: Stack, po_no: str) -> dict[str, Any]:
    response = await stack.http.get(
        "/procurement/purchase-orders", headers=stack.token("ops-bot", "ops")
    )
    (po,) = [po for po in response.json() if po["po_no"] == po_no]
    return dict(po["lines"][0])


async def test_a_moved_promise_past_the_required_date_warns_and_reforecasts(
    flow: Stack,
) -> None:
    suffix = uuid.uuid4().hex[:6]
    order_no, view = await to_materials(flow, suffix)
    required = milestones(view)["material_required"]
    bolts_po, _ = await place_orders(
        flow, order_no, suffix, breaker_promised=required - timedelta(days=2)
    )
    assert (await _line(flow, bolts_po))["promised_date"] == str(required - timedelta(days=5))

    # Who may, which line, which date: clear refusals before anything moves.
    later = required + timedelta(days=7)
    body = {"line_no": 1, "promised_date": later.isoformat(), "reason": "supplier slipped"}
    assert (await _move(flow, bolts_po, body, "warehouse"))[0] == 403
    assert (await _move(flow, "PO-NO-SUCH", body))[0] == 404
    assert (await _move(flow, bolts_po, {**body, "line_no": 9}))[0] == 404
    status, refused = await _move(flow, bolts_po, {**body, "promised_date": str(date.today())})
    assert (status, refused["error"]) == (422, "invalid_promise")

    status, moved = await _move(flow, bolts_po, body)
    assert status == 200, moved
    assert (moved["line_no"], moved["previous"], moved["promised_date"], moved["late"]) == (
        1,
        str(required - timedelta(days=5)),
        later.isoformat(),
        True,
    )
    assert (await _line(flow, bolts_po))["promised_date"] == later.isoformat()
    # The planner is warned at once, and the order moves its forecast to the new date.
    warning = await wait_escalation(flow, order_no, lambda e: e["kind"] == "late_supply")
    assert warning["message"].startswith(f"{bolts_po}: BOLT-{suffix} now promised {later}")
    assert (warning["department"], warning["role"]) == ("planning", "planning")
    deadline = asyncio.get_running_loop().time() + 15
    while True:
        forecast = {
            m["name"]: m["forecast"] for m in (await order_view(flow, order_no))["milestones"]
        }
        if forecast["material_required"] == later.isoformat():
            break
        assert asyncio.get_running_loop().time() < deadline, forecast
        await asyncio.sleep(0.1)
    # Moved back before the required date: recorded, no new warning.
    status, moved = await _move(flow, bolts_po, {**body, "promised_date": str(required)})
    assert (status, moved["late"]) == (200, False)
    assert len([e for e in await escalations(flow, order_no) if e["kind"] == "late_supply"]) == 1


async def test_a_hand_requisition_needs_the_division_and_its_promise_is_confirmed(
    plant: Stack, engine: AsyncEngine, ts_env: WorkflowEnvironment
) -> None:
    item, po_no = f"PRE-{uuid.uuid4().hex[:8]}", f"PO-H-{uuid.uuid4().hex[:6]}"
    await _item(engine, item)
    buyer = plant.token("mc-1", "procurement")
    need = date.today() + timedelta(days=40)
    body = {"item": item, "qty": 20, "need_date": need.isoformat(), "reason": "pre_purchase"}
    post = plant.http.post
    assert (
        await post("/procurement/requisitions", json=body, headers=plant.token("s", "sales"))
    ).status_code == 403
    unknown = await post(
        "/procurement/requisitions", json={**body, "item": "NO-SUCH"}, headers=buyer
    )
    assert (unknown.status_code, unknown.json()["error"]) == (422, "unknown_item")
    created = await post("/procurement/requisitions", json=body, headers=buyer)
    assert created.status_code == 201, created.text
    key = created.json()["key"]
    assert (created.json()["reason"], created.json()["state"]) == ("pre_purchase", "open")

    # Like a special item, the division approves it (the head may not).
    approval = await _wait(
        plant, "procurement.special_approval", lambda t: t["context"]["key"] == key
    )
    assert (await _complete(plant, approval, {"approved": True}, "head:procurement"))[
        "status"
    ] == 403
    done = await _complete(plant, approval, {"approved": True, "comment": "ok"}, "division")
    assert done["status"] == 200, done
    place = await _wait(plant, "procurement.place_po", lambda t: t["context"]["key"] == key)
    assert place["context"]["required_date"] == need.isoformat()
    promised = date.today() + timedelta(days=21)
    placed = await _complete(
        plant,
        place,
        {"supplier": "Fastenal", "promised_date": str(promised), "po_no": po_no},
        "procurement",
    )
    assert placed["status"] == 200, placed
    assert (await _line(plant, po_no))["promised_date"] == promised.isoformat()

    # The watch asks `po_confirm_days` (3) working days before the date, due by its end.
    calendar = plant_calendar(plant.settings)
    ask_at = calendar.add_working(calendar.day_start(promised), -timedelta(days=3))
    is_ours: Callable[[dict[str, Any]], bool] = lambda t: t["context"]["po_no"] == po_no  # noqa: E731
    await advance_to(ts_env, ask_at - timedelta(minutes=30))
    assert not [t for t in await _tasks(plant, CONFIRM) if is_ours(t)]
    await advance_to(ts_env, ask_at + timedelta(minutes=1))
    confirm = await _wait(plant, CONFIRM, is_ours)
    assert confirm["context"]["promised_date"] == promised.isoformat()
    assert parse_time(confirm["created_at"]) >= ask_at
    assert parse_time(confirm["due_at"]) == calendar.day_end(promised)

    # Moving the date closes the question; the watch asks again before the new date.
    moved_to = promised + timedelta(days=7)
    status, moved = await _move(plant, po_no, {"line_no": 1, "promised_date": str(moved_to)})
    assert (status, moved["late"]) == (200, False)
    await _wait(
        plant, CONFIRM, lambda t: is_ours(t) and t["task_id"] == confirm["task_id"], "withdrawn"
    )
    again_at = calendar.add_working(calendar.day_start(moved_to), -timedelta(days=3))
    await advance_to(ts_env, again_at + timedelta(minutes=1))
    again = await _wait(plant, CONFIRM, is_ours)
    assert again["context"]["promised_date"] == moved_to.isoformat()
    done = await _complete(plant, again, {"promised_date": str(moved_to)}, "procurement")
    assert done["status"] == 200, done
    watch = plant.client.get_workflow_handle(promise_watch_workflow_id(key), result_type=str)
    assert await watch.result() == "confirmed"
    # A confirmed date may still move: a new watch takes the move and watches the new date.
    last = moved_to + timedelta(days=30)
    status, moved = await _move(plant, po_no, {"line_no": 1, "promised_date": str(last)})
    assert (status, moved["previous"], moved["late"]) == (200, str(moved_to), True)
    assert (await _line(plant, po_no))["promised_date"] == last.isoformat()
    # Goods received while the buyer has not answered: the receipt withdraws it at once.
    last_at = calendar.add_working(calendar.day_start(last), -timedelta(days=3))
    await advance_to(ts_env, last_at + timedelta(minutes=1))
    asked = await _wait(plant, CONFIRM, lambda t: is_ours(t) and t["task_id"] != again["task_id"])
    received = await receive(
        plant, po_no, "Fastenal", [{"item": item, "qty_noted": 20, "qty_counted": 20}]
    )
    assert received.status_code == 201, received.text
    status, refused = await _move(plant, po_no, {"line_no": 1, "promised_date": str(last)})
    assert (status, refused["error"]) == (409, "po_line_closed")
    await _wait(plant, CONFIRM, lambda t: t["task_id"] == asked["task_id"], "withdrawn")
    assert await watch.result() == "closed"
