"""A worker whose one activity never ends, stopped by `app.worker.run_until_stopped`.

tests/test_runner_lifecycle.py runs it as a separate process: `python tests/stuck_worker.py
ADDRESS QUEUE GRACE`. The activity prints "running" once it runs, then ignores every
cancellation, as an activity stuck in a call that never returns would.
"""

from __future__ import annotations

import asyncio
import sys
from datetime import timedelta
from pathlib import Path

from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.worker import run_until_stopped  # noqa: E402


@activity.defn
async def hang() -> None:
    """Never return, whatever is asked of it."""
    print("running", flush=True)
    while True:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            continue


@workflow.defn
class HangWorkflow:
    @workflow.run
    async def run(self) -> None:
        await workflow.execute_activity(hang, start_to_close_timeout=timedelta(hours=1))


async def main(address: str, queue: str, grace: float) -> None:
    client = await Client.connect(address)
    worker = Worker(
        client,
        task_queue=queue,
        workflows=[HangWorkflow],
        activities=[hang],
        # The workflow lives in __main__, which the sandbox cannot re-import.
        workflow_runner=UnsandboxedWorkflowRunner(),
        graceful_shutdown_timeout=timedelta(seconds=grace),
    )
    await run_until_stopped([worker], grace)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], float(sys.argv[3])))
