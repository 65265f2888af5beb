"""Benchmark: read paths with 10,000 orders and 100,000 tasks (issue 17, item 4).

On the real stack without workers (bench/stack.py: embedded PostgreSQL, a Temporal dev server
the gateway needs a client of and the gateway on a real uvicorn, in one process) it seeds
straight into the tables with a few bulk `INSERT … SELECT generate_series` statements:
orders over a year (most active, some closed or cancelled, every stage), their eight
milestones (planned weekly from the order's start, forecasts slipping up to ten days, actuals
on past ones), tasks spread over the eight inboxes (about one in seven open, due from five
days ago to ten days ahead) and escalations of every shortage kind over the year. The
statement-level triggers of migration 0022 keep `sales.order_progress` as the seed goes, as
they do for the workflow's own writes.

Each path is then requested `calls` times, one at a time, signed in as admin: the order list,
`late=true`, a deep page by `after` and by `offset`, `/kpis` and an inbox. Figures: median and
p99 per path; the list and `late=true` are also timed as the single SQL statement they ran
before the read model (16 correlated subqueries per order), in the same run, as the floor they
are no longer judged against but compared with. Targets (full size): `late=true` and `/kpis`
median < 20 ms.

Measured on the shared 2-core machine (load 4-6 from other work, so spread over runs): GET
/orders 5-14 ms median, `late=true` 5-9 ms, a page by `after` halfway down 6-10 ms (by
`offset` 12-16 ms), the inbox 9-23 ms, /kpis 18-34 ms (its statements alone 13-15 ms, of
which 3.3 ms execution in PostgreSQL: the rest is round trips and the driver). The list's
statement: 2-3 ms with the read model, 7-13 ms as it was (both on the new indexes).

    .venv/bin/python bench/bench_reads.py          # full: 10,000 orders, 100,000 tasks
    .venv/bin/python bench/bench_reads.py --tiny   # 100 orders, 1,000 tasks
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.figures import Figure, Size, percentile, table  # noqa: E402
from bench.reads_seed import old_list_query, seed  # noqa: E402
from bench.stack import BenchStack, real_stack  # noqa: E402
from services.orders.kpis import kpis  # noqa: E402
from services.orders.service import list_orders  # noqa: E402
from shared.periods import local_date, month_of, week_of  # noqa: E402

BENCH = "reads"
# Orders, tasks and calls per path of each size.
SIZES: dict[str, tuple[int, int, int]] = {"tiny": (100, 1_000, 3), "full": (10_000, 100_000, 200)}
TARGET_MS = 20.0


async def _timed(call: Callable[[], Awaitable[object]], times: int) -> list[float]:
    """Milliseconds per call, after two warm-up calls."""
    for _ in range(2):
        await call()
    spent = []
    for _ in range(times):
        started = time.perf_counter()
        await call()
        spent.append((time.perf_counter() - started) * 1000)
    return spent


def _figures(name: str, spent: list[float], size: Size, target: bool) -> list[Figure]:
    median = statistics.median(spent)
    judged = size == "full" and target
    return [
        Figure(
            BENCH,
            f"{name} median",
            median,
            "ms",
            target=f"< {TARGET_MS:g} ms" if target else None,
            ok=(median < TARGET_MS) if judged else None,
        ),
        Figure(BENCH, f"{name} p99", percentile(spent, 0.99), "ms"),
    ]


async def _run(stack: BenchStack, size: Size) -> list[Figure]:
    orders, tasks, calls = SIZES[size]
    settings, engine, http = stack.settings, stack.engine, stack.http
    started = time.perf_counter()
    numbers = await seed(engine, orders, tasks)
    figures = [
        Figure(BENCH, f"seed {orders} orders, {tasks} tasks", time.perf_counter() - started, "s")
    ]
    deep = numbers[len(numbers) // 2]  # the cursor of a page halfway down the list

    def get(path: str, **params: str | int) -> Callable[[], Awaitable[object]]:
        async def call() -> object:
            answer = await http.get(path, params=params, headers=stack.headers)
            if answer.status_code != 200:
                raise SystemExit(f"{path} {params} answered {answer.status_code}")
            return answer

        return call

    paths: list[tuple[str, Callable[[], Awaitable[object]], bool]] = [
        ("GET /orders", get("/orders"), False),
        ("GET /orders?late=true", get("/orders", late="true"), True),
        ("GET /orders?after= (halfway)", get("/orders", after=deep), False),
        ("GET /orders?offset= (halfway)", get("/orders", offset=len(numbers) // 2), False),
        ("GET /kpis", get("/kpis"), True),
        ("GET /planning/tasks?state=open", get("/planning/tasks", state="open"), False),
    ]
    for name, call, target in paths:
        figures += _figures(name, await _timed(call, calls), size, target)

    # The list's statement alone, with the read model and as it was before it.
    def now_list(late: bool | None) -> Callable[[], Awaitable[object]]:
        async def call() -> object:
            async with AsyncSession(engine) as session:
                return await list_orders(session, late=late)

        return call

    def old_list(late: bool | None) -> Callable[[], Awaitable[object]]:
        async def call() -> object:
            async with AsyncSession(engine) as session:
                query = old_list_query(datetime.now(UTC), late=late)
                return (await session.execute(query)).all()

        return call

    for late in (None, True):
        label = "list_orders" + (" late=true" if late else "")
        figures += _figures(
            f"{label}, read model (SQL)", await _timed(now_list(late), calls), size, False
        )
        figures += _figures(
            f"{label}, before 0022 (SQL)", await _timed(old_list(late), calls), size, False
        )

    # /kpis without HTTP: its statements one after another on one session.
    async def kpis_alone() -> object:
        today = local_date(datetime.now(UTC), settings.timezone)
        async with AsyncSession(engine) as session:
            return await kpis(
                session,
                week=week_of(today, settings.timezone),
                month=month_of(today, settings.timezone),
            )

    figures += _figures("kpis() (SQL)", await _timed(kpis_alone, calls), size, False)
    return figures


async def measure(size: Size) -> list[Figure]:
    """Seed a fresh database of `size` and time the read paths on it."""
    async with real_stack(workers=False) as stack:
        return await _run(stack, size)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiny", action="store_true", help="100 orders, 1,000 tasks")
    args = parser.parse_args()
    print(table(asyncio.run(measure("tiny" if args.tiny else "full"))))
