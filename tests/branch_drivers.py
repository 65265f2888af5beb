"""Drivers of the branch tests (tests/test_branch_*.py): an order in finished goods, one weekly
unshipped run on the plant's current weekday, and an order left short by a rejected breaker."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from temporalio.testing import WorkflowEnvironment

from shared.production_types import WeeklyUnshippedInput, WeeklyUnshippedResult
from shared.schedule_times import WEEKDAYS
from shared.temporal import workflow_queue
from tests.conftest import Stack, run_stack, settings_for
from tests.helpers import MARGIN, advance_to, complete_ok, wait_task
from tests.material_drivers import (
    DOCUMENTS,
    SETS,
    inspect,
    milestones,
    order_view,
    place_orders,
    production_start,
    receive_ok,
    to_materials,
    to_production,
)
from tests.plant_calendar import EVERY_DAY
from workflows.unshipped import WeeklyUnshippedWorkflow


async def to_delivery(stack: Stack, ts_env: WorkflowEnvironment, suffix: str) -> dict[str, Any]:
    """An order bought, picked on time, assembled and passed at final inspection: in finished
    goods (stage `delivery`), not shipped. Returns its view."""
    order_no, view = await to_production(stack, ts_env, suffix)
    await advance_to(ts_env, production_start(view) + MARGIN)
    card = {"operations": [{"name": "frame assembly", "signed_by": "op-1"}]}
    await complete_ok(stack, "production.assembly", order_no, card)
    await complete_ok(stack, "production.hand_over_documents", order_no, DOCUMENTS)
    await complete_ok(stack, "production.submit_inspection", order_no, {"missing_parts": []})
    view = await complete_ok(stack, "quality.final_inspection", order_no, {"passed": True})
    assert view["stage"] == "delivery", view["stage"]
    return view


async def weekly_unshipped(stack: Stack, ts_env: WorkflowEnvironment) -> WeeklyUnshippedResult:
    """One weekly unshipped run as the schedule starts it, on a plant working every day whose
    list's day is the server's current weekday: its own workers on the order stack's database
    (the run signals the orders by workflow id, whichever workers serve them)."""
    now = await ts_env.get_current_time()
    local = now.astimezone(ZoneInfo(stack.settings.timezone)).date()
    settings = settings_for(
        stack.settings, unshipped_weekday=WEEKDAYS[local.isoweekday() % 7], **EVERY_DAY
    )
    async with run_stack(settings, stack.client) as weekly:
        prefix = weekly.settings.task_queue_prefix
        result = await weekly.client.execute_workflow(
            WeeklyUnshippedWorkflow.run,
            WeeklyUnshippedInput(queue_prefix=prefix),
            id=f"{prefix}-weekly-unshipped-{uuid.uuid4().hex[:6]}",
            task_queue=workflow_queue(prefix),
        )
    assert isinstance(result, WeeklyUnshippedResult)
    assert result.skipped is None, result.skipped
    return result


@dataclass
class ShortBreaker:
    """An order whose breaker lot came in with one of six rejected: the NCR is open for
    quality and the planner's `planning.ncr_disposition` is open for the order."""

    order_no: str
    suffix: str
    view: dict[str, Any]
    ncr_no: str
    judgement: dict[str, Any]
    disposition: dict[str, Any]

    @property
    def breaker(self) -> str:
        return f"VS1-{self.suffix}"


async def short_of_a_breaker(stack: Stack) -> ShortBreaker:
    """`to_materials`, both POs placed, the bolts passed, five of six breakers passed and one
    rejected (cracked housing)."""
    suffix = uuid.uuid4().hex[:6]
    bolt, breaker = f"BOLT-{suffix}", f"VS1-{suffix}"
    order_no, view = await to_materials(stack, suffix)
    required = milestones(view)["material_required"]
    bolts_po, breakers_po = await place_orders(
        stack, order_no, suffix, breaker_promised=required - timedelta(days=2)
    )
    receipt = await receive_ok(
        stack, bolts_po, "Fastenal", [{"item": bolt, "qty_noted": 288, "qty_counted": 288}]
    )
    await inspect(
        stack,
        order_no,
        receipt["lot_no"],
        [{"item": bolt, "qualified_qty": 288, "rejected_qty": 0}],
    )
    receipt = await receive_ok(
        stack, breakers_po, "Chint", [{"item": breaker, "qty_noted": SETS, "qty_counted": SETS}]
    )
    await inspect(
        stack,
        order_no,
        receipt["lot_no"],
        [{"item": breaker, "qualified_qty": 5, "rejected_qty": 1, "defect": "cracked housing"}],
    )
    judgement = await wait_task(stack, "quality.ncr_judgement", order_no)
    disposition = await wait_task(stack, "planning.ncr_disposition", order_no)
    assert disposition["context"]["missing"] == "1.0000", disposition["context"]
    return ShortBreaker(
        order_no=order_no,
        suffix=suffix,
        view=await order_view(stack, order_no),
        ncr_no=str(judgement["context"]["ncr_no"]),
        judgement=judgement,
        disposition=disposition,
    )
