"""Receiving (P6.1): the route (`api`), its types (`schemas`) and its rules and receipt rows
(`service`). The types and rules callers used when receiving was one module are re-exported
here; the route is imported from `api` (it starts inspection workflows, whose activities read
receipts through `service`, so importing it here would be circular)."""

from services.warehouse.receiving.schemas import (
    ReceiptIn,
    ReceiptLineIn,
    ReceiptLineOut,
    ReceiptOut,
)
from services.warehouse.receiving.service import LineOutcome, judge_line

__all__ = [
    "LineOutcome",
    "ReceiptIn",
    "ReceiptLineIn",
    "ReceiptLineOut",
    "ReceiptOut",
    "judge_line",
]
