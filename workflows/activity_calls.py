"""The typed edge from a workflow to its activities: one call, queue taken from the class.

Every department activity class is served on exactly one department queue (the worker
registers each department's `activities.ACTIVITIES`); this module reads the same lists, so a
workflow names only the method and mypy checks the argument against it and types the result.
`TaskActivities` and `EscalationActivities` run on every queue (the task's or escalation's
own department) and are called by `workflows.tasks` with their queue named.
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, overload

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from shared.activity_errors import BAD_DATA
    from shared.escalations.activities import EscalationActivities
    from shared.settings import DEPARTMENTS
    from shared.tasks.activities import TaskActivities
    from shared.temporal import department_queue
    from workflows.common import DB_HEARTBEAT, DB_RETRY, DB_TIMEOUT

A = TypeVar("A")
R = TypeVar("R")

# Served on every queue: their callers say which one.
_EVERYWHERE = {TaskActivities, EscalationActivities}


def _departments_by_class() -> dict[str, str]:
    """`module.Class` of every department activity class → the department serving it."""
    owners: dict[str, str] = {}
    for department in DEPARTMENTS:
        module = importlib.import_module(f"services.{department}.activities")
        for cls in module.ACTIVITIES:
            if cls not in _EVERYWHERE:
                owners[f"{cls.__module__}.{cls.__qualname__}"] = department
    return owners


with workflow.unsafe.imports_passed_through():
    _OWNERS = _departments_by_class()


def department_of(method: Callable[..., Any]) -> str:
    """The department whose queue serves `method` (an activity method of a class)."""
    owner = f"{method.__module__}.{method.__qualname__.rsplit('.', 1)[0]}"
    try:
        return _OWNERS[owner]
    except KeyError:
        raise LookupError(f"{owner} is not in any department's ACTIVITIES") from None


@overload
async def run_activity(
    prefix: str, method: Callable[[Any], Awaitable[R]], arg: None, summary: str
) -> R: ...


@overload
async def run_activity(
    prefix: str, method: Callable[[Any, A], Awaitable[R]], arg: A, summary: str
) -> R: ...


async def run_activity(
    prefix: str, method: Callable[..., Awaitable[Any]], arg: Any, summary: str
) -> Any:
    """Run one department activity with the standard timeout and retries on its queue."""
    return await workflow.execute_activity_method(
        method,
        args=[] if arg is None else [arg],
        task_queue=department_queue(prefix, department_of(method)),
        start_to_close_timeout=DB_TIMEOUT,
        heartbeat_timeout=DB_HEARTBEAT,
        retry_policy=DB_RETRY,
        summary=summary[:200],
    )


def bad_data_cause(err: ActivityError) -> str | None:
    """The cause of an activity failure that came from bad data (`BadData`), else None."""
    cause = err.cause
    if isinstance(cause, ApplicationError) and cause.type == BAD_DATA:
        return cause.message
    return None
