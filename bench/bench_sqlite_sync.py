"""Benchmark: what `synchronous=full` costs the embedded Temporal server against `normal`.

`orderflow run` starts the dev server with `--sqlite-pragma synchronous=full` (every commit
synced, so a power loss keeps what Temporal acknowledged); ORDERFLOW_TEMPORAL_SQLITE_SYNC=normal
relaxes it. This starts the same `temporal` binary once per mode and round, each on a fresh
WAL database file, and runs `--workflows` bare workflows (bench/bare.py's `BareOrder` with one
no-op activity and no update), `--concurrency` at a time. Rounds alternate the modes so a
drift in the machine's load hits both. The figures are the median throughput per mode, `full`
beside `normal` as its floor (no target: the ratio is what durability costs on this disk).
`--dir` should be on the disk ORDERFLOW_HOME lives on: on a tmpfs a sync costs nothing.

    .venv/bin/python bench/bench_sqlite_sync.py --workflows 200 --concurrency 16 --rounds 3
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from app.temporal_dev import temporal_binary  # noqa: E402
from bench.bare import BareOrder, noop  # noqa: E402
from bench.figures import Figure, Size, table  # noqa: E402

BENCH = "sqlite_sync"
MODES = ("normal", "full")
# workflows per round, at a time, rounds
SIZES: dict[str, tuple[int, int, int]] = {"tiny": (4, 2, 1), "full": (200, 16, 3)}


# One no-op activity at start, no update: the workflow ends after it.
ONE_ACTIVITY = [[1, 0]]


async def one_round(home: Path, mode: str, workflows: int, concurrency: int) -> float:
    """Workflows per second on a fresh dev server whose SQLite runs with `synchronous=mode`."""
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(temporal_binary()),
        dev_server_extra_args=[
            "--db-filename",
            str(home / f"temporal-{mode}-{uuid.uuid4().hex[:6]}.db"),
            "--sqlite-pragma",
            "journal_mode=wal",
            "--sqlite-pragma",
            f"synchronous={mode}",
        ],
        dev_server_log_level="error",
    )
    queue = f"bench-{mode}"
    worker = Worker(env.client, task_queue=queue, workflows=[BareOrder], activities=[noop])
    gate = asyncio.Semaphore(concurrency)

    async def one() -> None:
        async with gate:
            await env.client.execute_workflow(
                BareOrder.run, ONE_ACTIVITY, id=f"bare-{uuid.uuid4().hex}", task_queue=queue
            )

    async with worker:
        await asyncio.gather(*(one() for _ in range(concurrency)))  # warm up
        started = time.perf_counter()
        await asyncio.gather(*(one() for _ in range(workflows)))
        elapsed = time.perf_counter() - started
    await env.shutdown()
    return workflows / elapsed


async def measure(size: Size) -> list[Figure]:
    """Workflows/s with `synchronous=normal` and `full`, full beside normal."""
    return await main(*SIZES[size], where=None)


async def main(workflows: int, concurrency: int, rounds: int, where: Path | None) -> list[Figure]:
    home = Path(tempfile.mkdtemp(prefix="orderflow-bench-sync-", dir=where))
    try:
        return await _rounds(home, workflows, concurrency, rounds)
    finally:
        shutil.rmtree(home, ignore_errors=True)


async def _rounds(home: Path, workflows: int, concurrency: int, rounds: int) -> list[Figure]:
    print(f"temporal binary {temporal_binary()}, databases in {home}")
    results: dict[str, list[float]] = {mode: [] for mode in MODES}
    for number in range(rounds):
        # Alternate which mode goes first, so neither always runs on a warmer machine.
        for mode in MODES if number % 2 == 0 else tuple(reversed(MODES)):
            rate = await one_round(home, mode, workflows, concurrency)
            results[mode].append(rate)
            print(f"round {number + 1} synchronous={mode:6} {rate:7.1f} workflows/s")
    normal, full = (statistics.median(results[mode]) for mode in MODES)
    name = f"workflows/s, {concurrency} at a time, synchronous="
    return [
        Figure(BENCH, name + "normal", normal, "workflows/s"),
        Figure(BENCH, name + "full", full, "workflows/s", floor=normal),
    ]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--workflows", type=int, default=SIZES["full"][0])
    parser.add_argument("--concurrency", type=int, default=SIZES["full"][1])
    parser.add_argument("--rounds", type=int, default=SIZES["full"][2])
    parser.add_argument("--dir", type=Path, help="where the databases go (default: temp dir)")
    args = parser.parse_args()
    print(table(asyncio.run(main(args.workflows, args.concurrency, args.rounds, args.dir))))
