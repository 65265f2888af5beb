"""The API's one way to send a workflow update: by method reference, so mypy checks the
argument and the result against the workflow, and with every refusal turned into the same
HTTP answer whichever route sent it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode
from temporalio.workflow import UpdateMethodMultiParam

from shared.errors import APIError, conflict, forbidden, invalid, not_found, unavailable
from shared.rejections import Rejection

SelfT = TypeVar("SelfT")
ArgT = TypeVar("ArgT")
ResultT = TypeVar("ResultT")

# The 422 code when a route does not name what was invalid.
INVALID_PAYLOAD = "invalid_payload"


def _task_not_found(message: str, _: str) -> APIError:
    # "task X is not a task of this order" reads as "task X does not exist" to the caller.
    return not_found(message.removesuffix(" is not a task of this order"))


# Each rejection and the error it becomes; the second argument is the route's 422 code.
ANSWERS: dict[Rejection, Callable[[str, str], APIError]] = {
    Rejection.TASK_NOT_FOUND: _task_not_found,
    Rejection.TASK_NOT_OPEN: lambda m, _: conflict("task_not_open", m),
    Rejection.FORBIDDEN: lambda m, _: forbidden(m),
    Rejection.INVALID_PAYLOAD: lambda m, code: invalid(code, m),
    Rejection.CHANGE_INVALID: lambda m, code: invalid(code, m),
    Rejection.CHANGE_REFUSED: lambda m, _: conflict("change_refused", m),
    Rejection.NOT_CANCELLABLE: lambda m, _: conflict("order_not_cancellable", m),
    Rejection.ISSUE_REFUSED: lambda m, _: conflict("issue_refused", m),
    Rejection.DELAY_WARNING_REFUSED: lambda m, _: conflict("delay_warning_refused", m),
    Rejection.UNAUTHENTICATED: lambda m, _: forbidden(m),
    Rejection.FOUR_EYES: lambda m, _: conflict("four_eyes", m),
}


_BY_TYPE: dict[str | None, Rejection] = {rejection.value: rejection for rejection in Rejection}


def rejection_of(error: BaseException | None) -> tuple[Rejection, ApplicationError] | None:
    """The rejection behind an update failure: raised by the workflow's validator or handler,
    or by an activity the handler ran (then it sits further down the cause chain)."""
    while error is not None:
        if isinstance(error, ApplicationError) and error.type in _BY_TYPE:
            return _BY_TYPE[error.type], error
        error = error.__cause__
    return None


def api_error(failure: WorkflowUpdateFailedError, invalid_code: str) -> APIError | None:
    """The API error of a refused update, with the rejection's details; None when the failure
    is no rejection (a bug, which the caller lets surface as a 500)."""
    found = rejection_of(failure.cause)
    if found is None:
        return None
    rejection, cause = found
    error = ANSWERS[rejection](cause.message, invalid_code)
    if cause.details and isinstance(cause.details[0], dict):
        error.extra.update(cause.details[0])
    return error


async def send_update(
    handle: WorkflowHandle[SelfT, Any],
    update: UpdateMethodMultiParam[[SelfT, ArgT], ResultT],
    arg: ArgT,
    *,
    ended: str,
    what: str,
    invalid_code: str = INVALID_PAYLOAD,
    update_id: str | None = None,
) -> ResultT:
    """Send `update(arg)` and return its result. A rejection becomes its API error (`ANSWERS`;
    a 422 carries `invalid_code`), a workflow that has ended 409 `workflow_closed` saying
    `ended`, Temporal not answering 503 naming `what` it did not take."""
    try:
        return await handle.execute_update(update, arg, id=update_id)
    except WorkflowUpdateFailedError as exc:
        error = api_error(exc, invalid_code)
        if error is None:
            raise
        raise error from exc
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise conflict("workflow_closed", ended) from exc
        raise unavailable(f"Temporal did not take {what}: {exc.message}") from exc
