"""An order's requisitions started, counted and cancelled in bulk (issue 17): one activity of the
order's stands for a BOM's worth of RequisitionWorkflows, which it starts (or cancels) through
the Temporal client, so the order's history does not grow with its BOM.

Each requisition still runs in its own workflow (`requisition-<key>`); started from here it
signals its order only for a late promise (`RequisitionInput.tell_settled`), and its row's
state in `procurement.requisitions` says whether it is still being bought.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlmodel import col
from temporalio import activity
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowFailureError
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from services.procurement.models import Requisition
from shared.activities import DbActivities
from shared.db import session_scope
from shared.escalations.service import first_key_about
from shared.heartbeats import heartbeats_itself
from shared.tasks.service import withdrawn_of_workflows
from shared.temporal import ESCALATED, workflow_queue
from shared.types import (
    RaiseEscalation,
    RequisitionInput,
    RequisitionsCancelled,
    RequisitionSummary,
    StartRequisitions,
)
from shared.workflow_ids import order_workflow_id, requisition_workflow_id

# Started by name: workflows import services, not the other way round.
REQUISITION_TYPE = "RequisitionWorkflow"
# Workflow starts (or cancellations) in flight at once; progress is heartbeated per batch.
BATCH = 50
# A requisition still being bought: not yet ordered, rejected or cancelled.
UNSETTLED = ("open", "approved")


def _summary(row: Requisition) -> RequisitionSummary:
    return RequisitionSummary(
        key=row.key,
        item=row.item,
        qty=row.qty,
        supplier=row.supplier,
        special=row.special,
        reason=row.reason,
    )


def _resumed_at() -> int:
    """How many requisitions an earlier attempt of this activity got through (its heartbeat)."""
    details: Sequence[Any] = activity.info().heartbeat_details
    return int(details[0]) if details else 0


class RequisitionStartActivities(DbActivities):
    """Procurement's bulk work on an order's requisition workflows."""

    @activity.defn
    @heartbeats_itself
    async def start_requisitions(self, run: StartRequisitions) -> int:
        """Start the RequisitionWorkflow of every requisition the order's MRP run stored for
        `run.bom_revision`, in key order; one already started (a retry, a repeated run) buys
        its own. Returns how many requisitions the revision has."""
        async with session_scope(self._engine) as session:
            rows = (
                (
                    await session.execute(
                        select(Requisition)
                        .where(col(Requisition.order_no) == run.order_no)
                        .where(col(Requisition.bom_revision) == run.bom_revision)
                        .order_by(col(Requisition.key))
                    )
                )
                .scalars()
                .all()
            )
        client = activity.client()
        done = _resumed_at()
        for first in range(done, len(rows), BATCH):
            batch = rows[first : first + BATCH]
            await asyncio.gather(*(self._start(client, run, row) for row in batch))
            activity.heartbeat(first + len(batch))
        return len(rows)

    async def _start(self, client: Client, run: StartRequisitions, row: Requisition) -> None:
        inp = RequisitionInput(
            requisition=_summary(row),
            order_no=run.order_no,
            queue_prefix=run.queue_prefix,
            required_date=run.required_date,
            tell_settled=False,
        )
        # Started by an earlier attempt (or run): that one buys it.
        with contextlib.suppress(WorkflowAlreadyStartedError):
            await client.start_workflow(
                REQUISITION_TYPE,
                inp,
                id=requisition_workflow_id(row.key),
                task_queue=workflow_queue(run.queue_prefix),
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                static_summary=f"buy {row.qty} {row.item} for {run.order_no}"[:200],
            )

    @activity.defn
    async def unsettled_requisitions(self, order_no: str) -> int:
        """How many of the order's requisitions are still being bought (not yet ordered,
        rejected or cancelled)."""
        async with session_scope(self._engine) as session:
            count = await session.execute(
                select(func.count())
                .select_from(Requisition)
                .where(col(Requisition.order_no) == order_no)
                .where(col(Requisition.state).in_(UNSETTLED))
            )
            return int(count.scalar_one())

    @activity.defn
    @heartbeats_itself
    async def cancel_requisitions(self, order_no: str) -> RequisitionsCancelled:
        """Cancel the workflow of every requisition of the order still being bought and wait
        for each to end (it withdraws its own tasks first). Returns the tasks they withdrew."""
        async with session_scope(self._engine) as session:
            keys = list(
                (
                    await session.execute(
                        select(col(Requisition.key))
                        .where(col(Requisition.order_no) == order_no)
                        .where(col(Requisition.state).in_(UNSETTLED))
                        .order_by(col(Requisition.key))
                    )
                )
                .scalars()
                .all()
            )
        client = activity.client()
        ids = [requisition_workflow_id(key) for key in keys]
        cancelled = 0
        for first in range(_resumed_at(), len(ids), BATCH):
            batch = ids[first : first + BATCH]
            ended = await asyncio.gather(*(_cancel(client, wf_id) for wf_id in batch))
            cancelled += sum(ended)
            activity.heartbeat(first + len(batch))
        async with session_scope(self._engine) as session:
            withdrawn = await withdrawn_of_workflows(
                session, department="procurement", order_no=order_no, workflow_ids=ids
            )
        return RequisitionsCancelled(cancelled=cancelled, withdrawn=withdrawn)

    @activity.defn
    async def tell_order_escalated(self, esc: RaiseEscalation) -> bool:
        """Mark the order escalated for a requisition started in bulk: signal it
        `escalation_raised` unless it is marked already or another requisition's escalation
        of the order came first (that one tells it), so a BOM's worth of requisitions falling
        due at once costs the order one signal, not one each. True when it signalled."""
        handle = activity.client().get_workflow_handle(order_workflow_id(esc.order_no))
        try:
            described = await handle.describe()
        except RPCError as err:
            if err.status != RPCStatusCode.NOT_FOUND:
                raise
            return False
        if described.status != WorkflowExecutionStatus.RUNNING:
            return False
        if described.typed_search_attributes.get(ESCALATED):
            return False
        async with session_scope(self._engine) as session:
            first = await first_key_about(
                session, order_no=esc.order_no, task_prefix="requisition-"
            )
        if first is not None and first != esc.key:
            return False
        await handle.signal("escalation_raised", esc)
        return True


async def _cancel(client: Client, workflow_id: str) -> bool:
    """Cancel one requisition's workflow and wait until it has ended; False when it had
    ended already."""
    handle = client.get_workflow_handle(workflow_id)
    try:
        await handle.cancel()
    except RPCError as err:
        if err.status != RPCStatusCode.NOT_FOUND:
            raise
        return False  # ended already (or never started): nothing of it is open
    with contextlib.suppress(WorkflowFailureError):  # cancelled, as asked
        await handle.result()
    return True
