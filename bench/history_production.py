"""bench_history's second walk: one order from its BOM release (a stored draft named by
`draft_id`) to production on Temporal's time-skipping server, measuring every run of the
order's history (issue 17, item 5: none passes 4,096 events, no payload reaches 64 KB).

The walk: review and plan over HTTP; the BOM uploaded as a draft and released; procurement
starts every requisition's workflow; weeks on, the completeness check finds every bought line
missing and chases them (the first 20 each, one chase for the rest); the material then comes
into stock and is reserved for the order in one transaction (the warehouse's own functions,
as an inspection books a receipt) and the order is told; at the picking time the warehouse
picks the list in rounds of at most 1,000 lines (a completion's limit) until the order is in
production. The requisitions' own workflows (their histories are their own and flat, see
tests/test_requisition_workflow.py) are ended once settled, so skipping weeks does not run
thousands of buyers' task clocks on the test server; the order asks nothing of them before
it closes.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from app.gateway import create_app
from app.worker import build_workers
from bench.bench_history import Driver, bom, payload_sizes
from services.procurement.models import Requisition
from services.warehouse.stock import add_lot, allocate
from shared.actor import signing_clock
from shared.auth import mint_token
from shared.db import create_engine, session_scope
from shared.material_types import MaterialNotice
from shared.settings import Settings
from shared.temporal import ensure_search_attributes
from shared.workflow_ids import requisition_workflow_id

# A step of skipped time a little past the moment it aims at; a picking completion's limit.
MARGIN = timedelta(seconds=2)
PICK_ROUND = 1000
CHASED_EACH = 20
WAIT_LIMIT = 600
# The events that end an activity (naming the one scheduled), a workflow task's, a run's end.
ACTIVITY_ENDS = {
    EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED: "activity_task_completed_event_attributes",
    EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED: "activity_task_failed_event_attributes",
    EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT: "activity_task_timed_out_event_attributes",
    EventType.EVENT_TYPE_ACTIVITY_TASK_CANCELED: "activity_task_canceled_event_attributes",
}
WORKFLOW_TASK_EVENTS = {
    EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
    EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED,
    EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
    EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED,
    EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT,
}
CLOSED = {
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW,
}


@asynccontextmanager
async def skipping_stack(
    home: Path, url: str
) -> AsyncIterator[tuple[WorkflowEnvironment, Driver, AsyncEngine]]:
    """The time-skipping server, workers and gateway in this process."""
    settings = Settings(
        env="test", home=home, database_url=url, jwt_key="bench-key-" + "x" * 32, order_audit=False
    )
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=pydantic_data_converter,
        test_server_existing_path=str(Path(sys.executable).parent / "temporal-test-server"),
    )
    await ensure_search_attributes(env.client)
    engine = create_engine(url, pool_size=10)
    workers = build_workers(env.client, engine, settings)
    runs = [asyncio.create_task(w.run()) for w in workers]
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings, temporal=env.client), port=0, log_level="warning")
    )
    serving = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    admin = {"Authorization": f"Bearer {mint_token(settings, sub='bench', roles=['admin'])}"}
    try:
        # The gateway signs updates at the server's time, which skipping moves ahead of ours.
        with signing_clock(env.get_current_time):
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=600) as http:
                yield env, Driver(http, admin), engine
    finally:
        server.should_exit = True
        await serving
        await asyncio.gather(*(w.shutdown() for w in workers))
        await asyncio.gather(*runs, return_exceptions=True)
        await engine.dispose()
        await env.shutdown()


async def advance_to(env: WorkflowEnvironment, moment: datetime) -> None:
    """Skip to `moment` a day at a time (each skip one short call to the test server)."""
    while (delta := moment - await env.get_current_time()) > timedelta(0):
        await env.sleep(min(delta, timedelta(days=1)))


async def until(check: Any, what: str) -> Any:
    """Poll `check()` until it answers something true (WAIT_LIMIT seconds at most)."""
    deadline = time.monotonic() + WAIT_LIMIT
    while not (answer := await check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"no {what} after {WAIT_LIMIT} s")
        await asyncio.sleep(0.1)
    return answer


async def quiet(client: Client, workflow_id: str) -> bool:
    """Nothing under way in the workflow's history: no activity scheduled and not ended, its
    last workflow task completed (or the run closed)."""
    events = list((await client.get_workflow_handle(workflow_id).fetch_history()).events)
    if events and events[-1].event_type in CLOSED:
        return True
    activities: set[int] = set()
    last_task = EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED
    for event in events:
        kind = event.event_type
        if kind == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            activities.add(event.event_id)
        elif kind in ACTIVITY_ENDS:
            activities.discard(getattr(event, ACTIVITY_ENDS[kind]).scheduled_event_id)
        elif kind in WORKFLOW_TASK_EVENTS:
            last_task = kind
    return not activities and last_task == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED


async def end_requisitions(client: Client, engine: AsyncEngine, order_no: str) -> int:
    """End the order's requisition workflows once each waits for its buyer."""
    async with session_scope(engine) as session:
        keys = list(
            (
                await session.execute(
                    select(col(Requisition.key)).where(col(Requisition.order_no) == order_no)
                )
            ).scalars()
        )
    ids = [requisition_workflow_id(key) for key in keys]
    for start in range(0, len(ids), 100):
        batch = ids[start : start + 100]
        await until(
            lambda batch=batch: _all_quiet(client, batch), "requisitions waiting for buyers"
        )
        await asyncio.gather(
            *(
                client.get_workflow_handle(i).terminate("bench: the order is measured")
                for i in batch
            )
        )
    return len(ids)


async def _all_quiet(client: Client, ids: list[str]) -> bool:
    return all(await asyncio.gather(*(quiet(client, i) for i in ids)))


async def stock_arrives(
    client: Client, engine: AsyncEngine, order_no: str, items: dict[str, Decimal]
) -> None:
    """Every item into stock and reserved for the order in one transaction; the order told."""
    at = datetime.now(UTC)
    async with session_scope(engine) as session:
        for item, qty in items.items():
            await add_lot(
                session, lot_no=f"L-{order_no}", item=item, qty=qty, source="receipt", at=at
            )
        await allocate(session, list(items), by="warehouse", at=at, only_order=order_no)
    notice = MaterialNotice(kind="reserved", message=f"{len(items)} items reserved")
    await client.get_workflow_handle(f"order-{order_no}").signal("material_notice", notice)


async def open_count(driver: Driver, dept: str, order_no: str, kind: str) -> int:
    return len(await driver.tasks(dept, order_no, kind))


async def walk(
    env: WorkflowEnvironment, driver: Driver, engine: AsyncEngine, lines: int, bought: int
) -> dict[str, float]:
    """One order from its BOM release to production; its figures."""
    client, headers = env.client, driver.headers
    tag = uuid.uuid4().hex[:6]
    order_no = f"HP-{tag}"
    await driver.through_review(order_no)
    handle = client.get_workflow_handle(f"order-{order_no}")
    before = sum(len(events) for events in await histories(client, handle.id))
    rows = bom(lines, bought, tag)
    uploaded = await driver.http.post(
        f"/engineering/orders/{order_no}/bom-drafts",
        content=json.dumps({"lines": rows}),
        headers={**headers, "Content-Type": "application/json"},
    )
    uploaded.raise_for_status()
    released = time.perf_counter()
    draft = {"draft_id": uploaded.json()["draft_id"]}
    await driver.complete("engineering", order_no, "engineering.release_bom", draft)
    drawing = {"number": f"DWG-{tag}", "title": "general arrangement", "rev": "A"}
    await driver.complete(
        "engineering", order_no, "engineering.release_drawings", {"drawings": [drawing]}
    )
    await until(lambda: quiet(client, f"order-{order_no}"), "order at rest after release")
    ended = await end_requisitions(client, engine, order_no)
    assert ended == bought, f"MRP proposed {ended} requisitions for {bought} bought lines"

    view = (await driver.http.get(f"/orders/{order_no}", headers=headers)).json()
    day = next(m["planned"] for m in view["milestones"] if m["name"] == "production_start")
    start = datetime.combine(date.fromisoformat(day), datetime.min.time(), UTC)
    start += timedelta(hours=8)
    # The completeness check: every bought line missing, chased.
    await advance_to(env, start - timedelta(days=3) + MARGIN)
    chases = min(bought, CHASED_EACH) + (1 if bought > CHASED_EACH else 0)
    dept, kind = "procurement", "procurement.chase_supply"
    await until(lambda: _is(open_count(driver, dept, order_no, kind), chases), "chases")
    parts = {r["item"]: Decimal(r["qty_per"]) for r in rows if r["make_or_buy"] == "buy"}
    await stock_arrives(client, engine, order_no, parts)
    await until(lambda: _is(open_count(driver, dept, order_no, kind), 0), "chases withdrawn")

    # Picking, in rounds of at most PICK_ROUND lines.
    await advance_to(env, start - timedelta(hours=4) + MARGIN)
    await driver.complete("production", order_no, "production.drawing_check", {"clear": True})
    left = list(parts)
    while left:
        batch, left = left[:PICK_ROUND], left[PICK_ROUND:]
        picked = [{"item": item, "qty_picked": int(parts[item])} for item in batch]
        await driver.complete("warehouse", order_no, "warehouse.picking", {"lines": picked})
    await until(lambda: _stage(driver, order_no, "production"), "production stage")
    elapsed = time.perf_counter() - released
    await until(lambda: quiet(client, f"order-{order_no}"), "order at rest in production")
    runs = await histories(client, f"order-{order_no}")
    sizes = [size for events in runs for e in events for size in payload_sizes(e)]
    return {
        "max_run": max(len(events) for events in runs),
        "events": sum(len(events) for events in runs) - before,
        "runs": len(runs),
        "largest": max(sizes),
        "seconds": elapsed,
    }


async def _is(count: Any, expected: int) -> bool:
    return bool(await count == expected)


async def _stage(driver: Driver, order_no: str, stage: str) -> bool:
    view = (await driver.http.get(f"/orders/{order_no}", headers=driver.headers)).json()
    return bool(view["stage"] == stage)


async def histories(client: Client, workflow_id: str) -> list[list[Any]]:
    """The events of every run of the workflow, first to last."""
    handle = client.get_workflow_handle(workflow_id)
    run_id = (await handle.describe()).raw_description.workflow_execution_info.first_run_id
    found = []
    while True:
        history = await client.get_workflow_handle(workflow_id, run_id=run_id).fetch_history()
        events = list(history.events)
        found.append(events)
        last = events[-1]
        if last.event_type != EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW:
            return found
        run_id = last.workflow_execution_continued_as_new_event_attributes.new_execution_run_id
