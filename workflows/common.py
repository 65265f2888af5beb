"""What every workflow shares: activity timeouts and retries, queue names, dates."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, FailureError, RetryState

with workflow.unsafe.imports_passed_through():
    from shared.material_types import MaterialNotice
    from shared.workflow_ids import order_workflow_id

A = TypeVar("A")
R = TypeVar("R")

# Database activities: quick, idempotent, retried until the database is back.
DB_TIMEOUT = timedelta(seconds=30)
# A worker lost inside one is noticed after this, not the whole timeout: the worker heartbeats
# while a database activity runs (`shared.heartbeats`), so only a dead worker misses it.
DB_HEARTBEAT = timedelta(seconds=10)
DB_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=30),
    non_retryable_error_types=["ValueError", "InvalidPlan"],
)

# Webhook deliveries: retried until the bot answers 2xx or the delivery's cap marks it failed
# (the activity decides both, from the settings, and sets each retry's delay itself; this
# policy's backoff applies only to an attempt that died without answering). One attempt may
# run for the HTTP timeout (`webhook_timeout_seconds`, at most 240 s) plus its database writes:
# the activity's timeout stays above that, so a slow bot that does answer is not POSTed again
# while its first attempt is still running.
WEBHOOK_TIMEOUT = timedelta(minutes=5)
WEBHOOK_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=2),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=10),
)


async def local_db_write(method: Callable[[Any, A], Awaitable[R]], arg: A, summary: str) -> R:
    """Run one short, idempotent database write as a local activity: the workflow's own worker
    runs it inside the workflow task, so it costs no trip through a department's queue and no
    further workflow task (a completion's update answers that much sooner, and the history
    holds one marker instead of six events). Used for the inbox rows (workflows/tasks.py).

    The trade-off: the workflow's worker needs the database and registers these activities
    (app/worker.py); a failing write is retried by the workflow task (in the worker for the
    first minute, then on workflow timers) under the same DB_RETRY policy, and the UI shows it
    as a marker with its summary, not as an activity task of the department's queue. Only for
    writes well inside DB_TIMEOUT: a local activity holds the workflow task while it runs.
    And its write is seen before the workflow task that made it is recorded: a worker lost
    between the two leaves, say, an inbox row of a task the workflow opens again (same id)
    only once Temporal retries the workflow task on another worker; the tasks API waits for
    that before it completes such a task (services/tasks/api.py `complete_once_known`)."""
    try:
        result: R = await workflow.execute_local_activity_method(
            method,
            arg,
            start_to_close_timeout=DB_TIMEOUT,
            retry_policy=DB_RETRY,
            summary=summary,
        )
    except ApplicationError as err:
        # A local activity's failure arrives bare; callers tell bad data apart on the
        # ActivityError around it, as an activity's failure arrives (activity_calls).
        raise ActivityError(
            f"local activity {method.__name__} failed",
            scheduled_event_id=0,
            started_event_id=0,
            identity="",
            activity_type=method.__name__,
            activity_id="",
            retry_state=RetryState.NON_RETRYABLE_FAILURE,
        ) from err
    return result


def end_of_day(day: date) -> datetime:
    """The moment a date-bound deadline passes: midnight after `day`, UTC (the last moment
    there is, for the last day there is: 9999-12-31 must not fail the workflow task)."""
    if day >= date.max:
        return datetime.max.replace(tzinfo=UTC)
    return datetime.combine(day + timedelta(days=1), time.min, tzinfo=UTC)


def days_after(day: date, days: int) -> date:
    """`day` moved `days` later, at most to the last day there is (no OverflowError)."""
    return day + timedelta(days=days) if days < (date.max - day).days else date.max


# Patch: several items reserved for an order at once make one notice (the order counts
# reservations, it does not read their items), so a lot of 4,000 lines costs its order one
# signal, not 4,000 (issue 17). Runs from before told item by item.
RESERVED_AT_ONCE = "reserved-at-once"


async def notify_reserved(
    reserved: Mapping[str, Mapping[str, Decimal]], how: str | None = None
) -> None:
    """Tell each order the stock just reserved for it (order -> item -> qty): one notice for
    several items, else the item's; `how` ends the notice's message ("freed by cancelled SO-1"
    → "2 VS1 freed by …")."""
    for order_no, items in reserved.items():
        if len(items) > 1 and workflow.patched(RESERVED_AT_ONCE):
            what = f"{len(items)} items"
            message = f"{what} {how}" if how else f"{what} reserved"
            await notify_order(order_no, MaterialNotice(kind="reserved", message=message))
            continue
        for item, qty in items.items():
            notice = MaterialNotice(
                kind="reserved", item=item, qty=qty, message=f"{qty} {item} {how}" if how else ""
            )
            await notify_order(order_no, notice)


async def notify_order(order_no: str, notice: Any) -> None:
    """Signal `material_notice` to an order; one that no longer runs has nothing left to hear
    (the reservation stands, and the daily MRP run reads it)."""
    handle = workflow.get_external_workflow_handle(order_workflow_id(order_no))
    try:
        await handle.signal("material_notice", notice)
    except FailureError:
        workflow.logger.info("order %s no longer runs; %s not delivered", order_no, notice)
