"""Builders and drivers the tests share: an order body, waiting for a task, completing it."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client, WorkflowHistory
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from shared.actor import signing_client
from tests.conftest import Stack

# What API.md promises every order view carries.
ORDER_VIEW_FIELDS = {
    "stage",
    "status",
    "due_date",
    "plan",
    "milestones",
    "open_tasks",
    "escalations",
    "timeline",
}

ROLES_FOR = {
    "sales.management_approval": ("head:sales",),
}


def order_body(order_no: str | None = None, **overrides: Any) -> dict[str, Any]:
    """A valid intake body; override any field."""
    body: dict[str, Any] = {
        "order_no": order_no or f"SO-{uuid.uuid4().hex[:8]}",
        "customer": "Huadian Power Equipment",
        "project_name": "10 kV switchgear line-up",
        "contract_no": "HT-2026-0412",
        "technical_agreement_ref": "TA-0412",
        "drawing_refs": ["DWG-0412-01"],
        "lines": [
            {"item": "KYN28-12", "description": "withdrawable switchgear", "qty": 6, "unit": "set"}
        ],
        "requested_date": (date.today() + timedelta(days=120)).isoformat(),
        "amount": 480000,
        "currency": "CNY",
        "priority": "normal",
    }
    body.update(overrides)
    return body


async def create_order(stack: Stack, **overrides: Any) -> str:
    body = order_body(**overrides)
    response = await stack.http.post(
        "/sales/orders", json=body, headers=stack.token("sam", "sales")
    )
    assert response.status_code == 201, response.text
    return str(body["order_no"])


async def wait_task(
    stack: Stack, kind: str, order_no: str, *, timeout: float = 15.0
) -> dict[str, Any]:
    """The open task of `kind` for the order, once its inbox shows it."""
    dept = kind.split(".")[0]
    headers = stack.token("ops-bot", "ops")
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        response = await stack.http.get(
            f"/{dept}/tasks",
            params={"state": "open", "order_no": order_no, "kind": kind},
            headers=headers,
        )
        assert response.status_code == 200, response.text
        if response.json():
            return dict(response.json()[0])
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"no open {kind} for {order_no} after {timeout}s")
        await asyncio.sleep(0.05)


async def complete(
    stack: Stack,
    kind: str,
    order_no: str,
    payload: dict[str, Any],
    *,
    roles: tuple[str, ...] | None = None,
    sub: str = "worker-1",
) -> httpx.Response:
    """Complete the open task of `kind` for the order over HTTP."""
    task = await wait_task(stack, kind, order_no)
    dept = kind.split(".")[0]
    return await stack.http.post(
        f"/{dept}/tasks/{task['task_id']}/complete",
        json=payload,
        headers=stack.token(sub, *(roles or ROLES_FOR.get(kind, (dept,)))),
    )


async def complete_ok(
    stack: Stack, kind: str, order_no: str, payload: dict[str, Any], **kwargs: Any
) -> dict[str, Any]:
    response = await complete(stack, kind, order_no, payload, **kwargs)
    assert response.status_code == 200, f"{kind}: {response.status_code} {response.text}"
    return dict(response.json())


def days_ahead(days: int) -> str:
    return (date.today() + timedelta(days=days)).isoformat()


# Just past a deadline: if a breach leaves work no worker takes, the test server stops
# skipping time and these seconds pass in real time instead of failing the sleep.
MARGIN = timedelta(seconds=2)


async def advance(ts_env: WorkflowEnvironment, delta: timedelta) -> None:
    """Skip workflow time by `delta`; a clear failure when the test server cannot skip."""
    try:
        await ts_env.sleep(delta)
    except RPCError as exc:
        raise AssertionError(
            f"the time-skipping server could not advance {delta} ({exc.message}): a workflow "
            "or activity task is waiting for a worker that does not serve it"
        ) from exc


async def advance_to(ts_env: WorkflowEnvironment, moment: datetime) -> None:
    """Skip workflow time to `moment` (no-op when it has passed)."""
    delta = moment - await ts_env.get_current_time()
    if delta > timedelta(0):
        await advance(ts_env, delta)


# The events that end an activity, each naming the ACTIVITY_TASK_SCHEDULED it ends.
_ACTIVITY_ENDS = {
    EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED: "activity_task_completed_event_attributes",
    EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED: "activity_task_failed_event_attributes",
    EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT: "activity_task_timed_out_event_attributes",
    EventType.EVENT_TYPE_ACTIVITY_TASK_CANCELED: "activity_task_canceled_event_attributes",
}
_WORKFLOW_TASK_EVENTS = {
    EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
    EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED,
    EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
    EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED,
    EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT,
}
_CLOSED = {
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW,
}


def _in_flight(events: list[HistoryEvent]) -> list[str]:
    """What a workflow's history still has under way: an unfinished workflow task (which a
    fired timer, a signal or an ended activity schedules) and activities not ended."""
    if events and events[-1].event_type in _CLOSED:
        return []
    activities: set[int] = set()
    last_task = EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED
    for event in events:
        kind = event.event_type
        if kind == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            activities.add(event.event_id)
        elif kind in _ACTIVITY_ENDS:
            activities.discard(getattr(event, _ACTIVITY_ENDS[kind]).scheduled_event_id)
        elif kind in _WORKFLOW_TASK_EVENTS:
            last_task = kind
    busy = [f"activity scheduled in event {n}" for n in sorted(activities)]
    if last_task != EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
        busy.append(f"workflow task ({EventType.Name(last_task)})")
    return busy


def _children(events: list[HistoryEvent]) -> list[str]:
    return [
        event.start_child_workflow_execution_initiated_event_attributes.workflow_id
        for event in events
        if event.event_type == EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED
    ]


async def settled(stack: Stack, *workflow_ids: str, timeout: float = 15.0) -> None:
    """Wait until the workflows and every child they started have nothing under way.

    After time has been skipped, whatever a fired timer started (an escalation stored, a
    child begun) has then landed: a check that nothing happened reads the final state, not
    the state a slow machine has reached so far.
    """
    deadline = asyncio.get_running_loop().time() + timeout
    waiting = list(workflow_ids)
    seen: set[str] = set()
    while waiting:
        workflow_id = waiting[0]
        events = list((await stack.client.get_workflow_handle(workflow_id).fetch_history()).events)
        busy = _in_flight(events)
        if not busy:
            waiting.pop(0)
            seen.add(workflow_id)
            waiting += [c for c in _children(events) if c not in seen and c not in waiting]
            continue
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{workflow_id} has work under way after {timeout}s: {busy}")
        await asyncio.sleep(0.05)


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


async def escalations(stack: Stack, order_no: str) -> list[dict[str, Any]]:
    response = await stack.http.get(
        "/escalations", params={"order_no": order_no}, headers=stack.token("ops-bot", "ops")
    )
    assert response.status_code == 200, response.text
    return list(response.json())


async def wait_escalation(
    stack: Stack,
    order_no: str,
    predicate: Callable[[dict[str, Any]], bool],
    *,
    timeout: float = 30.0,
) -> dict[str, Any]:
    """The order's escalation matching `predicate`, once GET /escalations lists it."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        found = [e for e in await escalations(stack, order_no) if predicate(e)]
        if found:
            return found[0]
        if asyncio.get_running_loop().time() > deadline:
            listed = await escalations(stack, order_no)
            raise AssertionError(f"no matching escalation for {order_no} in {listed}")
        await asyncio.sleep(0.05)


HISTORIES = Path(__file__).parent / "histories"


def recorded_histories() -> list[WorkflowHistory]:
    """Histories recorded by earlier versions (tests/histories/), named by workflow id, which
    task ids derive from; the runs of an order that continued as new are
    `<workflow id>~run<n>.json`."""
    return [
        WorkflowHistory.from_json(path.stem.split("~")[0], path.read_text())
        for path in sorted(HISTORIES.glob("*.json"))
    ]


def signed_client(stack: Stack) -> Client:
    """The stack's Temporal client signing updates as the gateway does (shared/actor.py): for
    tests that send an update straight to a workflow instead of through the API."""
    return signing_client(stack.client, stack.settings.actor_signing_key())
