"""Benchmark: the worker's memory with 1,000 open orders (issue 17, item 4).

Starts the real stack without workers (bench/stack.py: embedded PostgreSQL, a Temporal dev
server and the gateway in this process) and the worker alone in a subprocess (`python -m
app.worker`, every queue, the plant's `ORDERFLOW_MAX_CACHED_WORKFLOWS` unless `--cache` says
otherwise), so its resident memory is its own. Orders are taken in over HTTP, eight at a
time, until each waits at its first human task (contract review: the workflow is parked,
cached on the worker); then the worker's RSS (`VmRSS` of /proc/<pid>/status) is read beside
the RSS it had before the first order. Figures: RSS at start, RSS with the orders open
(target < 1 GiB with 1,000), MiB per open order, and the cache setting it ran with.

Measured on the 2-core machine: 1,000 orders parked at contract review, 401 MiB with the
default cache of 1000 (151 MiB idle, 0.25 MiB per open order), 224 MiB with `--cache 200`.

    .venv/bin/python bench/bench_rss.py                 # full: 1,000 open orders
    .venv/bin/python bench/bench_rss.py --tiny          # 3 open orders
    .venv/bin/python bench/bench_rss.py --orders 300 --cache 100
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
from sqlalchemy import text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.figures import Figure, Size, table  # noqa: E402
from bench.stack import BenchStack, real_stack  # noqa: E402
from shared.db import create_engine  # noqa: E402

BENCH = "rss"
ORDERS: dict[str, int] = {"tiny": 3, "full": 1000}
LIMIT_MIB = 1024.0


def rss_mib(pid: int) -> float:
    """The resident set of process `pid` in MiB (VmRSS)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def _start_worker(stack: BenchStack, cache: int | None) -> subprocess.Popen[bytes]:
    """`python -m app.worker` on the stack's database, dev server and task queues."""
    settings = stack.settings
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("ORDERFLOW_")},
        "PYTHONPATH": str(ROOT),
        "ORDERFLOW_ENV": "test",
        "ORDERFLOW_HOME": str(stack.home),
        "ORDERFLOW_DATABASE_URL": stack.database_url,
        "ORDERFLOW_TEMPORAL_ADDRESS": stack.temporal.service_client.config.target_host,
        "ORDERFLOW_TASK_QUEUE_PREFIX": settings.task_queue_prefix,
        "ORDERFLOW_JWT_KEY": settings.jwt_key.get_secret_value(),
        "ORDERFLOW_ORDER_AUDIT": "false",
        "ORDERFLOW_METRICS_PORT": "0",
    }
    if cache is not None:
        env["ORDERFLOW_MAX_CACHED_WORKFLOWS"] = str(cache)
    log = (stack.home / "worker.log").open("wb")
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
            await asyncio.sleep(0.1)
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


async def _run(stack: BenchStack, orders: int, cache: int | None, size: Size) -> list[Figure]:
    setting = cache if cache is not None else stack.settings.max_cached_workflows
    url, http, headers = stack.database_url, stack.http, stack.headers
    # On full size the worker settles before each reading (its allocator, the SDK's caches).
    settle = 2.0 if size == "full" else 0.0
    worker = _start_worker(stack, cache)
    try:
        # One order first: the worker has imported everything and polls every queue.
        await _take_in(http, headers, range(1))
        await _parked(url, 1, time.monotonic() + 120)
        await asyncio.sleep(settle)
        start = rss_mib(worker.pid)
        started = time.perf_counter()
        await _take_in(http, headers, range(1, orders))
        await _parked(url, orders, time.monotonic() + 60 + orders * 2)
        taken = time.perf_counter() - started
        await asyncio.sleep(settle)
        after = rss_mib(worker.pid)
    finally:
        worker.terminate()
        worker.wait(timeout=60)
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
    async with real_stack(workers=False) as stack:
        return await _run(stack, orders or ORDERS[size], cache, size)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiny", action="store_true", help="3 open orders")
    parser.add_argument("--orders", type=int, help="open orders (default by size)")
    parser.add_argument("--cache", type=int, help="ORDERFLOW_MAX_CACHED_WORKFLOWS for the worker")
    args = parser.parse_args()
    size: Size = "tiny" if args.tiny else "full"
    print(table(asyncio.run(measure(size, orders=args.orders, cache=args.cache))))
