"""Heartbeats for the database activities, so a dead worker's attempt is retried in seconds.

A database activity is quick, but a worker killed inside one (a crash, an OOM kill, a node
lost) leaves its attempt running on the server until the start-to-close timeout (30 s) runs
out, and the order waits that long. The workflows give their database activities a short
heartbeat timeout as well (`workflows.common.DB_HEARTBEAT`); this worker interceptor
heartbeats for every activity that has one while its body runs, so a live attempt never times
out and a dead worker's attempt is retried once the heartbeat timeout passes.

Heartbeats also carry cancellation to an activity. A database activity was never cancelled
before (without heartbeats the server cannot tell it), and a workflow that cancels one has
already moved on, so the interceptor keeps that: a cancellation from the server lets the body
finish its transaction; only the worker's own shutdown cancels it.

An activity that reports its own progress in heartbeat details (`heartbeats_itself`) is left
alone: a bare heartbeat from here would replace its details.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any, TypeVar

from temporalio import activity
from temporalio.worker import (
    ActivityInboundInterceptor,
    ExecuteActivityInput,
    Interceptor,
)

F = TypeVar("F", bound=Callable[..., Any])

_OWN = "_orderflow_heartbeats_itself"


def heartbeats_itself(fn: F) -> F:
    """Mark an activity that heartbeats with its own progress details."""
    setattr(fn, _OWN, True)
    return fn


class Heartbeats(Interceptor):
    """The worker interceptor that heartbeats while an activity with a heartbeat timeout runs."""

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _Inbound(super().intercept_activity(next))


class _Inbound(ActivityInboundInterceptor):
    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        timeout = activity.info().heartbeat_timeout
        own = getattr(input.fn, _OWN, False)  # a bound method reads its function's mark
        if not timeout or own or not asyncio.iscoroutinefunction(input.fn):
            return await super().execute_activity(input)
        body = asyncio.ensure_future(super().execute_activity(input))
        beat = asyncio.create_task(_beat(timeout.total_seconds() / 4))
        try:
            while True:
                try:
                    return await asyncio.shield(body)
                except asyncio.CancelledError:
                    if activity.is_worker_shutdown() or body.done():
                        body.cancel()
                        raise
                    # The workflow gave up on this attempt; its write still lands whole.
                    continue
        finally:
            beat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beat


async def _beat(every: float) -> None:
    while True:
        await asyncio.sleep(every)
        activity.heartbeat()
