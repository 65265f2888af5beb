"""P5.1 shortages: the buyer chases what the order is missing (`procurement.chase_supply`) and
the planner is warned of the shortage.

Each of the first `CHASED_LINES` missing lines (those the material summary names) has its own
chase; past them one chase covers the rest, naming their count (issue 17: a 4,000-line
shortage is not 4,000 tasks, each with its own escalations, in the order's history). The lines
themselves are the order's materials in `GET /orders/{order_no}`, read from the database. A
run from before the summary sees every line and chases each.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from shared import payloads as p
    from shared.material_types import MaterialSummary
    from workflows.picking import describe, line_context
    from workflows.tasks import TaskState

if TYPE_CHECKING:
    from workflows.materials import MaterialsPhase

# Patch: the planner is warned of a shortage when it differs from the one last warned of,
# not again every day it lasts (runs from before warned daily).
SHORTAGE_WARNED_ONCE = "shortage-warned-once"
# A shortage warning names this many missing lines and counts the rest: its message does not
# grow with the BOM.
WARNED_LINES = 20


async def stop_chasing(phase: MaterialsPhase, status: MaterialSummary | None) -> None:
    """Withdraw the chases and NCR dispositions of every line no longer missing (all of them
    once everything is picked, `status` None): its material is reserved. The chase of the
    rest goes once no line past those chased on their own is missing."""
    state, book = phase.state, phase.ctx.book
    exclude = {line.item for line in status.missing} if status else set()
    for tasks in (state.chases, state.dispositions):
        for item, task_id in tasks.items():
            task = book.get(task_id)
            if item not in exclude and task is not None:
                await book.withdraw(task)
    rest = book.get(state.chase_rest)
    if rest is not None and (status is None or status.missing_count <= len(status.missing)):
        await book.withdraw(rest)


async def short(phase: MaterialsPhase, status: MaterialSummary) -> None:
    """Chase the missing lines with procurement; warn the planner of a new shortage."""
    order, state = phase.ctx, phase.state
    start = await order.production_start()
    for line in status.missing:
        chase = order.book.get(state.chases.get(line.item))
        if chase is None or not chase.is_open:
            task = await order.book.open(
                "procurement.chase_supply",
                f"Chase {line.missing} {line.item} for {order.inp.order_no}",
                {**line_context(line), "production_start": str(start)},
            )
            state.chases[line.item] = task.task_id
            order.branch(_chase(phase, task))
    rest = status.missing_count - len(status.missing)
    chase = order.book.get(state.chase_rest)
    if rest > 0 and (chase is None or not chase.is_open):
        task = await order.book.open(
            "procurement.chase_supply",
            f"Chase {rest} more short line(s) for {order.inp.order_no}",
            {
                "lines": rest,
                "chased_each": [line.item for line in status.missing],
                "see": f"GET /orders/{order.inp.order_no} (materials)",
                "production_start": str(start),
            },
        )
        state.chase_rest = task.task_id
        order.branch(_chase(phase, task))
    await _warn(phase, status)


async def _warn(phase: MaterialsPhase, status: MaterialSummary) -> None:
    """Warn the planner once a day, and not again for the shortage last warned of."""
    order, state = phase.ctx, phase.state
    start = await order.production_start()
    today = order.today()
    if state.warned_on == today:
        return
    lines = [describe(line) for line in status.missing]
    more = status.missing_count - len(lines)
    # The state keeps a digest of the shortage, not its text.
    digest = hashlib.sha256(("; ".join(lines) + (f"+{more}" if more else "")).encode())
    if digest.hexdigest() == state.warned_shortage and workflow.patched(SHORTAGE_WARNED_ONCE):
        return  # the planner has this warning already: a waiting day costs no activity
    state.warned_on, state.warned_shortage = today, digest.hexdigest()
    more = status.missing_count - min(len(lines), WARNED_LINES)
    shortage = "; ".join(lines[:WARNED_LINES])
    if more > 0:
        shortage += f"; and {more} more line(s)"
    await order.escalate(
        key=f"{order.inp.order_no}:shortage:{today}",
        kind="material_shortage",
        level=1,
        department="planning",
        role="planning",
        due_at=start,
        message=f"{order.inp.order_no} is short of {shortage} "
        f"for its production start {start:%Y-%m-%d %H:%M}Z",
    )


async def _chase(phase: MaterialsPhase, task: TaskState) -> None:
    """The buyer's answer moves the material forecast when it comes later than planned."""
    order = phase.ctx
    await order.until(lambda: not task.is_open, f"waiting for {task.kind}")
    if task.payload is None:  # withdrawn: the material came
        return
    answer = p.ChaseSupply.parse(task.payload)
    required = order.state.plan.forecast.get("material_required")
    if required and answer.expected_date > required:
        await order.reforecast("material_required", answer.expected_date)
