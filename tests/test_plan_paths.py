"""P2 master planning, every path, over HTTP on time-skipping Temporal: renegotiation,
added manpower, milestone timers and the delay warning."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio.testing import WorkflowEnvironment

from services.planning.scheduling import add_working_days
from tests.conftest import Stack
from tests.drivers import (
    day,
    inbox,
    iso,
    order,
    plan_history,
    proposal_of,
    to_master_plan,
)
from tests.helpers import (
    MARGIN,
    advance_to,
    complete,
    complete_ok,
    create_order,
    escalations,
    settled,
    wait_escalation,
    wait_task,
)
from tests.plant_calendar import plant_calendar
from workflows.common import end_of_day

# -- P2: the master plan ----------------------------------------------------------------


async def test_plan_shipping_after_the_due_date_opens_renegotiation_and_revises_the_plan(
    flow: Stack,
) -> None:
    order_no = await create_order(flow)
    due, task = await to_master_plan(flow, order_no)
    late = proposal_of(task)
    for name in ("production_start", "production_end", "final_inspection", "ship"):
        late[name] += timedelta(days=14)  # two whole weeks: the same working-day window
    assert late["ship"] > day(due)
    view = await complete_ok(
        flow,
        "planning.master_plan",
        order_no,
        {"milestones": iso(late), "reason": "workshop busy with the substation order"},
    )
    assert view["stage"] == "planning"
    assert [t["kind"] for t in view["open_tasks"]] == ["sales.renegotiate_delivery"]
    renegotiation = await wait_task(flow, "sales.renegotiate_delivery", order_no)
    assert renegotiation["context"]["plan_ship"] == late["ship"].isoformat()

    too_early = (late["ship"] - timedelta(days=1)).isoformat()
    refused = await complete(flow, "sales.renegotiate_delivery", order_no, {"new_date": too_early})
    assert refused.status_code == 422, refused.text
    assert len(await inbox(flow, "sales.renegotiate_delivery", order_no, "open")) == 1

    new_date = (late["ship"] + timedelta(days=2)).isoformat()
    view = await complete_ok(
        flow,
        "sales.renegotiate_delivery",
        order_no,
        {"new_date": new_date, "customer_confirmation_ref": "FAX-2026-118"},
    )
    assert view["due_date"] == new_date
    assert view["stage"] == "engineering"
    history = await plan_history(flow, order_no)
    assert history["current_revision"] == 2
    first, second = history["revisions"]
    assert (first["revision"], second["revision"]) == (1, 2)
    assert first["reason"] and "renegotiated" in second["reason"]
    assert "FAX-2026-118" in second["reason"]
    assert first["due_date"] == due and second["due_date"] == new_date
    assert second["milestones"]["ship"]["planned"] == late["ship"].isoformat()


async def test_compressed_production_window_needs_added_manpower(flow: Stack) -> None:
    order_no = await create_order(flow)
    due, task = await to_master_plan(flow, order_no)
    assert task["context"]["standard_production_days"] == 10
    tight = proposal_of(task)
    tight["production_end"] = add_working_days(
        plant_calendar(flow.settings), tight["production_start"], 5
    )
    assert tight["ship"] <= day(due)

    refused = await complete(flow, "planning.master_plan", order_no, {"milestones": iso(tight)})
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"] == "invalid_payload"
    assert "added_manpower" in refused.json()["detail"]
    assert len(await inbox(flow, "planning.master_plan", order_no, "open")) == 1

    view = await complete_ok(
        flow, "planning.master_plan", order_no, {"milestones": iso(tight), "added_manpower": 4}
    )
    assert view["stage"] == "engineering"
    assert await inbox(flow, "sales.renegotiate_delivery", order_no) == []
    (revision,) = (await plan_history(flow, order_no))["revisions"]
    assert revision["added_manpower"] == 4
    assert "4 added" in revision["reason"]
    assert revision["milestones"]["production_end"]["planned"] == (
        tight["production_end"].isoformat()
    )


async def test_standard_production_window_is_accepted_without_added_manpower(
    flow: Stack,
) -> None:
    order_no = await create_order(flow)
    _, task = await to_master_plan(flow, order_no)
    plan = proposal_of(task)
    calendar = plant_calendar(flow.settings)
    assert plan["production_end"] == add_working_days(calendar, plan["production_start"], 10)
    view = await complete_ok(flow, "planning.master_plan", order_no, {"milestones": iso(plan)})
    assert view["stage"] == "engineering"
    kinds = sorted(t["kind"] for t in view["open_tasks"])
    assert kinds == ["engineering.release_bom", "engineering.release_drawings"]
    (revision,) = (await plan_history(flow, order_no))["revisions"]
    assert revision["added_manpower"] is None


async def test_overdue_milestone_escalates_to_owner_head_and_late_forecast_warns_sales_division(
    flow: Stack, ts_env: WorkflowEnvironment
) -> None:
    order_no = await create_order(flow)
    due, _ = await to_master_plan(flow, order_no, design_days=3, lead_days=10)
    view = await complete_ok(flow, "planning.master_plan", order_no, {"accept_proposal": True})
    assert view["stage"] == "engineering"
    planned = {m["name"]: day(m["planned"]) for m in view["milestones"]}
    assert planned["ship"] == day(due)

    # Past the design_done day with no BOM released: the milestone's clock has run out.
    await advance_to(ts_env, end_of_day(planned["design_done"]) + MARGIN)
    overdue = await wait_escalation(
        flow,
        order_no,
        lambda e: e["kind"] == "milestone_overdue" and "design_done" in e["message"],
    )
    assert overdue["role"] == "head:engineering"
    assert overdue["department"] == "engineering"
    assert overdue["task_id"] is None

    # The slip moves the forecast ship past the due date: sales and division are warned.
    sales = await wait_escalation(
        flow, order_no, lambda e: e["kind"] == "delivery_delay" and e["role"] == "sales"
    )
    division = await wait_escalation(
        flow, order_no, lambda e: e["kind"] == "delivery_delay" and e["role"] == "division"
    )
    assert sales["level"] == 1 and division["level"] == 2
    assert due in sales["message"]
    history = await plan_history(flow, order_no)
    ship = history["revisions"][-1]["milestones"]["ship"]
    assert day(ship["forecast"]) > day(due)
    assert ship["actual"] is None
    # Each overdue milestone re-forecasts on its own clock (bom_release may fall due the same
    # day and warn first): wait for design_done's own re-forecast.
    for _ in range(100):
        view = await order(flow, order_no)
        design_done = next(m for m in view["milestones"] if m["name"] == "design_done")
        if day(design_done["forecast"]) > planned["design_done"]:
            break
        await asyncio.sleep(0.05)
    assert view["late"] is True
    # (A milestone's `late` flag reads the wall clock, which time skipping leaves behind.)
    assert design_done["actual"] is None
    assert day(design_done["forecast"]) > planned["design_done"]
    # One warning per forecast, not one per overdue milestone.
    await settled(flow, f"order-{order_no}")
    delays = [e for e in await escalations(flow, order_no) if e["kind"] == "delivery_delay"]
    assert sorted(e["role"] for e in delays) == ["division", "sales"]
