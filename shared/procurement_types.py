"""What crosses the workflow boundary for a PO line's promised date (§4.7, §4.9): the
PromiseWatchWorkflow's input, its `move_promise` update and the activities it runs."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel


# PromiseWatchWorkflow's input: one PO line (the line of requisition `requisition_key`), the
# date it is needed by (None for stock) and the date the supplier promised.
class PromiseWatchInput(BaseModel):
    requisition_key: str
    po_no: str
    item: str
    qty: Decimal
    promised_date: date
    order_no: str | None = None
    required_date: date | None = None
    queue_prefix: str = "orderflow"
    # Started by the API for a move (the line's earlier watch had ended): it takes that move
    # before anything else, so it cannot end before the move arrives.
    for_move: bool = False
    # Tasks earlier runs of this watch opened: a new run numbers its tasks after theirs (a
    # task's id is the workflow id and its number, and the inbox keeps every one).
    tasks_before: int = 0


# The line as the watch reads it: whether anything is still owed on it, its promised date and
# how many working days before that date the buyer is asked to confirm it (0: not asked).
class LineWatch(BaseModel):
    open: bool
    promised_date: date | None = None
    confirm_days: int = 0


# `POST /procurement/purchase-orders/{po}/promise`: the watch's `move_promise` update.
class MovePromise(BaseModel):
    promised_date: date
    reason: str = ""
    by: str
    # The gateway's signed assertion of `by` for this update (shared/actor.py).
    assertion: str | None = None


# What a move came to: the line's new and previous dates, and whether it is now late.
class PromiseMoved(BaseModel):
    po_no: str
    requisition_key: str
    item: str
    promised_date: date
    previous: date
    required_date: date | None = None
    late: bool = False


# The activity that stores a moved (or a confirmed) promise on the line and the order's timeline.
class RecordPromise(BaseModel):
    requisition_key: str
    promised_date: date
    previous: date
    confirmed: bool = False
    reason: str = ""
    by: str
    at: datetime
