"""The bare engine: workflows and an activity that do nothing of orderflow's, so a figure of
orderflow can be set beside what the same dev server and SDK cost for that shape of work.

- `Echo`: a workflow whose update only answers; `bare_updates` times its round trip (the
  floor of a task completion, bench/bench_completion.py).
- `BareOrder`: a workflow with an order's updates and activities. `plan[0]` is
  [activities, local activities] it runs when it starts; then it takes one `step` update per
  later entry, each running that entry's activities (no-ops) before it answers, and ends
  after the last. `activity_plan` reads the plan off a real order's history, `bare_lifecycle`
  drives bare orders through it (the floor of orders/s through review, bench/bench_review.py).

Both run in the workflow sandbox, as orderflow's workflows do, on a worker of their own task
queue, driven straight through the Temporal client (no HTTP, no database).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.worker import Worker

# [activities, local activities] per step: at start, then in each update.
Plan = list[list[int]]


@activity.defn(name="bare_noop")
async def noop() -> None:
    """Nothing: what is measured is the engine's round trip for an activity."""


@workflow.defn(name="BareEcho")
class Echo:
    """A workflow whose update only answers: the bare update round trip."""

    def __init__(self) -> None:
        self.done = False

    @workflow.run
    async def run(self) -> None:
        await workflow.wait_condition(lambda: self.done)

    @workflow.update
    async def echo(self, value: int) -> int:
        return value

    @workflow.signal
    async def finish(self) -> None:
        self.done = True


@workflow.defn(name="BareOrder")
class BareOrder:
    """A bare order: the activities of `plan[0]` at start, then one update per later step."""

    def __init__(self) -> None:
        self.steps_done = 0

    @workflow.run
    async def run(self, plan: Plan) -> int:
        await _activities(plan[0])
        await workflow.wait_condition(
            lambda: self.steps_done == len(plan) - 1 and workflow.all_handlers_finished()
        )
        return self.steps_done

    @workflow.update
    async def step(self, work: list[int]) -> int:
        await _activities(work)
        self.steps_done += 1
        return self.steps_done


async def _activities(work: list[int]) -> None:
    """`work` = [activities, local activities], run back to back (locals first, as an
    orderflow step closes its task locally before its department's activities)."""
    regular, local = work
    for _ in range(local):
        await workflow.execute_local_activity(
            noop, start_to_close_timeout=timedelta(seconds=30), summary="local no-op"
        )
    for _ in range(regular):
        await workflow.execute_activity(
            noop, start_to_close_timeout=timedelta(seconds=30), summary="no-op"
        )


@dataclass
class Run:
    """One driven batch: wall time and each update's (completion's) round trip in seconds."""

    orders: int
    elapsed: float
    latencies: list[float] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.orders / self.elapsed


def _worker(client: Client) -> tuple[Worker, str]:
    queue = f"bare-{uuid.uuid4().hex[:8]}"
    return Worker(client, task_queue=queue, workflows=[Echo, BareOrder], activities=[noop]), queue


async def bare_updates(client: Client, clients: int, per_client: int) -> list[float]:
    """Update round trips in seconds: `clients` Echo workflows at once, `per_client` updates
    each after one unmeasured (the first workflow task)."""
    worker, queue = _worker(client)
    latencies: list[float] = []

    async def one() -> None:
        handle = await client.start_workflow(
            Echo.run, id=f"bare-echo-{uuid.uuid4().hex}", task_queue=queue
        )
        await handle.execute_update(Echo.echo, 0)
        for k in range(per_client):
            started = time.perf_counter()
            await handle.execute_update(Echo.echo, k)
            latencies.append(time.perf_counter() - started)
        await handle.signal(Echo.finish)
        await handle.result()

    async with worker:
        await asyncio.gather(*(one() for _ in range(clients)))
    return latencies


async def bare_lifecycle(client: Client, plan: Plan, orders: int, concurrency: int) -> Run:
    """Drive `orders` BareOrders through `plan`, `concurrency` at a time."""
    worker, queue = _worker(client)
    latencies: list[float] = []
    gate = asyncio.Semaphore(concurrency)

    async def one() -> None:
        async with gate:
            handle = await client.start_workflow(
                BareOrder.run, plan, id=f"bare-order-{uuid.uuid4().hex}", task_queue=queue
            )
            for work in plan[1:]:
                started = time.perf_counter()
                await handle.execute_update(BareOrder.step, work)
                latencies.append(time.perf_counter() - started)
            await handle.result()

    async with worker:
        started = time.perf_counter()
        await asyncio.gather(*(one() for _ in range(orders)))
        elapsed = time.perf_counter() - started
    return Run(orders=orders, elapsed=elapsed, latencies=latencies)


async def activity_plan(client: Client, workflow_id: str) -> Plan:
    """[activities, local activities] a workflow ran before its first accepted update, then
    within each update's span (up to the next one's acceptance): the plan a BareOrder copies."""
    plan = [[0, 0]]
    async for event in client.get_workflow_handle(workflow_id).fetch_history_events():
        if event.HasField("workflow_execution_update_accepted_event_attributes"):
            plan.append([0, 0])
        elif event.HasField("activity_task_scheduled_event_attributes"):
            plan[-1][0] += 1
        elif event.marker_recorded_event_attributes.marker_name == "core_local_activity":
            plan[-1][1] += 1
    return plan
