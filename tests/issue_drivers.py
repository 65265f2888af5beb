"""Drivers shared by the assembly-issue tests: an order brought to assembly, reports of
issues over HTTP, their tasks and the design-change workflows they start."""

from __future__ import annotations

import asyncio
import uuid
from decimal import Decimal
from typing import Any

import httpx
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment

from tests.conftest import Stack
from tests.helpers import (
    MARGIN,
    advance_to,
    wait_task,
)
from tests.material_drivers import (
    inbox_tasks,
    order_view,
    production_start,
    to_production,
    wait_view,
)

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
