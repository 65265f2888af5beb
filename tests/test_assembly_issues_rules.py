"""Assembly issues (P8.4, §8.5): the rules around them. The reports the API refuses; an order
does not close while an issue is open; no issue is taken while the order is being cancelled."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from temporalio.testing import WorkflowEnvironment

from shared.order_state import OrderState
from shared.production_types import CancelOrder, ReportIssue
from tests.conftest import Stack
from tests.helpers import (
    create_order,
)
from tests.issue_drivers import (
    _complete_task,
    _in_assembly,
    _report,
    _report_ok,
    _task_of_issue,
)
from tests.material_drivers import assemble_and_close, order_view, wait_view
from workflows.production import ProductionPhase


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
    view = await assemble_and_close(flow, ts_env, order_no)
    # Settled and evaluated, but the NCR of its issue is still open: the order waits.
    assert (view["stage"], view["status"]) == ("closing", "active")
    assert [t["kind"] for t in view["open_tasks"]] == ["quality.ncr_judgement"]

    (judgement,) = await _task_of_issue(
        flow, order_no, "quality.ncr_judgement", reported["issue_no"]
    )
    await _complete_task(flow, judgement, {"disposition": "repair"}, sub="qa-li")
    # The issue's own workflow closes it and tells the order, which closes then.
    view = await wait_view(flow, order_no, lambda v: v["status"] == "closed", "closed order")
    assert (view["stage"], view["status"]) == ("closed", "closed")
    assert [(i["state"], i["resolution"]) for i in view["issues"]] == [
        ("closed", f"NCR-{reported['issue_no']} judged repair")
    ]


def test_no_issue_is_taken_while_the_order_is_being_cancelled() -> None:
    """A cancellation stops the order's branches and withdraws its tasks before the order is
    `cancelled`; an issue reported in between would open a task nothing ever withdraws."""
    state = OrderState(stage="production")
    order: Any = SimpleNamespace(state=state, inp=SimpleNamespace(order_no="SO-1"))
    phase = ProductionPhase(state.production, order)
    report = ReportIssue(kind="design_problem", description="door fouls the frame", by="lead-wu")
    assert phase.issue_refusal() is None and phase.issue_violation(report) is None
    state.stage = "final_inspection"
    assert phase.issue_refusal() is None
    state.cancellation = CancelOrder(reason="customer withdrew", by="sam")
    refusal = phase.issue_refusal()
    assert refusal is not None and "being cancelled" in refusal
    state.cancellation, state.stage = None, "delivery"
    assert "in delivery" in (phase.issue_refusal() or "")
