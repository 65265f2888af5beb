"""Assembly issues (P8.4, §8.5) end to end on the time-skipping server, over HTTP: the design
problem. One confirmed by the process engineer becomes a DCN whose new part is bought; one the
process engineer does not confirm closes without a DCN; the 4-hour DCN clock with both
escalation levels."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio.testing import WorkflowEnvironment

from tests.conftest import Stack
from tests.helpers import (
    MARGIN,
    advance_to,
    complete,
    complete_ok,
    escalations,
    parse_time,
    settled,
    wait_escalation,
    wait_task,
)
from tests.issue_drivers import (
    D,
    _complete_task,
    _confirmed_design_problem,
    _dcn_workflow_exists,
    _in_assembly,
    _issue,
    _report_ok,
    _task_of_issue,
)
from tests.material_drivers import (
    SETS,
    inbox_tasks,
    inspect,
    order_view,
    receive_ok,
)


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

    # The gaskets come in and pass inspection: the warehouse picks them for production, and
    # the order waits for that pick before it can close.
    receipt = await receive_ok(
        flow,
        f"PO-G-{suffix}",
        "Parker",
        [{"item": gasket, "qty_noted": SETS * 4, "qty_counted": SETS * 4}],
    )
    await inspect(
        flow,
        order_no,
        receipt["lot_no"],
        [{"item": gasket, "qualified_qty": SETS * 4, "rejected_qty": 0}],
    )
    pick = await wait_task(flow, "warehouse.picking", order_no)
    assert [(line["item"], D(line["qty"])) for line in pick["context"]["pick_list"]] == [
        (gasket, SETS * 4)
    ]
    await complete_ok(
        flow, "warehouse.picking", order_no, {"lines": [{"item": gasket, "qty_picked": SETS * 4}]}
    )
    picked = {m["item"]: D(m["picked"]) for m in (await order_view(flow, order_no))["materials"]}
    assert picked[gasket] == SETS * 4


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
    workshop = {"production.drawing_check", "production.appearance_check"}
    kinds = {t["kind"] for t in view["open_tasks"]} - workshop
    assert kinds == {"production.assembly", "production.hand_over_documents"}


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
    await settled(flow, task["workflow_id"])
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
