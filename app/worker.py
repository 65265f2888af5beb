"""Workers: the workflow queue and every department's activity queue, in one process or many.

`python -m app.worker` serves every queue (what `make run` starts); `--queue NAME` serves
one (a Kubernetes worker Deployment per queue).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from datetime import timedelta
from types import FrameType
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client
from temporalio.worker import Interceptor, Worker

from app.schedules import ensure_schedules
from services.planning.activities import PlanningActivities
from services.sales.activities import SalesActivities
from shared.activity_errors import ActivityErrors
from shared.actor import ActorKeys
from shared.db import create_engine
from shared.heartbeats import Heartbeats
from shared.metrics import worker_runtime
from shared.settings import DEPARTMENTS, Settings, get_settings
from shared.tasks.activities import TaskActivities
from shared.telemetry import flush_tracing, setup_tracing, worker_interceptors
from shared.temporal import connect, department_queue, workflow_queue
from shared.workflow_ids import calendar_check_workflow_id
from shared.working_time.changes import CalendarActivities
from shared.working_time.store import plant_today
from workflows.assembly_issue import AssemblyIssueWorkflow
from workflows.calendar_change import CalendarChangeWorkflow
from workflows.channel_test import ChannelTestWorkflow
from workflows.clients import CalendarChangeInput, start_calendar_change
from workflows.daily_mrp import DailyMrpWorkflow
from workflows.design_change import DesignChangeWorkflow
from workflows.digest import EscalationDigestWorkflow
from workflows.escalation import EscalationDeliveryWorkflow
from workflows.inspection import IncomingInspectionWorkflow
from workflows.notices import NoticeDeliveryWorkflow
from workflows.order import OrderWorkflow
from workflows.promise_watch import PromiseWatchWorkflow
from workflows.replenishment import StockReplenishmentWorkflow
from workflows.reports import PlanReportWorkflow
from workflows.requisition import RequisitionWorkflow
from workflows.service_case import ServiceCaseWorkflow
from workflows.unshipped import WeeklyUnshippedWorkflow

log = logging.getLogger("orderflow.worker")

# After the graceful shutdown timeout the SDK cancels the running activities and waits for
# them; one that ignores its cancellation would hold the process (and its metrics port) for
# ever, so the process exits this many seconds later whatever is still running.
HARD_STOP_MARGIN = 5.0

WORKFLOWS: list[type] = [
    OrderWorkflow,
    EscalationDeliveryWorkflow,
    IncomingInspectionWorkflow,
    DailyMrpWorkflow,
    StockReplenishmentWorkflow,
    RequisitionWorkflow,
    DesignChangeWorkflow,
    AssemblyIssueWorkflow,
    WeeklyUnshippedWorkflow,
    PlanReportWorkflow,
    CalendarChangeWorkflow,
    EscalationDigestWorkflow,
    ChannelTestWorkflow,
    ServiceCaseWorkflow,
    NoticeDeliveryWorkflow,
    PromiseWatchWorkflow,
]


def activities_for(
    department: str, engine: AsyncEngine, settings: Settings
) -> list[Callable[..., Any]]:
    """The bound activity methods a department's queue serves (its `activities.ACTIVITIES`)."""
    module = importlib.import_module(f"services.{department}.activities")
    instances: list[Any] = [cls(engine, settings) for cls in module.ACTIVITIES]
    methods: list[Callable[..., Any]] = []
    for instance in instances:
        for name in dir(type(instance)):
            # Look on the class, so properties are not evaluated while searching.
            if hasattr(getattr(type(instance), name), "__temporal_activity_definition"):
                methods.append(getattr(instance, name))
    return methods


def calendar_activities(
    engine: AsyncEngine, settings: Settings, client: Client
) -> list[Callable[..., Any]]:
    """The bound methods of CalendarActivities (served on planning's queue)."""
    calendar = CalendarActivities(engine, settings, client)
    return [calendar.remind_unconfirmed_years, calendar.last_change, calendar.running_workflows]


def local_writes(engine: AsyncEngine, settings: Settings) -> list[Callable[..., Any]]:
    """The activities the workflow worker runs locally (workflows/common.local_db_write):
    opening and closing inbox rows, an order's stage and its timeline steps."""
    tasks = TaskActivities(engine, settings)
    return [
        tasks.open_task,
        tasks.close_task,
        SalesActivities(engine, settings).record_stage,
        PlanningActivities(engine, settings).record_event,
    ]


def build_workers(
    client: Client,
    engine: AsyncEngine,
    settings: Settings,
    *,
    queues: Sequence[str] | None = None,
    graceful_shutdown: timedelta = timedelta(0),
    activity_interceptors: Sequence[Interceptor] = (),
) -> list[Worker]:
    """One Worker per task queue (all of them unless `queues` names some), each traced.

    On shutdown each lets running activities finish for `graceful_shutdown`, then cancels them.
    `activity_interceptors` wrap every activity after the standard ones (the fault drills').
    """
    prefix = settings.task_queue_prefix
    wanted = set(queues) if queues else None
    tracing = worker_interceptors(client)
    workers = []
    if wanted is None or workflow_queue(prefix) in wanted or "workflows" in wanted:
        workers.append(
            Worker(
                client,
                task_queue=workflow_queue(prefix),
                workflows=WORKFLOWS,
                # Memory against replays: see Settings.max_cached_workflows.
                max_cached_workflows=settings.max_cached_workflows,
                # Short writes the workflows run as local activities.
                activities=local_writes(engine, settings),
                # The update validators check actor assertions with this worker's key.
                interceptors=[*tracing, ActorKeys(settings.actor_signing_key()), ActivityErrors()],
                graceful_shutdown_timeout=graceful_shutdown,
            )
        )
    for dept in DEPARTMENTS:
        queue = department_queue(prefix, dept)
        if wanted is None or queue in wanted or dept in wanted:
            activities = activities_for(dept, engine, settings)
            if dept == "planning":
                # The calendar's activities list running workflows: they need the client.
                activities += calendar_activities(engine, settings, client)
            workers.append(
                Worker(
                    client,
                    task_queue=queue,
                    activities=activities,
                    interceptors=[*tracing, Heartbeats(), ActivityErrors(), *activity_interceptors],
                    graceful_shutdown_timeout=graceful_shutdown,
                )
            )
    return workers


async def serve(settings: Settings, queues: Sequence[str] | None = None) -> None:
    """Run the workers until SIGINT or SIGTERM, then drain and stop."""
    setup_tracing(settings)
    try:
        runtime = worker_runtime(settings)
    except ValueError as exc:  # the Prometheus exporter could not listen
        raise SystemExit(
            f"cannot serve worker metrics on port {settings.metrics_port} ({exc}); "
            "set ORDERFLOW_METRICS_PORT to a free port, or 0 for none"
        ) from exc
    if runtime is not None:
        log.info("Temporal metrics on http://0.0.0.0:%d/metrics", settings.metrics_port)
    client = await connect(settings, runtime=runtime)
    engine = create_engine(settings.database_url)
    grace = settings.worker_shutdown_seconds
    workers = build_workers(
        client, engine, settings, queues=queues, graceful_shutdown=timedelta(seconds=grace)
    )
    if any(w.task_queue == workflow_queue(settings.task_queue_prefix) for w in workers):
        await ensure_schedules(client, settings)  # the daily MRP run (P4.2)
        await check_calendar(client, settings)
    await run_until_stopped(workers, grace)
    await engine.dispose()
    flush_tracing()  # main() leaves with os._exit, which would drop the last batch


async def check_calendar(client: Client, settings: Settings) -> bool:
    """At start, once a day: remind planning of unpublished years, and tell running workflows
    the last calendar change if its run was never started (CalendarChangeWorkflow does both;
    started here without touching the database, so a worker starts while it is down). False
    when today's check was started already."""
    prefix = settings.task_queue_prefix
    today = plant_today(settings).isoformat()
    return await start_calendar_change(
        client,
        calendar_check_workflow_id(prefix, today),
        CalendarChangeInput(queue_prefix=prefix),
        f"calendar check of {today}: years not yet published, the last change told",
    )


async def run_until_stopped(workers: Sequence[Worker], grace: float) -> None:
    """Run `workers` until SIGINT or SIGTERM, then drain them for at most `grace` seconds.

    The workers are built with `graceful_shutdown_timeout=grace`. A second signal exits the
    process at once, and so does the hard deadline `HARD_STOP_MARGIN` seconds after `grace`
    when an activity still holds on after its cancellation (both with code 1).
    """
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    stopping = threading.Event()
    deadline: list[threading.Timer] = []

    # Plain signal handlers rather than the loop's: they run even when an activity blocks the
    # event loop, and the hard deadline is a thread for the same reason.
    def on_signal(signum: int, frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if stopping.is_set():
            _exit_now(f"{name} again: exiting without waiting for running activities")
        stopping.set()
        limit = grace + HARD_STOP_MARGIN
        timer = threading.Timer(
            limit, _exit_now, args=(f"activities still running {limit:.0f} s after {name}",)
        )
        timer.daemon = True
        timer.start()
        deadline.append(timer)
        print(
            f"orderflow worker: {name} received: finishing running activities "
            f"(at most {grace:.0f} s; a second {name} exits at once)",
            file=sys.stderr,
            flush=True,
        )
        loop.call_soon_threadsafe(stop.set)

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    runs = [asyncio.create_task(w.run()) for w in workers]
    log.info("serving %s", ", ".join(w.task_queue for w in workers))
    try:
        await stop.wait()
        await asyncio.gather(*(w.shutdown() for w in workers))
        await asyncio.gather(*runs, return_exceptions=True)
    finally:
        for timer in deadline:
            timer.cancel()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _exit_now(reason: str) -> None:
    # No logging.shutdown(): this may run in a signal handler that interrupted a log call.
    print(f"orderflow worker: {reason}", file=sys.stderr, flush=True)
    os._exit(1)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="orderflow worker")
    parser.add_argument("--queue", action="append", help="serve only this queue (repeatable)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    settings = get_settings()
    if not settings.database_url:
        raise SystemExit("ORDERFLOW_DATABASE_URL is not set: start the worker through make run")
    asyncio.run(serve(settings, args.queue))
    # The SDK's core threads can outlive interpreter finalisation and abort it
    # (sdk-python#300); the workers have drained, so leave without finalising.
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
