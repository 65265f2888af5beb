"""Drill: `kill -9` the worker at random moments while orders move from intake through review,
the master plan, the BOM release (MRP and its requisitions), purchase orders, receipts and
incoming inspection; start it again each time. Every order must end with exactly the rows an
undisturbed order has: requisitions, purchase orders, receipts, lots, ledger movements,
inspections, inbox tasks and escalations, none lost and none doubled.

The worker runs as its own process (`python -m app.worker`, as `make run` starts it) against
the Temporal dev server and this test's database; the gateway runs in the test.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.testing import WorkflowEnvironment

from shared.settings import Settings
from tests.conftest import run_stack, settings_for
from tests.faults.orders import assert_same_rows, reference, walk_while
from tests.helpers import wait_task

REPO = Path(__file__).resolve().parents[2]
ORDERS = 2  # driven side by side while the worker is killed
KILLS = 4
SEED = 20261204
# A worker killed inside an activity is retried only when its start-to-close timeout (30 s)
# runs out; waits for the next task allow for that.
PATIENCE = 120.0


class Worker:
    """`python -m app.worker` on the test's settings; killed and started again by the drill."""

    def __init__(self, settings: Settings, target: str, log: Path) -> None:
        self.log = log
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("ORDERFLOW_")},
            "ORDERFLOW_ENV": "test",
            "ORDERFLOW_HOME": str(settings.home),
            "ORDERFLOW_DATABASE_URL": settings.database_url,
            "ORDERFLOW_TEMPORAL_ADDRESS": target,
            "ORDERFLOW_TASK_QUEUE_PREFIX": settings.task_queue_prefix,
            "ORDERFLOW_JWT_KEY": settings.jwt_key.get_secret_value(),
            "ORDERFLOW_WEBHOOK_SECRET": settings.webhook_secret.get_secret_value(),
            "ORDERFLOW_METRICS_PORT": "0",
            "ORDERFLOW_ORDER_AUDIT": str(settings.order_audit).lower(),
        }
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = self.kills = 0

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "app.worker"],
                cwd=REPO,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        self.starts += 1

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()
        self.kills += 1

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.kill()


@pytest.fixture
def drill_settings(base_settings: Settings) -> Settings:
    return settings_for(base_settings)


@pytest.fixture
def worker(
    drill_settings: Settings, dev_env: WorkflowEnvironment, tmp_path: Path
) -> Iterator[Worker]:
    target = dev_env.client.service_client.config.target_host
    running = Worker(drill_settings, target, tmp_path / "worker.log")
    yield running
    running.stop()


async def _killer(worker: Worker, done: asyncio.Event, rng: random.Random) -> list[float]:
    """Kill the worker `KILLS` times at random moments, starting it again at once."""
    moments: list[float] = []
    loop = asyncio.get_running_loop()
    started = loop.time()
    while len(moments) < KILLS and not done.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(done.wait(), timeout=rng.uniform(1.0, 4.0))
        if done.is_set():
            break
        worker.kill()
        moments.append(round(loop.time() - started, 1))
        worker.start()
    return moments


async def test_killing_the_worker_loses_and_doubles_nothing(
    drill_settings: Settings,
    dev_env: WorkflowEnvironment,
    worker: Worker,
    engine: AsyncEngine,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The drivers wait 15 s for a task; a killed worker's activity is retried only after its
    # 30 s start-to-close timeout.
    monkeypatch.setattr(wait_task, "__kwdefaults__", {"timeout": PATIENCE})
    worker.start()
    async with run_stack(drill_settings, dev_env.client, workers=False) as stack:
        # A completion whose workflow's worker was just killed answers once the task is retried.
        stack.http.timeout = httpx.Timeout(PATIENCE)
        # An order no kill touches: what every order must end with.
        expected = await reference(stack, engine)
        rng = random.Random(SEED)
        walked, moments = await walk_while(stack, ORDERS, lambda done: _killer(worker, done, rng))
        print(
            f"worker drill: {ORDERS} orders, worker killed at {moments} s "
            f"({worker.kills} kills, {worker.starts} starts)"
        )
        await assert_same_rows(stack, engine, walked, expected)
        assert worker.kills >= 1, "the drill killed nothing: the orders moved too fast"
