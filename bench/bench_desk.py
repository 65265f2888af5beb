"""Benchmark: the desk's pages with 1,000 orders and 10,000 open tasks in the database.

On the real stack without workers (bench/stack.py: embedded PostgreSQL, a Temporal dev
server and the gateway in one process) it writes `--orders` orders and `--tasks` open tasks
(spread over the eight inboxes) straight into the tables, then requests each desk page
`--requests` times, one at a time, signed in as admin: the inbox of every department, the
orders list, order pages and the escalations board. Each page's p95 is a figure; its floor
is the p95 of the API call the page stands on (the desk adds its rendering to it). Issue
14's target: every page under 300 ms p95 here.

    .venv/bin/python bench/bench_desk.py --orders 1000 --tasks 10000 --requests 40
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import insert

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.figures import Figure, Size, percentile, table  # noqa: E402
from bench.stack import real_stack  # noqa: E402
from services.sales.models import Order  # noqa: E402
from shared.db import create_engine  # noqa: E402
from shared.settings import DEPARTMENTS  # noqa: E402
from shared.tasks.kinds import TASK_KINDS  # noqa: E402
from shared.tasks.models import inbox  # noqa: E402

BENCH = "desk"
TARGET_MS = 300.0
# orders, open tasks, requests per page, order pages
SIZES: dict[str, tuple[int, int, int, int]] = {"tiny": (20, 80, 1, 1), "full": (1000, 10000, 40, 3)}


async def seed(url: str, orders: int, tasks: int) -> list[str]:
    """`orders` orders and `tasks` open tasks of theirs, written straight into the tables."""
    engine = create_engine(url)
    now, rng = datetime.now(UTC), random.Random(14)
    numbers = [f"SO-B{n:05d}" for n in range(orders)]
    kinds_of = {d: [k for k, s in TASK_KINDS.items() if s.department == d] for d in DEPARTMENTS}
    async with engine.begin() as conn:
        await conn.execute(
            insert(Order.__table__),  # type: ignore[arg-type,attr-defined]
            [
                {
                    "order_no": no,
                    "workflow_id": f"order-{no}",
                    "customer": f"Customer {n % 97}",
                    "project_name": f"Substation {n}",
                    "contract_no": f"C-{n}",
                    "drawing_refs": [],
                    "requested_date": date.today() + timedelta(days=60 + n % 200),
                    "amount": 100000 + n,
                    "currency": "CNY",
                    "priority": "normal",
                    "stage": rng.choice(["review", "planning", "engineering", "materials"]),
                    "status": "active",
                    "created_by": "bench",
                    "created_at": now - timedelta(days=n % 90),
                    "updated_at": now,
                }
                for n, no in enumerate(numbers)
            ],
        )
        for i, dept in enumerate(DEPARTMENTS):
            share = tasks // len(DEPARTMENTS) + (1 if i < tasks % len(DEPARTMENTS) else 0)
            rows = []
            for _ in range(share):
                no = rng.choice(numbers)
                rows.append(
                    {
                        "task_id": f"bench-{uuid.uuid4().hex[:16]}",
                        "kind": rng.choice(kinds_of[dept]),
                        "order_no": no,
                        "workflow_id": f"order-{no}",
                        "title": f"Bench task of {no}",
                        "state": "open",
                        "context": {"bench": True},
                        "created_at": now - timedelta(hours=rng.randint(0, 400)),
                        "due_at": now + timedelta(hours=rng.randint(-100, 200)),
                        "escalation_level": 0,
                    }
                )
            await conn.execute(insert(inbox(dept)), rows)
    await engine.dispose()
    return numbers


async def timed(http: httpx.AsyncClient, path: str, times: int, **kw: object) -> list[float]:
    spent = []
    for _ in range(times):
        started = time.perf_counter()
        answer = await http.get(path, **kw)  # type: ignore[arg-type]
        spent.append(time.perf_counter() - started)
        if answer.status_code != 200:
            raise RuntimeError(f"{path} answered {answer.status_code}: {answer.text[:300]}")
    return spent


async def measure(size: Size) -> list[Figure]:
    """Each desk page's p95 beside its API call's, with 300 ms as the target."""
    orders, tasks, requests, order_pages = SIZES[size]
    return await run(orders, tasks, requests, order_pages, judged=size == "full")


async def run(
    orders: int, tasks: int, requests: int, order_pages: int, *, judged: bool
) -> list[Figure]:
    figures: list[Figure] = []
    async with real_stack(workers=False) as stack:
        numbers = await seed(stack.database_url, orders, tasks)
        rng = random.Random(7)
        pages = [
            *(
                (f"/desk/inbox/{d}", f"/{d}/tasks", {"state": "open", "limit": 50})
                for d in DEPARTMENTS
            ),
            ("/desk/orders", "/orders", {}),
            *(
                (f"/desk/orders/{no}", f"/orders/{no}", {})
                for no in rng.sample(numbers, order_pages)
            ),
            ("/desk/escalations", "/escalations", {}),
        ]
        token = stack.headers["Authorization"].removeprefix("Bearer ")
        # Per page (the order pages together): the desk's timings and its API call's.
        spent: dict[str, tuple[list[float], list[float]]] = {}
        async with httpx.AsyncClient(
            base_url=stack.http.base_url, timeout=60, cookies={"orderflow_desk": token}
        ) as browser:
            for page, api, params in pages:
                await timed(browser, page, min(requests, 2))  # warm
                name = "/desk/orders/{order_no}" if page.startswith("/desk/orders/") else page
                desk, floor = spent.setdefault(name, ([], []))
                desk += await timed(browser, page, requests)
                floor += await timed(
                    stack.http, api, requests, params=params, headers=stack.headers
                )
    for name, (desk, floor) in spent.items():
        value = percentile(desk, 0.95) * 1000
        figures.append(
            Figure(
                BENCH,
                f"{name} p95",
                value,
                "ms",
                floor=percentile(floor, 0.95) * 1000,
                target=f"< {TARGET_MS:.0f} ms",
                ok=value < TARGET_MS if judged else None,
            )
        )
    return figures


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--orders", type=int, default=SIZES["full"][0])
    parser.add_argument("--tasks", type=int, default=SIZES["full"][1])
    parser.add_argument("--requests", type=int, default=SIZES["full"][2])
    parser.add_argument("--order-pages", type=int, default=SIZES["full"][3])
    args = parser.parse_args()
    figures = asyncio.run(
        run(args.orders, args.tasks, args.requests, args.order_pages, judged=True)
    )
    print(table(figures))
