"""Workflow ids from business keys, written once: the API, activities and workflows that
start, signal or update a workflow build its id here."""

from __future__ import annotations


def order_workflow_id(order_no: str) -> str:
    """The OrderWorkflow of an order: `order-<order_no>`."""
    return f"order-{order_no}"


def inspection_workflow_id(lot_no: str) -> str:
    """The IncomingInspectionWorkflow of a received lot: `inspection-<lot_no>`."""
    return f"inspection-{lot_no}"


def dcn_workflow_id(issue_no: str) -> str:
    """The DesignChangeWorkflow of a design problem reported from assembly: `dcn-<issue_no>`."""
    return f"dcn-{issue_no}"


def replenish_workflow_id(requisition_key: str) -> str:
    """The StockReplenishmentWorkflow of a safety-stock requisition: `replenish-<key>`."""
    return f"replenish-{requisition_key}"


def requisition_workflow_id(requisition_key: str) -> str:
    """The RequisitionWorkflow of a requisition, for an order or safety stock:
    `requisition-<key>`, so a start repeated after a retry finds the one already running."""
    return f"requisition-{requisition_key}"


def issue_workflow_id(issue_no: str) -> str:
    """The AssemblyIssueWorkflow of an issue from assembly that is not a design problem:
    `issue-<issue_no>`."""
    return f"issue-{issue_no}"


def calendar_change_workflow_id(prefix: str, change: int) -> str:
    """The CalendarChangeWorkflow of the calendar's change number `change`:
    `<prefix>-calendar-<change>` (a version cannot name it: deleting an exception brings an
    earlier version back)."""
    return f"{prefix}-calendar-{change}"


def calendar_check_workflow_id(prefix: str, day: str) -> str:
    """The CalendarChangeWorkflow a worker starts to remind of unpublished years, once a day:
    `<prefix>-calendar-check-<YYYY-MM-DD>`."""
    return f"{prefix}-calendar-check-{day}"


def promise_watch_workflow_id(requisition_key: str) -> str:
    """The PromiseWatchWorkflow of the PO line bought for a requisition: `promise-<key>`."""
    return f"promise-{requisition_key}"
