"""Drill: `kill -9` the gateway at random moments while orders move from intake through review,
the master plan, the BOM release, purchase orders, receipts and incoming inspection; start it
again each time. The clients resend what got no answer, as a careful client does
(`tests/faults/retrying.py`): an intake with its Idempotency-Key, a receipt with its delivery
note, a completion whose answer was lost learning that it went through. Every order must end
with exactly the rows an undisturbed order has, none lost and none doubled.

The gateway runs as its own process (`uvicorn app.gateway:create_app`, as `make run` starts
it); the workers run in the test against the Temporal dev server.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.testing import WorkflowEnvironment

from app.worker import build_workers
from shared.settings import Settings
from tests.conftest import Stack, settings_for
from tests.faults.orders import assert_same_rows, reference, walk_while
from tests.faults.processes import Gateway
from tests.faults.retrying import RetryingTransport
from tests.helpers import wait_task

ORDERS = 2  # driven side by side while the gateway is killed
KILLS = 5
SEED = 20261205
# A request waits out a gateway restart (a few seconds) as often as the kills demand.
PATIENCE = 90.0


@pytest.fixture
def gateway(
    base_settings: Settings, dev_env: WorkflowEnvironment, tmp_path: Path
) -> Iterator[Gateway]:
    target = dev_env.client.service_client.config.target_host
    made = Gateway(settings_for(base_settings), target, tmp_path)
    try:
        yield made
    finally:
        made.kill_all()


@contextlib.asynccontextmanager
async def workers_running(
    dev_env: WorkflowEnvironment, engine: AsyncEngine, settings: Settings
) -> AsyncIterator[None]:
    workers = build_workers(dev_env.client, engine, settings)
    runs = [asyncio.create_task(w.run()) for w in workers]
    try:
        yield
    finally:
        await asyncio.gather(*(w.shutdown() for w in workers))
        await asyncio.gather(*runs, return_exceptions=True)


async def _answering(gateway: Gateway) -> None:
    """Once the newest gateway answers /healthz."""
    async with httpx.AsyncClient(base_url=gateway.url, timeout=2) as http:
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if (await http.get("/healthz")).status_code == 200:
                    return
            await asyncio.sleep(0.1)


async def _killer(gateway: Gateway, done: asyncio.Event, rng: random.Random) -> list[float]:
    """Kill the gateway `KILLS` times, each at a random moment after it answers, starting a new
    one at once (the clients' requests fail and are resent until it answers)."""
    moments: list[float] = []
    loop = asyncio.get_running_loop()
    started = loop.time()
    while len(moments) < KILLS and not done.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(done.wait(), timeout=rng.uniform(0.3, 2.0))
        if done.is_set():
            break
        gateway.kill(gateway.processes[-1])
        moments.append(round(loop.time() - started, 1))
        gateway.spawn()
        await asyncio.wait_for(_answering(gateway), timeout=60)
    return moments


async def test_killing_the_gateway_loses_and_doubles_nothing(
    gateway: Gateway,
    dev_env: WorkflowEnvironment,
    engine: AsyncEngine,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The drivers wait 15 s for a task; a wait here may span a gateway restart or two.
    monkeypatch.setattr(wait_task, "__kwdefaults__", {"timeout": PATIENCE})
    settings = gateway.settings
    gateway.start()
    transport = RetryingTransport(patience=PATIENCE)
    async with (
        workers_running(dev_env, engine, settings),
        httpx.AsyncClient(base_url=gateway.url, transport=transport, timeout=60) as http,
    ):
        stack = Stack(settings=settings, client=dev_env.client, http=http)
        # An order no kill touches: what every order must end with.
        expected = await reference(stack, engine)
        assert transport.resent == 0, "the reference order met a failure"
        rng = random.Random(SEED)
        walked, moments = await walk_while(stack, ORDERS, lambda done: _killer(gateway, done, rng))
        print(
            f"gateway drill: {ORDERS} orders, gateway killed at {moments} s "
            f"({gateway.kills} kills, {len(gateway.processes)} starts); requests resent "
            f"{transport.resent}, completions done while their answer was lost "
            f"{transport.lost_completions}, receipts answered with the one booked "
            f"{transport.resent_receipts}"
        )
        await assert_same_rows(stack, engine, walked, expected)
        assert gateway.kills >= 1, "the drill killed nothing: the orders moved too fast"
        assert transport.resent >= 1, "no request met a killed gateway"
