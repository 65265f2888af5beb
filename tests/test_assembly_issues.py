"""Assembly issues (P8.4, §8.5) end to end on the time-skipping server, over HTTP: a design
problem confirmed by the process engineer becomes a DCN whose new part is bought; one the
process engineer does not confirm closes without a DCN; serious nonconforming material goes
to the division at once; a missing part becomes a sheet-metal work order or a buyer's chase;
the 4-hour DCN clock with both escalation levels; and the reports the API refuses."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment

from services.procurement.models import WorkOrder
from services.production.activities import ProductionActivities
from shared.production_types import ReportIssue, SheetMetalOrder
from shared.settings import Settings
from shared.types import CancelOrder
from tests.conftest import Stack
from tests.helpers import (
    MARGIN,
    advance_to,
    complete,
    complete_ok,
    create_order,
    escalations,
    parse_time,
    wait_escalation,
    wait_task,
)
from tests.material_drivers import (
    SETS,
    inbox_tasks,
    order_view,
    production_start,
    to_production,
    wait_view,
)
from workflows.production import ProductionPhase

D = Decimal


async def _in_assembly(flow: Stack, ts_env: WorkflowEnvironment) -> tuple[str, str]:
    """An order whose assembly is open (its process card in production's inbox)."""
    suffix = uuid.uuid4().hex[:6]
    order_no, view = await to_production(flow, ts_env, suffix)
    await advance_to(ts_env, production_start(view) + MARGIN)
    await wait_task(flow, "production.assembly", order_no)
    return order_no, suffix


async def _report(
    flow: Stack, order_no: str, body: dict[str, Any], *roles: str, sub: str = "lead-wu"
) -> httpx.Response:
    return await flow.http.post(
        f"/production/orders/{order_no}/issues",
        json=body,
        headers=flow.token(sub, *(roles or ("production",))),
    )


async def _report_ok(flow: Stack, order_no: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await _report(flow, order_no, body)
    assert response.status_code == 201, response.text
    reported = dict(response.json())
    assert set(reported) == {"issue_no", "order_no", "kind", "state"}, reported
    assert (reported["order_no"], reported["kind"], reported["state"]) == (
        order_no,
        body["kind"],
        "open",
    )
    return reported


async def _issue(flow: Stack, order_no: str, issue_no: str, state: str) -> dict[str, Any]:
    """The issue as the order view lists it, once it is in `state`."""

    def ready(view: dict[str, Any]) -> bool:
        return any(i["issue_no"] == issue_no and i["state"] == state for i in view["issues"])

    view = await wait_view(flow, order_no, ready, f"{state} issue {issue_no}")
    (issue,) = [i for i in view["issues"] if i["issue_no"] == issue_no]
    return dict(issue)


async def _task_of_issue(
    flow: Stack, order_no: str, kind: str, issue_no: str, *, count: int = 1
) -> list[dict[str, Any]]:
    """The open tasks of `kind` opened for one issue, once there are `count` of them."""
    deadline = asyncio.get_running_loop().time() + 15
    while True:
        tasks = [
            t
            for t in await inbox_tasks(flow, kind.split(".")[0], order_no, kind)
            if t["context"].get("issue_no") == issue_no
        ]
        if len(tasks) >= count:
            return tasks
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{len(tasks)} open {kind} for {issue_no}, not {count}")
        await asyncio.sleep(0.05)


async def _complete_task(
    flow: Stack, task: dict[str, Any], payload: dict[str, Any], *roles: str, sub: str = "w-1"
) -> dict[str, Any]:
    dept = task["kind"].split(".")[0]
    response = await flow.http.post(
        f"/{dept}/tasks/{task['task_id']}/complete",
        json=payload,
        headers=flow.token(sub, *(roles or (dept,))),
    )
    assert response.status_code == 200, f"{task['kind']}: {response.text}"
    return dict(response.json())


async def _dcn_workflow_exists(flow: Stack, issue_no: str) -> bool:
    try:
        await flow.client.get_workflow_handle(f"dcn-{issue_no}").describe()
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            return False
        raise
    return True


async def _confirmed_design_problem(
    flow: Stack, order_no: str, suffix: str
) -> tuple[str, dict[str, Any]]:
    """Report a design problem and have the process engineer confirm it; returns the issue
    number and the DCN task engineering then has."""
    reported = await _report_ok(
        flow,
        order_no,
        {
            "kind": "design_problem",
            "description": "the frame's bolts foul the busbar",
            "items": [{"item": f"BOLT-{suffix}", "qty": 288}],
        },
    )
    issue_no = reported["issue_no"]
    # The 201 means the order tracks it: the order view lists it at once.
    listed = [i for i in (await order_view(flow, order_no))["issues"] if i["issue_no"] == issue_no]
    assert [(i["state"], i["kind"], i["reported_by"]) for i in listed] == [
        ("open", "design_problem", "lead-wu")
    ]
    (check,) = await _task_of_issue(flow, order_no, "production.confirm_issue", issue_no)
    assert check["context"]["description"] == "the frame's bolts foul the busbar"
    await _complete_task(
        flow, check, {"confirmed": True, "comment": "drawing clash"}, sub="pe-chen"
    )
    task = await wait_task(flow, "engineering.design_change", order_no)
    assert task["workflow_id"] == f"dcn-{issue_no}"
    assert (task["context"]["issue_no"], task["context"]["confirmed_by"]) == (issue_no, "pe-chen")
    return issue_no, task


async def test_design_problem_confirmed_dcn_revises_the_bom_buys_the_new_part_and_closes(
    flow: Stack, ts_env: WorkflowEnvironment
) -> None:
    order_no, suffix = await _in_assembly(flow, ts_env)
    bolt, frame, gasket = f"BOLT-{suffix}", f"FRAME-{suffix}", f"GASKET-{suffix}"
    issue_no, task = await _confirmed_design_problem(flow, order_no, suffix)
    assert issue_no == f"{order_no}-I1"
    opened, due = parse_time(task["created_at"]), parse_time(task["due_at"])
    assert due == opened + timedelta(hours=4)
    assert task["context"]["bom_revision"] == 1
    listed = await _issue(flow, order_no, issue_no, "open")
    assert (listed["kind"], listed["reported_by"], listed["resolution"]) == (
        "design_problem",
        "lead-wu",
        None,
    )

    # The design problem does not hold up the rest of the order: the process card is
    # signed while engineering works on the DCN, and the order moves on to final inspection.
    card = {"operations": [{"name": "frame assembly", "signed_by": "op-1"}]}
    view = await complete_ok(flow, "production.assembly", order_no, card)
    assert view["stage"] == "final_inspection"

    dcn_no = f"DCN-{suffix}"
    await _complete_task(
        flow,
        task,
        {
            "dcn_no": dcn_no,
            "summary": "gaskets instead of bolts on the frame",
            "bom_changes": [
                {"item": bolt, "parent": frame, "qty_per": 0, "make_or_buy": "buy"},
                {
                    "item": gasket,
                    "parent": frame,
                    "qty_per": 4,
                    "make_or_buy": "buy",
                    "supplier": "Parker",
                    "lead_days": 12,
                },
            ],
        },
        sub="eng-zhao",
    )

    # The issue closes with the DCN, which moved the BOM to revision 2.
    closed = await _issue(flow, order_no, issue_no, "closed")
    assert dcn_no in closed["resolution"] and "BOM revision 2" in closed["resolution"]
    assert closed["closed_at"] is not None
    response = await flow.http.get(
        f"/engineering/orders/{order_no}/bom", headers=flow.token("eng", "engineering")
    )
    assert response.status_code == 200, response.text
    bom = response.json()
    assert (bom["revision"], bom["revisions"]) == (2, [1, 2])
    lines = {(line["item"], line["parent"]): line for line in bom["lines"]}
    assert (bolt, frame) not in lines
    assert (D(lines[(gasket, frame)]["qty_per"]), lines[(gasket, frame)]["supplier"]) == (
        4,
        "Parker",
    )

    # The gasket is an engineering-change requisition: the division approves it, the buyer
    # places it with the order's purchasing.
    response = await flow.http.get(
        "/procurement/requisitions",
        params={"order_no": order_no},
        headers=flow.token("p", "procurement"),
    )
    assert response.status_code == 200, response.text
    (requisition,) = [r for r in response.json() if r["item"] == gasket]
    assert (
        requisition["bom_revision"],
        D(requisition["qty"]),
        requisition["supplier"],
        requisition["special"],
        requisition["state"],
    ) == (2, SETS * 4, "Parker", True, "open")
    approval = await wait_task(flow, "procurement.special_approval", order_no)
    assert (approval["context"]["key"], approval["context"]["item"]) == (
        requisition["key"],
        gasket,
    )
    await complete_ok(
        flow,
        "procurement.special_approval",
        order_no,
        {"approved": True, "comment": "DCN part"},
        roles=("division",),
    )
    place = await wait_task(flow, "procurement.place_po", order_no)
    assert place["context"]["item"] == gasket
    today = (await ts_env.get_current_time()).date()
    await complete_ok(
        flow,
        "procurement.place_po",
        order_no,
        {
            "supplier": "Parker",
            "promised_date": (today + timedelta(days=5)).isoformat(),
            "po_no": f"PO-G-{suffix}",
        },
    )
    response = await flow.http.get(
        "/procurement/purchase-orders",
        params={"order_no": order_no},
        headers=flow.token("p", "procurement"),
    )
    (po,) = [po for po in response.json() if po["po_no"] == f"PO-G-{suffix}"]
    assert [(line["item"], D(line["qty"])) for line in po["lines"]] == [(gasket, SETS * 4)]

    # The order view keeps the issue, closed, and its story on the timeline; the DCN
    # workflow has finished, and assembly was never held up by the issue.
    view = await order_view(flow, order_no)
    assert [(i["issue_no"], i["state"]) for i in view["issues"]] == [(issue_no, "closed")]
    summaries = [e["summary"] for e in view["timeline"] if e["kind"] == "issue"]
    assert any("reported" in s for s in summaries) and any(dcn_no in s for s in summaries)
    assert any(e["kind"] == "design_change" and dcn_no in e["summary"] for e in view["timeline"])
    assert "production.submit_inspection" in {t["kind"] for t in view["open_tasks"]}
    dcn = await flow.client.get_workflow_handle(f"dcn-{issue_no}").describe()
    assert dcn.status is not None and dcn.status.name == "COMPLETED"

    # A sheet-metal work order after the DCN is made against the BOM's new revision.
    missing = await _report_ok(
        flow,
        order_no,
        {
            "kind": "missing_part",
            "description": "gasket retainer missing",
            "items": [{"item": f"RETAINER-{suffix}", "qty": 6}],
        },
    )
    (analysis,) = await _task_of_issue(
        flow, order_no, "planning.missing_part_analysis", missing["issue_no"]
    )
    await _complete_task(flow, analysis, {"cause": "self_made"}, sub="plan-he")
    await _issue(flow, order_no, missing["issue_no"], "closed")
    response = await flow.http.get(
        "/procurement/work-orders",
        params={"order_no": order_no},
        headers=flow.token("lead-wu", "production"),
    )
    (retainers,) = [w for w in response.json() if w["item"] == f"RETAINER-{suffix}"]
    assert (retainers["key"], retainers["bom_revision"]) == (f"sm-{missing['issue_no']}-1", 2)


async def test_design_problem_not_confirmed_closes_without_a_dcn(
    flow: Stack, ts_env: WorkflowEnvironment
) -> None:
    order_no, _ = await _in_assembly(flow, ts_env)
    reported = await _report_ok(
        flow,
        order_no,
        {"kind": "design_problem", "description": "door does not close", "items": []},
    )
    issue_no = reported["issue_no"]
    (check,) = await _task_of_issue(flow, order_no, "production.confirm_issue", issue_no)
    await _complete_task(
        flow, check, {"confirmed": False, "comment": "hinge fitted upside down"}, sub="pe-chen"
    )
    closed = await _issue(flow, order_no, issue_no, "closed")
    assert closed["resolution"] == "not a design problem: hinge fitted upside down"
    assert not await _dcn_workflow_exists(flow, issue_no)
    for state in ("open", "done"):
        assert not await inbox_tasks(
            flow, "engineering", order_no, "engineering.design_change", state
        )
    view = await order_view(flow, order_no)
    response = await flow.http.get(
        f"/engineering/orders/{order_no}/bom", headers=flow.token("eng", "engineering")
    )
    assert response.json()["revision"] == 1
    assert {t["kind"] for t in view["open_tasks"]} == {"production.assembly"}


async def test_serious_nonconforming_material_goes_to_the_division_at_once(
    flow: Stack, ts_env: WorkflowEnvironment
) -> None:
    order_no, suffix = await _in_assembly(flow, ts_env)
    breaker = f"VS1-{suffix}"
    reported_at = await ts_env.get_current_time()
    serious = await _report_ok(
        flow,
        order_no,
        {
            "kind": "nonconforming_material",
            "description": "breaker housing cracked",
            "items": [{"item": breaker, "qty": 2}],
            "severity": "serious",
        },
    )
    minor = await _report_ok(
        flow,
        order_no,
        {
            "kind": "nonconforming_material",
            "description": "scratched breaker front",
            "items": [{"item": breaker, "qty": 1}],
        },
    )
    assert minor["issue_no"] != serious["issue_no"]

    escalation = await wait_escalation(
        flow, order_no, lambda e: e["kind"] == "serious_nonconformance"
    )
    assert (escalation["level"], escalation["role"], escalation["department"]) == (
        2,
        "division",
        "quality",
    )
    assert parse_time(escalation["breached_at"]) - reported_at < timedelta(minutes=1)
    assert "breaker housing cracked" in escalation["message"]
    (judgement,) = await _task_of_issue(
        flow, order_no, "quality.ncr_judgement", serious["issue_no"]
    )
    assert judgement["context"]["ncr_no"] == f"NCR-{serious['issue_no']}"
    assert (judgement["context"]["severity"], judgement["context"]["found_in"]) == (
        "serious",
        "assembly",
    )
    assert judgement["context"]["items"] == [{"item": breaker, "qty": "2"}]
    (minor_judgement,) = await _task_of_issue(
        flow, order_no, "quality.ncr_judgement", minor["issue_no"]
    )
    assert minor_judgement["context"]["severity"] == "normal"
    # Only the serious one went to the division.
    serious_escalations = [
        e for e in await escalations(flow, order_no) if e["kind"] == "serious_nonconformance"
    ]
    assert len(serious_escalations) == 1

    await _complete_task(
        flow, judgement, {"disposition": "return", "comment": "supplier replaces"}, sub="qa-li"
    )
    closed = await _issue(flow, order_no, serious["issue_no"], "closed")
    assert closed["resolution"] == (f"NCR-{serious['issue_no']} judged return: supplier replaces")
    assert (closed["severity"], closed["kind"]) == ("serious", "nonconforming_material")
    assert (await _issue(flow, order_no, minor["issue_no"], "open"))["resolution"] is None


async def test_missing_parts_self_made_gets_a_sheet_metal_work_order_purchased_a_chase(
    flow: Stack, ts_env: WorkflowEnvironment
) -> None:
    order_no, suffix = await _in_assembly(flow, ts_env)
    bracket, breaker = f"BRACKET-{suffix}", f"VS1-{suffix}"

    made = await _report_ok(
        flow,
        order_no,
        {
            "kind": "missing_part",
            "description": "mounting brackets missing",
            "items": [{"item": bracket, "qty": 2}],
        },
    )
    (analysis,) = await _task_of_issue(
        flow, order_no, "planning.missing_part_analysis", made["issue_no"]
    )
    await _complete_task(
        flow, analysis, {"cause": "self_made", "comment": "cut list missed it"}, sub="plan-he"
    )
    key = f"sm-{made['issue_no']}-1"
    closed = await _issue(flow, order_no, made["issue_no"], "closed")
    assert key in closed["resolution"]
    response = await flow.http.get(
        "/procurement/work-orders",
        params={"order_no": order_no},
        headers=flow.token("lead-wu", "production"),
    )
    assert response.status_code == 200, response.text
    (work_order,) = [w for w in response.json() if w["key"] == key]
    assert (work_order["item"], D(work_order["qty"]), work_order["state"]) == (bracket, 2, "open")
    assert work_order["bom_revision"] == 1

    bought = await _report_ok(
        flow,
        order_no,
        {
            "kind": "missing_part",
            "description": "two breakers short at the line",
            "items": [{"item": breaker, "qty": 2}],
        },
    )
    (analysis,) = await _task_of_issue(
        flow, order_no, "planning.missing_part_analysis", bought["issue_no"]
    )
    await _complete_task(flow, analysis, {"cause": "purchased"}, sub="plan-he")
    (chase,) = await _task_of_issue(flow, order_no, "procurement.chase_supply", bought["issue_no"])
    assert chase["context"]["item"] == breaker
    assert (await _issue(flow, order_no, bought["issue_no"], "open"))["resolution"] is None
    expected = (await ts_env.get_current_time()).date() + timedelta(days=3)
    await _complete_task(
        flow, chase, {"expected_date": expected.isoformat(), "comment": "Chint ships"}
    )
    closed = await _issue(flow, order_no, bought["issue_no"], "closed")
    assert closed["resolution"] == f"buyer chased; expected {expected.isoformat()}"
    # No work order for the bought part.
    response = await flow.http.get(
        "/procurement/work-orders",
        params={"order_no": order_no},
        headers=flow.token("lead-wu", "production"),
    )
    assert [w["key"] for w in response.json() if w["key"].startswith("sm-")] == [key]
    # An engineering cause is a design change: engineering gets the DCN task, on its clock.
    drawing = await _report_ok(
        flow,
        order_no,
        {
            "kind": "missing_part",
            "description": "earth bar not on the drawing",
            "items": [{"item": f"EARTH-{suffix}", "qty": 6}],
        },
    )
    (analysis,) = await _task_of_issue(
        flow, order_no, "planning.missing_part_analysis", drawing["issue_no"]
    )
    await _complete_task(flow, analysis, {"cause": "engineering"}, sub="plan-he")
    dcn_task = await wait_task(flow, "engineering.design_change", order_no)
    assert dcn_task["workflow_id"] == f"dcn-{drawing['issue_no']}"
    assert dcn_task["context"]["confirmed_by"] == "plan-he"
    assert parse_time(dcn_task["due_at"]) - parse_time(dcn_task["created_at"]) == timedelta(hours=4)
    assert (await _issue(flow, order_no, drawing["issue_no"], "open"))["resolution"] is None

    # Assembly went on throughout.
    view = await order_view(flow, order_no)
    assert "production.assembly" in {t["kind"] for t in view["open_tasks"]}


async def test_issue_reports_are_refused_for_role_order_stage_and_content(
    flow: Stack, ts_env: WorkflowEnvironment
) -> None:
    order_no, suffix = await _in_assembly(flow, ts_env)
    good = {
        "kind": "missing_part",
        "description": "bracket missing",
        "items": [{"item": f"BRACKET-{suffix}", "qty": 1}],
    }

    forbidden = await _report(flow, order_no, good, "sales")
    assert forbidden.status_code == 403, forbidden.text
    assert forbidden.json()["error"] == "forbidden"
    unknown = await _report(flow, f"NO-SUCH-{suffix}", good)
    assert unknown.status_code == 404, unknown.text
    assert unknown.json()["error"] == "not_found"

    in_review = await create_order(flow)
    refused = await _report(flow, in_review, good)
    assert refused.status_code == 409, refused.text
    assert refused.json()["error"] == "issue_refused"
    assert "review" in refused.json()["detail"]

    for body, word in (
        ({**good, "items": []}, "items"),
        ({"kind": "nonconforming_material", "description": "cracked"}, "items"),
        ({**good, "description": "   "}, "describe"),
        ({**good, "description": ""}, "description"),
        ({**good, "kind": "bad_weld"}, "kind"),
        ({**good, "severity": "fatal"}, "severity"),
        ({**good, "items": [{"item": "X", "qty": 0}]}, "qty"),
    ):
        response = await _report(flow, order_no, body)
        assert response.status_code == 422, (body, response.text)
        assert word in response.json()["detail"], (body, response.json())

    # Nothing refused became an issue.
    view = await order_view(flow, order_no)
    assert view["issues"] == []
    assert (await order_view(flow, in_review))["issues"] == []
    # A production lead still can.
    await _report_ok(flow, order_no, good)


async def test_dcn_clock_warns_engineering_head_and_planner_at_4h_division_at_8h(
    flow: Stack, ts_env: WorkflowEnvironment
) -> None:
    order_no, suffix = await _in_assembly(flow, ts_env)
    issue_no, task = await _confirmed_design_problem(flow, order_no, suffix)
    opened, due = parse_time(task["created_at"]), parse_time(task["due_at"])
    assert due == opened + timedelta(hours=4)

    def ours(e: dict[str, Any]) -> bool:
        return e["task_id"] == task["task_id"]

    await advance_to(ts_env, due - MARGIN)
    assert [e for e in await escalations(flow, order_no) if ours(e)] == []

    await advance_to(ts_env, due + MARGIN)
    head = await wait_escalation(
        flow, order_no, lambda e: ours(e) and e["role"] == "head:engineering"
    )
    assert (head["kind"], head["level"]) == ("task_overdue", 1)
    planner = await wait_escalation(flow, order_no, lambda e: ours(e) and e["role"] == "planning")
    assert (planner["kind"], planner["level"], planner["department"]) == (
        "design_change_overdue",
        1,
        "planning",
    )
    assert issue_no in planner["message"]
    assert not [e for e in await escalations(flow, order_no) if ours(e) and e["level"] == 2]
    assert (await _issue(flow, order_no, issue_no, "open"))["resolution"] is None

    await advance_to(ts_env, opened + timedelta(hours=8) + MARGIN)
    division = await wait_escalation(flow, order_no, lambda e: ours(e) and e["level"] == 2)
    assert (division["kind"], division["role"]) == ("task_overdue", "division")
    ours_now = [e for e in await escalations(flow, order_no) if ours(e)]
    assert sorted((e["level"], e["role"]) for e in ours_now) == [
        (1, "head:engineering"),
        (1, "planning"),
        (2, "division"),
    ]

    # Issued late, the DCN still closes the issue; the time lost moves production's end.
    before = await order_view(flow, order_no)
    end_before = {m["name"]: m["forecast"] for m in before["milestones"]}["production_end"]
    response = await complete(
        flow,
        "engineering.design_change",
        order_no,
        {
            "dcn_no": f"DCN-{suffix}",
            "summary": "two breakers per set",
            "bom_changes": [
                {"item": f"VS1-{suffix}", "parent": "KYN28-12", "qty_per": 2, "make_or_buy": "buy"}
            ],
        },
    )
    assert response.status_code == 200, response.text
    closed = await _issue(flow, order_no, issue_no, "closed")
    assert f"DCN-{suffix}" in closed["resolution"]
    after = await order_view(flow, order_no)
    end_after = {m["name"]: m["forecast"] for m in after["milestones"]}["production_end"]
    assert end_after > end_before, (end_before, end_after)


async def test_an_order_does_not_close_while_an_issue_is_open(
    flow: Stack, ts_env: WorkflowEnvironment
) -> None:
    order_no, suffix = await _in_assembly(flow, ts_env)
    reported = await _report_ok(
        flow,
        order_no,
        {
            "kind": "nonconforming_material",
            "description": "frame paint blistered",
            "items": [{"item": f"FRAME-{suffix}", "qty": 1}],
        },
    )
    card = {"operations": [{"name": "frame assembly", "signed_by": "op-1"}]}
    await complete_ok(flow, "production.assembly", order_no, card)
    await complete_ok(flow, "production.submit_inspection", order_no, {"missing_parts": []})
    await complete_ok(flow, "quality.final_inspection", order_no, {"passed": True})
    await complete_ok(
        flow, "sales.ship", order_no, {"carrier": "Deppon", "mode": "road", "tracking_no": "DP-1"}
    )
    today = (await ts_env.get_current_time()).date().isoformat()
    await complete_ok(flow, "sales.delivery_confirmed", order_no, {"received_on": today})
    await complete_ok(
        flow,
        "aftersales.commissioning",
        order_no,
        {"installed": True, "trained": True, "power_on_ok": True, "notes": "accepted"},
    )
    await complete_ok(
        flow, "sales.settlement", order_no, {"invoice_no": "INV-1", "amount_paid": 480000}
    )
    view = await complete_ok(
        flow, "sales.evaluation", order_no, {"satisfaction": 5, "lessons": "paint supplier"}
    )
    # Settled and evaluated, but the NCR of its issue is still open: the order waits.
    assert (view["stage"], view["status"]) == ("closing", "active")
    assert [t["kind"] for t in view["open_tasks"]] == ["quality.ncr_judgement"]

    (judgement,) = await _task_of_issue(
        flow, order_no, "quality.ncr_judgement", reported["issue_no"]
    )
    view = await _complete_task(flow, judgement, {"disposition": "repair"}, sub="qa-li")
    assert (view["stage"], view["status"]) == ("closed", "closed")
    assert [(i["state"], i["resolution"]) for i in view["issues"]] == [
        ("closed", f"NCR-{reported['issue_no']} judged repair")
    ]


async def test_sheet_metal_work_orders_of_a_long_order_number_keep_their_own_keys(
    engine: AsyncEngine, base_settings: Settings
) -> None:
    """procurement.work_orders.key holds 64 characters; an order number may have 64 itself."""
    order_no = f"SO-{uuid.uuid4().hex}-{'X' * 28}"
    assert len(order_no) == 64
    activities = ProductionActivities(engine, base_settings)
    now = datetime.now(UTC)
    keys = [
        await activities.sheet_metal_order(
            SheetMetalOrder(
                order_no=order_no,
                issue_no=f"{order_no}-I{i}-{n}",
                item=f"P{i}{n}",
                qty=D(n),
                at=now,
            )
        )
        for i in (1, 2)
        for n in (1, 2)
    ]
    assert len(set(keys)) == 4 and all(len(key) <= 64 for key in keys), keys
    assert all(key.startswith(f"sm-{order_no[:40]}") for key in keys)
    # Asked again (an activity retry), each gives the same key and no second work order.
    again = await activities.sheet_metal_order(
        SheetMetalOrder(
            order_no=order_no, issue_no=f"{order_no}-I2-1", item="P21", qty=D(1), at=now
        )
    )
    assert again == keys[2]
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                select(col(WorkOrder.key), col(WorkOrder.item), col(WorkOrder.qty)).where(
                    col(WorkOrder.order_no) == order_no
                )
            )
        ).all()
    assert sorted((item, D(qty)) for _, item, qty in rows) == [
        ("P11", 1),
        ("P12", 2),
        ("P21", 1),
        ("P22", 2),
    ]


def test_no_issue_is_taken_while_the_order_is_being_cancelled() -> None:
    """A cancellation stops the order's branches and withdraws its tasks before the order is
    `cancelled`; an issue reported in between would open a task nothing ever withdraws."""
    order: Any = SimpleNamespace(
        status="active", stage="production", cancellation=None, inp=SimpleNamespace(order_no="SO-1")
    )
    phase = ProductionPhase(order)
    report = ReportIssue(kind="design_problem", description="door fouls the frame", by="lead-wu")
    assert phase.issue_refusal() is None and phase.issue_violation(report) is None
    order.stage = "final_inspection"
    assert phase.issue_refusal() is None
    order.cancellation = CancelOrder(reason="customer withdrew", by="sam")
    refusal = phase.issue_refusal()
    assert refusal is not None and "being cancelled" in refusal
    order.cancellation, order.stage = None, "delivery"
    assert "in delivery" in (phase.issue_refusal() or "")
