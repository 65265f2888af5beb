"""Workflow ids from business keys, each written once: the API, the workflows and the tests
find a workflow by the same id."""

from __future__ import annotations


def order_workflow_id(order_no: str) -> str:
    """An order's workflow (`OrderWorkflow`)."""
    return f"order-{order_no}"


def issue_workflow_id(issue_no: str) -> str:
    """One issue from assembly that is not a design problem (`AssemblyIssueWorkflow`)."""
    return f"issue-{issue_no}"
