"""The worker heartbeats for database activities (`shared.heartbeats`), on the real dev server.

A live attempt longer than its heartbeat timeout is not timed out (so the short heartbeat
timeout only catches a dead worker), and a workflow that cancels such an activity does not cut
its body short: the write it was making lands whole, as it did before activities heartbeated.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

from temporalio import activity, workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from shared.heartbeats import Heartbeats
from tests.dev_server import dev_server_env

__all__ = ["dev_server_env"]

WRITES: list[str] = []


@activity.defn
async def slow_write(key: str) -> int:
    """Takes two and a half heartbeat timeouts, then 'writes' and says which attempt did."""
    await asyncio.sleep(2.5)
    WRITES.append(key)
    return activity.info().attempt


@workflow.defn(sandboxed=False)
class SlowWrite:
    @workflow.run
    async def run(self, key: str, cancel_after: float) -> int:
        handle = workflow.start_activity(
            slow_write,
            key,
            start_to_close_timeout=timedelta(seconds=30),
            heartbeat_timeout=timedelta(seconds=1),
            retry_policy=RetryPolicy(maximum_attempts=1),
            cancellation_type=workflow.ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
        )
        if cancel_after:
            await workflow.sleep(cancel_after)
            handle.cancel()
        try:
            return await handle
        except ActivityError:
            return -1


async def _run(
    env: WorkflowEnvironment, interceptors: list[Heartbeats], cancel_after: float
) -> int:
    queue = f"hb-{uuid.uuid4().hex[:8]}"
    async with Worker(
        env.client,
        task_queue=queue,
        workflows=[SlowWrite],
        activities=[slow_write],
        interceptors=interceptors,
    ):
        key = f"w-{uuid.uuid4().hex[:8]}"
        result: int = await env.client.execute_workflow(
            SlowWrite.run, args=[key, cancel_after], id=key, task_queue=queue
        )
        return result


async def test_a_live_attempt_outlasts_its_heartbeat_timeout_and_a_cancel_lets_it_finish(
    dev_env: WorkflowEnvironment,
) -> None:
    # Heartbeated: the first attempt finishes although it runs 2.5 heartbeat timeouts.
    assert await _run(dev_env, [Heartbeats()], cancel_after=0) == 1
    # Cancelled by its workflow after a second: the body still finishes its write.
    before = len(WRITES)
    assert await _run(dev_env, [Heartbeats()], cancel_after=1) == 1
    assert len(WRITES) == before + 1


async def test_without_the_heartbeats_the_same_attempt_times_out(
    dev_env: WorkflowEnvironment,
) -> None:
    # The check above can fail: with no one heartbeating, the server times the attempt out.
    assert await _run(dev_env, [], cancel_after=0) == -1
