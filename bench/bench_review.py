"""Benchmark: orders driven from intake to stage `engineering` over HTTP, on the real stack.

Starts the Temporal dev server (WAL SQLite), embedded PostgreSQL, the workers and the gateway
in one process, then drives `--orders` orders with `--concurrency` at a time. Prints
throughput and completion latency percentiles. A completion returns once the order has moved
on (its next tasks are open), so it spans several activities. Measured on the 2-core machine,
everything in one process: ~1.1 orders/s at concurrency 4, completion p50 ~380 ms, p99 ~780 ms;
a change that falls below 0.8 orders/s or above 1 s p99 is a regression to explain.

    .venv/bin/python bench/bench_review.py --orders 40 --concurrency 8
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import uvicorn
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.gateway import create_app  # noqa: E402
from app.migrate import upgrade  # noqa: E402
from app.worker import build_workers  # noqa: E402
from shared.auth import mint_token  # noqa: E402
from shared.db import create_engine, start_embedded_postgres, stop_embedded_postgres  # noqa: E402
from shared.settings import Settings  # noqa: E402
from shared.temporal import SEARCH_ATTRIBUTES  # noqa: E402

STEPS = [
    ("engineering.contract_review", "engineering", {"ok": True, "design_days": 5}),
    ("procurement.lead_time_review", "procurement", {"lead_days": 20, "critical_items": []}),
    ("planning.delivery_review", "planning", None),
    ("sales.confirm_delivery", "sales", {"accepted": True}),
    ("planning.master_plan", "planning", {"accept_proposal": True}),
]


async def drive(http: httpx.AsyncClient, headers: dict[str, str], latencies: list[float]) -> None:
    order_no = f"B-{uuid.uuid4().hex[:10]}"
    body = {
        "order_no": order_no,
        "customer": "Bench Co",
        "project_name": "bench",
        "contract_no": "C-1",
        "lines": [{"item": "X", "qty": 1, "unit": "set"}],
        "requested_date": "2030-01-01",
        "amount": 1000,
    }
    (await http.post("/sales/orders", json=body, headers=headers)).raise_for_status()
    for kind, dept, payload in STEPS:
        while True:
            found = await http.get(
                f"/{dept}/tasks",
                params={"state": "open", "order_no": order_no, "kind": kind},
                headers=headers,
            )
            if found.json():
                task = found.json()[0]
                break
            await asyncio.sleep(0.02)
        data = payload or {"delivery_date": task["context"]["proposed_date"]}
        started = time.perf_counter()
        done = await http.post(
            f"/{dept}/tasks/{task['task_id']}/complete", json=data, headers=headers
        )
        latencies.append(time.perf_counter() - started)
        done.raise_for_status()


async def main(home: Path, url: str, orders: int, concurrency: int) -> None:
    settings = Settings(
        env="test", home=home, database_url=url, jwt_key="bench-key-" + "x" * 32, order_audit=False
    )
    env = await WorkflowEnvironment.start_local(
        data_converter=pydantic_data_converter,
        search_attributes=SEARCH_ATTRIBUTES,
        dev_server_existing_path=str(Path(sys.executable).parent / "temporal"),
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
    workers = build_workers(env.client, create_engine(url, pool_size=10), settings)
    runs = [asyncio.create_task(w.run()) for w in workers]
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings, temporal=env.client), port=0, log_level="warning")
    )
    serving = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    admin = {"Authorization": f"Bearer {mint_token(settings, sub='bench', roles=['admin'])}"}
    latencies: list[float] = []
    gate = asyncio.Semaphore(concurrency)

    async def one(http: httpx.AsyncClient) -> None:
        async with gate:
            await drive(http, admin, latencies)

    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60) as http:
        started = time.perf_counter()
        await asyncio.gather(*(one(http) for _ in range(orders)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    p50 = statistics.median(latencies) * 1000
    p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000
    print(f"{orders} orders to engineering in {elapsed:.1f}s: {orders / elapsed:.2f} orders/s")
    print(f"completion latency: p50 {p50:.0f} ms, p99 {p99:.0f} ms ({len(latencies)} calls)")
    server.should_exit = True
    await serving
    await asyncio.gather(*(w.shutdown() for w in workers))
    await asyncio.gather(*runs, return_exceptions=True)
    await env.shutdown()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=40)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="orderflow-bench-"))
    url = start_embedded_postgres(home)
    upgrade(url)
    try:
        asyncio.run(main(home, url, args.orders, args.concurrency))
    finally:
        stop_embedded_postgres(home)
