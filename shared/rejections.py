"""Why a workflow refuses an update: the `ApplicationError` types workflows (and the activities
beneath an update) raise, and the API maps to an HTTP status in one place (shared/updates.py)."""

from __future__ import annotations

from enum import StrEnum


# Each value is the error's `type` as Temporal carries it; clients branch on these names.
class Rejection(StrEnum):
    # complete_task: no such task in the workflow (404)
    TASK_NOT_FOUND = "TaskNotFound"
    # complete_task: the task was completed or withdrawn already (409)
    TASK_NOT_OPEN = "TaskNotOpen"
    # complete_task: the caller's roles may not complete this kind (403)
    FORBIDDEN = "Forbidden"
    # any update: the payload breaks a rule of the workflow (422)
    INVALID_PAYLOAD = "InvalidPayload"
    # change: the order's records refuse the change (an unknown line, a BOM rule broken; 422)
    CHANGE_INVALID = "ChangeInvalid"
    # change: the order takes no change now (409)
    CHANGE_REFUSED = "ChangeRefused"
    # cancel: the order has nothing left to cancel, or no reason was given (409)
    NOT_CANCELLABLE = "OrderNotCancellable"
    # report_issue: the order takes no issue now (409)
    ISSUE_REFUSED = "IssueRefused"
    # warn_delay: the order takes no delay warning now (no plan yet, the milestone done; 409)
    DELAY_WARNING_REFUSED = "DelayWarningRefused"
    # any update carrying `by`/`roles`: no valid actor assertion from the gateway (a bare
    # Temporal client, a tampered, expired or misdirected assertion; 403, shared/actor.py)
    UNAUTHENTICATED = "Unauthenticated"
    # complete_task: management's approval given by who took the order in (409 `four_eyes`)
    FOUR_EYES = "FourEyes"
