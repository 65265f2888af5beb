"""Drill: the gateway is killed (SIGKILL) in the middle of taking an order in.

Intake starts the order's workflow, then writes the order row. The drill holds a lock on
`sales.orders` so the gateway (a real `uvicorn app.gateway:create_app` process, as
`orderflow run` starts it) stops exactly between the two steps: the workflow exists, the row
does not. It kills the gateway there, lets the lock go, starts the workers and a new gateway,
and finds the order running (its row written by the workflow's first activity, its contract
review open); the client's retry with the same Idempotency-Key answers the same 201.
A row the intake before this one left without a workflow answers a cancel with a clear 409.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import WorkflowExecutionStatus
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from app.worker import build_workers
from shared.auth import mint_token
from shared.settings import Settings
from tests.conftest import Stack, settings_for
from tests.faults.processes import Gateway
from tests.helpers import order_body, wait_task

STEP_TIMEOUT = 20.0


@pytest.fixture
def gateway(
    base_settings: Settings, ts_env: WorkflowEnvironment, tmp_path: Path
) -> Iterator[Gateway]:
    """Gateway processes on this test's queues; every one killed at teardown."""
    target = ts_env.client.service_client.config.target_host
    made = Gateway(settings_for(base_settings), target, tmp_path)
    try:
        yield made
    finally:
        made.kill_all()


@contextlib.asynccontextmanager
async def orders_locked(engine: AsyncEngine) -> AsyncIterator[None]:
    """Hold writes to `sales.orders` (reads go on) until the block ends."""
    async with engine.connect() as connection, connection.begin():
        await connection.execute(text("LOCK TABLE sales.orders IN EXCLUSIVE MODE"))
        yield


async def order_rows(engine: AsyncEngine, order_no: str) -> int:
    async with engine.connect() as connection:
        found = await connection.scalar(
            text("SELECT count(*) FROM sales.orders WHERE order_no = :no"), {"no": order_no}
        )
    return int(found or 0)


async def workflow_running(env: WorkflowEnvironment, order_no: str) -> bool:
    """Whether the order's workflow exists and runs."""
    try:
        described = await env.client.get_workflow_handle(f"order-{order_no}").describe()
    except RPCError:
        return False
    return described.status == WorkflowExecutionStatus.RUNNING


async def test_gateway_killed_between_start_and_row_leaves_a_running_order(
    gateway: Gateway, ts_env: WorkflowEnvironment, engine: AsyncEngine
) -> None:
    settings = gateway.settings
    body = order_body(customer=f"Drill Works {uuid.uuid4().hex[:8]}")
    order_no = body["order_no"]
    key = f"drill-{uuid.uuid4()}"
    sales = {"Authorization": f"Bearer {mint_token(settings, sub='sam', roles=['sales'])}"}
    headers = {**sales, "Idempotency-Key": key}

    first = gateway.start()
    print(f"drill: gateway 1 up (pid {first.pid}); no worker yet; sales.orders locked")
    async with httpx.AsyncClient(base_url=gateway.url, timeout=30) as http:
        async with orders_locked(engine):
            intake = asyncio.create_task(http.post("/sales/orders", json=body, headers=headers))
            deadline = time.monotonic() + STEP_TIMEOUT
            while not await workflow_running(ts_env, order_no):
                assert not intake.done(), f"intake answered before it was killed: {intake}"
                assert time.monotonic() < deadline, "the workflow did not start"
                await asyncio.sleep(0.02)
            # The workflow exists; the gateway waits on the lock to write the row.
            assert await order_rows(engine, order_no) == 0
            os.kill(first.pid, signal.SIGKILL)
            print(f"drill: workflow order-{order_no} started, row not written: SIGKILL gateway 1")
            assert first.wait(timeout=10) == -signal.SIGKILL
            with pytest.raises(httpx.HTTPError):
                await intake
        print(f"drill: the client saw its request fail; rows: {await order_rows(engine, order_no)}")

    second = gateway.start()
    print(f"drill: gateway 2 up (pid {second.pid}); workers started")
    workers = build_workers(ts_env.client, engine, settings)
    runs = [asyncio.create_task(w.run()) for w in workers]
    try:
        async with httpx.AsyncClient(base_url=gateway.url, timeout=30) as http:
            stack = Stack(settings=settings, client=ts_env.client, http=http)
            review = await wait_task(stack, "engineering.contract_review", order_no, timeout=30)
            assert await workflow_running(ts_env, order_no)
            print(f"drill: order running again, first task open: {review['kind']}")
            retry = await http.post("/sales/orders", json=body, headers=headers)
            assert retry.status_code == 201, retry.text
            assert retry.json() == {"order_no": order_no, "workflow_id": f"order-{order_no}"}
            view = await http.get(f"/orders/{order_no}", headers=stack.token("o", "ops"))
            assert view.status_code == 200, view.text
            assert (view.json()["status"], view.json()["stage"]) == ("active", "review")
            again = await http.post("/sales/orders", json=body, headers=stack.token("s", "sales"))
            assert again.status_code == 409, again.text
            reviews = await http.get(
                "/engineering/tasks",
                params={"state": "open", "order_no": order_no},
                headers=stack.token("e", "engineering"),
            )
            counts = (await order_rows(engine, order_no), len(reviews.json()))
            assert counts == (1, 1), counts
            print(
                "drill: retry with the same key 201 with the same order; without it 409; "
                f"kills 1, gateway starts 2, order rows {counts[0]}, open reviews {counts[1]}"
            )
    finally:
        await asyncio.gather(*(w.shutdown() for w in workers))
        await asyncio.gather(*runs, return_exceptions=True)


async def test_cancelling_a_row_left_without_a_workflow_says_so(
    stack: Stack, engine: AsyncEngine
) -> None:
    # What the intake before this one left when killed between its two steps: the row alone.
    body = order_body()
    order_no = str(body["order_no"])
    async with engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO sales.orders (order_no, workflow_id, customer, project_name, "
                "contract_no, drawing_refs, requested_date, amount, currency, priority, stage, "
                "status, created_by, created_at, updated_at) VALUES (:no, :wf, 'Old Works', "
                "'p', 'c', '[]', current_date + 100, 1, 'CNY', 'normal', 'review', 'active', "
                "'sam', now(), now())"
            ),
            {"no": order_no, "wf": f"order-{order_no}"},
        )
    response = await stack.http.post(
        f"/sales/orders/{order_no}/cancel",
        json={"reason": "customer withdrew"},
        headers=stack.token("sam", "sales"),
    )
    assert response.status_code == 409, response.text
    assert response.json()["error"] == "workflow_missing", response.text
    assert "no workflow" in response.json()["detail"]
