"""The bare engine's floor for an order's lifecycle: a workflow with the same updates and as
many activities as an orderflow order, and nothing else.

`BareOrder` runs `plan[0]` no-op activities when it starts, then takes one `step` update per
later entry of the plan, each running `plan[i]` no-op activities before it answers, and ends
after the last. Driven straight through the Temporal client (no HTTP, no database), it is
what the same dev server and SDK cost for that shape of work; bench/bench_review.py takes the
plan from a real order's history in the same run.
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


@activity.defn(name="bare_noop")
async def noop() -> None:
    """Nothing: what is measured is the engine's round trip for an activity."""


async def _run(count: int) -> None:
    for _ in range(count):
        await workflow.execute_activity(noop, start_to_close_timeout=timedelta(seconds=30))


@workflow.defn(name="BareOrder", sandboxed=False)
class BareOrder:
    def __init__(self) -> None:
        self.steps_done = 0

    @workflow.run
    async def run(self, plan: list[int]) -> int:
        await _run(plan[0])
        await workflow.wait_condition(lambda: self.steps_done == len(plan) - 1)
        return self.steps_done

    @workflow.update
    async def step(self, activities: int) -> int:
        await _run(activities)
        self.steps_done += 1
        return self.steps_done


@dataclass
class Run:
    """One driven batch: wall time and each update's (completion's) round trip in seconds."""

    orders: int
    elapsed: float
    latencies: list[float] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.orders / self.elapsed


async def bare_lifecycle(client: Client, plan: list[int], orders: int, concurrency: int) -> Run:
    """Drive `orders` BareOrders through `plan`, `concurrency` at a time, on a worker of
    their own task queue."""
    queue = f"bare-{uuid.uuid4().hex[:8]}"
    latencies: list[float] = []
    gate = asyncio.Semaphore(concurrency)

    async def one() -> None:
        async with gate:
            handle = await client.start_workflow(
                BareOrder.run, plan, id=f"bare-{uuid.uuid4().hex}", task_queue=queue
            )
            for activities in plan[1:]:
                started = time.perf_counter()
                await handle.execute_update(BareOrder.step, activities)
                latencies.append(time.perf_counter() - started)
            await handle.result()

    async with Worker(client, task_queue=queue, workflows=[BareOrder], activities=[noop]):
        started = time.perf_counter()
        await asyncio.gather(*(one() for _ in range(orders)))
        elapsed = time.perf_counter() - started
    return Run(orders=orders, elapsed=elapsed, latencies=latencies)
