"""Benchmark: the worker's memory with 1,000 open orders (issue 17, item 4).

Starts embedded PostgreSQL (migrated), a Temporal dev server and the gateway in this process,
and the worker alone in a subprocess (`python -m app.worker`, every queue, the plant's
`ORDERFLOW_MAX_CACHED_WORKFLOWS` unless `--cache` says otherwise), so its resident memory is
its own. Orders are taken in over HTTP, eight at a time, until each waits at its first human
task (contract review: the workflow is parked, cached on the worker); then the worker's RSS
(`VmRSS` of /proc/<pid>/status) is read beside the RSS it had before the first order. Figures:
RSS at start, RSS with the orders open (target < 1 GiB with 1,000), MiB per open order, and the
cache setting it ran with.

Measured on the 2-core machine: 1,000 orders parked at contract review, 401 MiB with the
default cache of 1000 (151 MiB idle, 0.25 MiB per open order), 224 MiB with `--cache 200`.

    .venv/bin/python bench/bench_rss.py                 # full: 1,000 open orders
    .venv/bin/python bench/bench_rss.py --tiny          # 10 open orders
    .venv/bin/python bench/bench_rss.py --orders 300 --cache 100
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import uvicorn
from sqlalchemy import text
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.gateway import create_app  # noqa: E402
from app.migrate import upgrade  # noqa: E402
from bench.figures import Figure, Size, table  # noqa: E402
from shared.auth import mint_token  # noqa: E402
from shared.db import create_engine, start_embedded_postgres, stop_embedded_postgres  # noqa: E402
from shared.settings import Settings  # noqa: E402
from shared.temporal import SEARCH_ATTRIBUTES  # noqa: E402

BENCH = "rss"
ORDERS: dict[str, int] = {"tiny": 10, "full": 1000}
LIMIT_MIB = 1024.0
JWT_KEY = "bench-key-" + "x" * 32


def rss_mib(pid: int) -> float:
    """The resident set of process `pid` in MiB (VmRSS)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def _start_worker(home: Path, url: str, target: str, cache: int | None) -> subprocess.Popen[bytes]:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("ORDERFLOW_")},
        "PYTHONPATH": str(ROOT),
        "ORDERFLOW_ENV": "test",
        "ORDERFLOW_HOME": str(home),
        "ORDERFLOW_DATABASE_URL": url,
        "ORDERFLOW_TEMPORAL_ADDRESS": target,
        "ORDERFLOW_JWT_KEY": JWT_KEY,
        "ORDERFLOW_ORDER_AUDIT": "false",
        "ORDERFLOW_METRICS_PORT": "0",
    }
    if cache is not None:
        env["ORDERFLOW_MAX_CACHED_WORKFLOWS"] = str(cache)
    log = (home / "worker.log").open("wb")
    return subprocess.Popen(
        [sys.executable, "-m", "app.worker"], cwd=ROOT, env=env, stdout=log, stderr=log
    )


async def _parked(url: str, orders: int, deadline: float) -> None:
    """Wait until every order has an open task (the read model counts them)."""
    engine = create_engine(url, pool_size=1)
    try:
        while time.monotonic() < deadline:
            async with engine.connect() as conn:
                waiting = await conn.scalar(
                    text("SELECT count(*) FROM sales.order_progress WHERE open_tasks > 0")
                )
            if waiting is not None and waiting >= orders:
                return
            await asyncio.sleep(0.5)
        raise SystemExit(f"only {waiting} of {orders} orders reached a human task in time")
    finally:
        await engine.dispose()


async def _take_in(http: httpx.AsyncClient, headers: dict[str, str], numbers: range) -> None:
    """Take in one order per number, eight requests at a time."""
    gate = asyncio.Semaphore(8)

    async def one(n: int) -> None:
        body = {
            "order_no": f"RSS-{n:05d}",
            "customer": "Bench Co",
            "project_name": "bench",
            "contract_no": f"C-{n}",
            "lines": [{"item": "X", "qty": 1, "unit": "set"}],
            "requested_date": "2030-01-01",
            "amount": 1000,
        }
        async with gate:
            answer = await http.post("/sales/orders", json=body, headers=headers)
            if answer.status_code >= 300:
                raise SystemExit(f"intake answered {answer.status_code}: {answer.text[:300]}")

    await asyncio.gather(*(one(n) for n in numbers))


async def _run(home: Path, url: str, orders: int, cache: int | None, size: Size) -> list[Figure]:
    settings = Settings(env="test", home=home, database_url=url, jwt_key=JWT_KEY, order_audit=False)
    setting = cache if cache is not None else settings.max_cached_workflows
    env = await WorkflowEnvironment.start_local(
        data_converter=pydantic_data_converter,
        search_attributes=SEARCH_ATTRIBUTES,
        dev_server_existing_path=str(Path(sys.executable).parent / "temporal"),
        dev_server_log_level="error",
    )
    worker = _start_worker(home, url, env.client.service_client.config.target_host, cache)
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings, temporal=env.client), port=0, log_level="warning")
    )
    serving = asyncio.create_task(server.serve())
    try:
        while not server.started:
            await asyncio.sleep(0.05)
        port = server.servers[0].sockets[0].getsockname()[1]
        headers = {"Authorization": f"Bearer {mint_token(settings, sub='bench', roles=['admin'])}"}
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=120) as http:
            # One order first: the worker has imported everything and polls every queue.
            await _take_in(http, headers, range(1))
            await _parked(url, 1, time.monotonic() + 120)
            await asyncio.sleep(2)
            start = rss_mib(worker.pid)
            started = time.perf_counter()
            await _take_in(http, headers, range(1, orders))
            await _parked(url, orders, time.monotonic() + 60 + orders * 2)
            taken = time.perf_counter() - started
        await asyncio.sleep(2)
        after = rss_mib(worker.pid)
    finally:
        worker.terminate()
        worker.wait(timeout=60)
        server.should_exit = True
        await serving
        await env.shutdown()
    judged = size == "full" and orders >= 1000
    return [
        Figure(BENCH, "max_cached_workflows", setting, "workflows"),
        Figure(BENCH, f"{orders} orders taken in and parked", taken, "s"),
        Figure(BENCH, "worker RSS, one order open", start, "MiB"),
        Figure(
            BENCH,
            f"worker RSS, {orders} orders open",
            after,
            "MiB",
            target=f"< {LIMIT_MIB:g} MiB",
            ok=(after < LIMIT_MIB) if judged else None,
        ),
        Figure(BENCH, "worker RSS per open order", (after - start) / max(orders - 1, 1), "MiB"),
    ]


async def measure(
    size: Size, *, orders: int | None = None, cache: int | None = None
) -> list[Figure]:
    """Open `orders` (by size) on a fresh stack and read the worker's RSS."""
    home = Path(tempfile.mkdtemp(prefix="orderflow-bench-rss-"))
    url = start_embedded_postgres(home)
    try:
        await asyncio.to_thread(upgrade, url)
        return await _run(home, url, orders or ORDERS[size], cache, size)
    finally:
        stop_embedded_postgres(home)
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiny", action="store_true", help="10 open orders")
    parser.add_argument("--orders", type=int, help="open orders (default by size)")
    parser.add_argument("--cache", type=int, help="ORDERFLOW_MAX_CACHED_WORKFLOWS for the worker")
    args = parser.parse_args()
    size: Size = "tiny" if args.tiny else "full"
    print(table(asyncio.run(measure(size, orders=args.orders, cache=args.cache))))
