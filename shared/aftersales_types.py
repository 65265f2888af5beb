"""What crosses the service case workflow's boundary (售后): its input, the steps its
activity records, and its result; plus the case's workflow id."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, Field

# The kinds of service case (P11 after-sales): a complaint, a repair, an exchange of the unit
# or a part, a service visit.
CaseKind = Literal["complaint", "repair", "exchange", "visit"]
# Kinds that always need the engineer on site.
ON_SITE_KINDS: tuple[str, ...] = ("repair", "visit")
# A case's states, in the order it passes them.
CaseState = Literal["open", "responded", "on_site", "resolved"]
CaseStepName = Literal["responded", "on_site", "resolved"]


def service_case_workflow_id(case_id: str) -> str:
    """The ServiceCaseWorkflow of a case: `service-case-<case_id>`."""
    return f"service-case-{case_id}"


# The workflow's input: the case as opened, and its three SLA clocks (working time from the
# case's opening), read from the settings when it was opened.
class ServiceCaseInput(BaseModel):
    case_id: str
    order_no: str
    kind: CaseKind
    description: str
    opened_by: str
    queue_prefix: str
    first_response: timedelta
    on_site: timedelta
    resolved: timedelta


# One step of a case, as the aftersales activity records it on the case and the order's
# timeline.
class CaseStep(BaseModel):
    case_id: str
    order_no: str
    step: CaseStepName
    task_id: str
    by: str
    at: datetime
    summary: str
    detail: dict[str, Any] = Field(default_factory=dict)


class CaseResult(BaseModel):
    case_id: str
    outcome: str
    resolved_by: str
    resolved_at: datetime
