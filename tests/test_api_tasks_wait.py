"""How long a completion waits (`POST /{dept}/tasks/{id}/complete?wait=`): by default until
the order has moved on (its next tasks open), with `wait=accepted` only until the task is
closed and stored, the step's work going on after the answer.

The step's work is held by an activity interceptor at `publish_plan` (the first activity after
a master plan), so which answer comes first does not depend on timing.

And a completion of a task whose inbox row is there before its workflow has taken the task in
(a worker lost mid-workflow-task) waits for the workflow, or answers 503 if it never does.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import ActivityInboundInterceptor, ExecuteActivityInput, Interceptor

import services.tasks.api as tasks_api
from shared.settings import Settings
from shared.tasks.activities import TaskActivities
from shared.types import OpenTask
from tests.conftest import Stack, run_stack, settings_for
from tests.drivers import inbox, technical_and_lead_time, to_master_plan
from tests.helpers import create_order, wait_task

HELD = "publish_plan"
REVIEW_KIND = "engineering.contract_review"


class HoldActivity(Interceptor):
    """Holds every run of the activity `HELD` until `release` is set; `reached` once one ran."""

    def __init__(self) -> None:
        self.reached = asyncio.Event()
        self.release = asyncio.Event()

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _Hold(next, self)


class _Hold(ActivityInboundInterceptor):
    def __init__(self, next: ActivityInboundInterceptor, hold: HoldActivity) -> None:
        super().__init__(next)
        self.hold = hold

    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        if getattr(input.fn, "__name__", "") == HELD:
            self.hold.reached.set()
            await self.hold.release.wait()
        return await super().execute_activity(input)


@pytest.fixture
async def held(
    base_settings: Settings, ts_env: WorkflowEnvironment
) -> AsyncIterator[tuple[Stack, HoldActivity]]:
    hold = HoldActivity()
    async with run_stack(
        settings_for(base_settings), ts_env.client, activity_interceptors=[hold]
    ) as stack:
        try:
            yield stack, hold
        finally:
            hold.release.set()  # nothing stays held while the stack stops


def _post_master_plan(stack: Stack, task_id: str, wait: str | None) -> Any:
    return stack.http.post(
        f"/planning/tasks/{task_id}/complete",
        params={"wait": wait} if wait else None,
        json={"accept_proposal": True},
        headers=stack.token("pat", "planning"),
    )


async def _at_master_plan(stack: Stack) -> tuple[str, dict[str, Any]]:
    """A new order and its open master-plan task."""
    order_no = await create_order(stack)
    _, task = await to_master_plan(stack, order_no)
    return order_no, task


async def _complete_while_held(
    stack: Stack, hold: HoldActivity, task_id: str, wait: str | None, grace: float
) -> tuple[bool, Any]:
    """Complete the master plan while its step's work is held: whether the answer came within
    `grace` seconds of the work being reached, and the answer, once the work is let go.

    The answer is awaited either way before any assertion: a request left running would keep
    the gateway from stopping while the workers that could finish it stop."""
    answer = asyncio.ensure_future(_post_master_plan(stack, task_id, wait))
    await asyncio.wait_for(hold.reached.wait(), 30)
    answered_while_held = bool((await asyncio.wait({answer}, timeout=grace))[0])
    hold.release.set()
    return answered_while_held, await asyncio.wait_for(answer, 30)


def _open_kinds(view: dict[str, Any]) -> set[str]:
    return {task["kind"] for task in view["open_tasks"]}


async def test_an_accepted_completion_answers_before_the_step_s_work_and_the_order_moves_on(
    held: tuple[Stack, HoldActivity],
) -> None:
    stack, hold = held
    order_no, task = await _at_master_plan(stack)
    answered_while_held, response = await _complete_while_held(
        stack, hold, task["task_id"], "accepted", grace=15
    )
    assert answered_while_held, "wait=accepted still waited for the step's work"
    assert response.status_code == 200, response.text
    view = response.json()
    assert view["order_no"] == order_no
    assert "planning.master_plan" not in _open_kinds(view)
    assert "engineering.release_bom" not in _open_kinds(view)  # the step's work is held
    (done,) = await inbox(stack, "planning.master_plan", order_no, state="done")
    assert done["completed_by"] == "pat"
    # The step's work goes on after the answer: the plan is published, the BOM asked for.
    await wait_task(stack, "engineering.release_bom", order_no)


async def test_a_settled_completion_answers_only_once_the_order_has_moved_on(
    held: tuple[Stack, HoldActivity],
) -> None:
    stack, hold = held
    _, task = await _at_master_plan(stack)
    # The held activity is running: half a second on, the answer must still be waiting.
    answered_while_held, response = await _complete_while_held(
        stack, hold, task["task_id"], None, grace=0.5
    )
    assert not answered_while_held
    assert response.status_code == 200, response.text
    assert "engineering.release_bom" in _open_kinds(response.json())


async def test_an_unknown_wait_is_422_and_leaves_the_task_open(
    held: tuple[Stack, HoldActivity],
) -> None:
    stack, _ = held
    order_no, task = await _at_master_plan(stack)
    response = await _post_master_plan(stack, task["task_id"], "forever")
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["error"] and "wait" in response.text, body
    still = await wait_task(stack, "planning.master_plan", order_no)
    assert still["task_id"] == task["task_id"]


# -- a task the inbox shows before its workflow has taken it in --------------------------------
# A workflow writes a task's inbox row with a local activity, inside the workflow task that
# opens it; a worker lost between the write and the workflow task's completion leaves the row
# visible while the workflow, retried on another worker, has yet to open the task again under
# the same id. The rows are written here as that lost worker wrote them.


async def _row_before_its_workflow(
    stack: Stack, engine: AsyncEngine, order_no: str, kind: str, seq: int
) -> str:
    """Write the inbox row of the order's task number `seq` as the lost worker did."""
    workflow_id = f"order-{order_no}"
    task_id = f"{workflow_id}-t{seq}"
    await TaskActivities(engine, stack.settings).open_task(
        OpenTask(
            task_id=task_id,
            kind=kind,
            department=kind.split(".")[0],
            order_no=order_no,
            workflow_id=workflow_id,
            title=f"{kind} of {order_no}",
            created_at=datetime.now(UTC),
        )
    )
    return task_id


async def _seq_so_far(stack: Stack, order_no: str) -> int:
    """The highest task number the order's workflow has used."""
    state = await stack.client.get_workflow_handle(f"order-{order_no}").query("state")
    ids = [t["task_id"] for t in state["open_tasks"]]
    return max(int(task_id.rsplit("-t", 1)[1]) for task_id in ids)


async def test_a_completion_waits_for_the_workflow_to_take_in_a_task_its_inbox_shows(
    stack: Stack, engine: AsyncEngine
) -> None:
    order_no = await create_order(stack)
    await wait_task(stack, "engineering.contract_review", order_no)
    await wait_task(stack, "procurement.lead_time_review", order_no)
    # The delivery review opens next, once both reviews are in: its row is there already.
    task_id = await _row_before_its_workflow(
        stack, engine, order_no, "planning.delivery_review", await _seq_so_far(stack, order_no) + 1
    )
    answer = asyncio.ensure_future(
        stack.http.post(
            f"/planning/tasks/{task_id}/complete",
            json={"delivery_date": (date.today() + timedelta(days=400)).isoformat()},
            headers=stack.token("pia", "planning"),
        )
    )
    await asyncio.sleep(1.0)  # refused as unknown by the workflow, sent again meanwhile
    assert not answer.done()
    await technical_and_lead_time(stack, order_no)  # the workflow now opens the task
    response = await asyncio.wait_for(answer, 30)
    assert response.status_code == 200, response.text
    (done,) = await inbox(stack, "planning.delivery_review", order_no, state="done")
    assert done["task_id"] == task_id and done["completed_by"] == "pia"


async def test_a_task_its_workflow_never_takes_in_is_503_after_the_catch_up(
    stack: Stack, engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tasks_api, "CATCH_UP", timedelta(seconds=1.5))
    order_no = await create_order(stack)
    await wait_task(stack, "engineering.contract_review", order_no)
    task_id = await _row_before_its_workflow(stack, engine, order_no, REVIEW_KIND, 99)
    response = await stack.http.post(
        f"/engineering/tasks/{task_id}/complete",
        json={"ok": True, "design_days": 3},
        headers=stack.token("erin", "engineering"),
    )
    assert response.status_code == 503, response.text
    body = response.json()
    assert body["error"] == "unavailable" and "has not taken it in" in body["detail"], body
    # The order's own review is untouched.
    assert (await wait_task(stack, REVIEW_KIND, order_no))["task_id"] != task_id
