"""What an activity's failure tells its workflow: bad data fails at once, the rest retries.

Every activity queue's worker runs `ActivityErrors`. An exception escaping an activity becomes
an `ApplicationError` with a short message (the cause, never a multi-megabyte SQL parameter:
Temporal replaces an oversized failure with "Failure exceeds size limit.", hiding the cause):

- bad data (a PostgreSQL data exception such as a numeric overflow, a too-long string or a NUL
  in text; a NOT NULL or CHECK violation; a ValueError or ArithmeticError from a rule) fails
  non-retryably with type `BadData`: retrying the same input cannot succeed, and the workflow
  escalates it to ops instead (`workflows.base.TaskWorkflow.activity`);
- anything else (connection loss, timeouts, deadlocks, serialization failures, a unique
  violation of a concurrent insert) keeps its type and retries as the retry policy says.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from sqlalchemy.exc import DBAPIError
from temporalio import activity
from temporalio.exceptions import ApplicationError, FailureError
from temporalio.worker import (
    ActivityInboundInterceptor,
    ExecuteActivityInput,
    Interceptor,
)

BAD_DATA = "BadData"
# A failure's message as the Temporal UI shows it; the worker log keeps the whole exception.
MAX_MESSAGE = 2000
MAX_SQL = 300

# SQLSTATEs of input no retry can store: class 22 (data exception: overflow, too long,
# invalid text such as NUL) and the integrity violations a retry cannot cure. A unique or
# foreign-key violation may be a concurrent writer's: those retry.
_BAD_STATE_CLASSES = ("22",)
_BAD_STATES = frozenset({"23502", "23514"})  # not_null_violation, check_violation

log = logging.getLogger("orderflow.activities")


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """`exc`, its driver error and their causes, each once."""
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        current = todo.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        orig = getattr(current, "orig", None)
        todo += [orig if isinstance(orig, BaseException) else None]
        todo += [current.__cause__, current.__context__]


def sqlstate(exc: BaseException) -> str | None:
    """The PostgreSQL SQLSTATE behind `exc`, if a database error is in its chain."""
    for link in _chain(exc):
        state = getattr(link, "sqlstate", None) or getattr(link, "pgcode", None)
        if isinstance(state, str) and state:
            return state
    return None


def is_bad_data(exc: BaseException) -> bool:
    """Whether `exc` comes from the data itself, so that a retry would fail the same way."""
    state = sqlstate(exc)
    if state is not None:
        return state.startswith(_BAD_STATE_CLASSES) or state in _BAD_STATES
    # Client-side checks (asyncpg's own DataError is a ValueError) and our rules.
    return any(isinstance(link, ValueError | ArithmeticError) for link in _chain(exc))


def clip(text: str, limit: int = MAX_MESSAGE) -> str:
    """`text` cut to `limit` characters (NULs dropped: they cannot be stored or shown)."""
    text = text.replace("\x00", "\\x00")
    return text if len(text) <= limit else f"{text[: limit - 20]}… ({len(text)} chars)"


def describe(exc: BaseException) -> str:
    """What went wrong, briefly: the driver's message and the start of the statement, without
    the statement's parameters (which may be the megabytes that broke it)."""
    if isinstance(exc, DBAPIError):
        driver = exc.orig if exc.orig is not None else exc
        statement = " ".join((exc.statement or "").split())[:MAX_SQL]
        text = f"{type(exc).__name__}: {driver}" + (f" [SQL: {statement}]" if statement else "")
    else:
        text = f"{type(exc).__name__}: {exc}"
    return clip(text)


def boundary_failure(exc: Exception) -> BaseException:
    """The failure an activity reports for `exc`: classified, and small enough to show."""
    if isinstance(exc, ApplicationError):
        if len(exc.message) <= MAX_MESSAGE:
            return exc
        return ApplicationError(
            clip(exc.message), *exc.details, type=exc.type, non_retryable=exc.non_retryable
        )
    if isinstance(exc, FailureError):  # cancellation and the SDK's own: as they are
        return exc
    if is_bad_data(exc):
        return ApplicationError(describe(exc), type=BAD_DATA, non_retryable=True)
    # The type name stays, so retry policies naming it still apply.
    return ApplicationError(describe(exc), type=type(exc).__name__)


class _Inbound(ActivityInboundInterceptor):
    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        try:
            return await super().execute_activity(input)
        except Exception as exc:
            failure = boundary_failure(exc)
            if failure is exc:
                raise
            info = activity.info()
            log.warning(
                "activity %s of %s failed (attempt %d): %s",
                info.activity_type,
                info.workflow_id,
                info.attempt,
                failure,
                exc_info=exc,
            )
            # Not chained: the cause's own text (the SQL and its parameters) is what is too big.
            raise failure from None


class ActivityErrors(Interceptor):
    """The worker interceptor that classifies and trims every activity failure."""

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _Inbound(super().intercept_activity(next))
