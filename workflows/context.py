"""`OrderContext`: what an order's phase may ask of the workflow that owns the order's state.

A phase (review, plan, purchasing, materials, picking, production, closing, changes) holds its
own slice of `OrderState` and this context. It reads the rest of the state, but changes only
its own slice; what it wants from another phase — a re-forecast, a purchase, a plan revision,
a material re-check — it asks for here, and `OrderWorkflow` carries it out.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from datetime import date, datetime
from typing import Any, Protocol, TypeVar

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from shared.material_types import MaterialNotice
    from shared.order_state import OrderState
    from shared.types import OrderInput, RequisitionSummary
    from shared.working_time.clocks import ClockSpec
    from workflows.clocks import Clocks
    from workflows.tasks import TaskHost

A = TypeVar("A")
R = TypeVar("R")


class OrderContext(TaskHost, Protocol):
    """The order's workflow, as its phases see it."""

    inp: OrderInput
    state: OrderState
    # Held while a customer change is taken in or takes effect: the BOM release's MRP run and
    # a cancellation wait for it.
    change_lock: asyncio.Lock
    # Held while MRP runs on the released BOM: a change waits for it before it reads material.
    material_lock: asyncio.Lock

    # -- running work (beside TaskHost's activities and tasks) ---------------------------------
    async def until(
        self,
        condition: Callable[[], bool],
        waiting_for: str,
        *,
        deadline: datetime | None = None,
        timer_summary: str | None = None,
    ) -> bool: ...

    async def sleep_until(self, deadline: datetime, waiting_for: str) -> None: ...

    def branch(self, work: Coroutine[Any, Any, None]) -> None: ...

    def watch(self, work: Coroutine[Any, Any, None]) -> None: ...

    def watch_plan(self, work: Coroutine[Any, Any, None]) -> None: ...

    def describe(self, waiting_for: str) -> None: ...

    def today(self) -> date: ...

    # -- recording ----------------------------------------------------------------------------
    async def event(
        self, kind: str, actor: str, summary: str, detail: dict[str, Any] | None = None
    ) -> None: ...

    async def set_stage(
        self, stage: str, status: str = "active", reason: str | None = None
    ) -> None: ...

    async def record_actual(self, milestone: str, day: date | None = None) -> None: ...

    async def notify_customer(self, kind: str, key: str, **facts: Any) -> None: ...

    # -- what a phase asks of another ---------------------------------------------------------
    def agree_due_date(self, day: date) -> None: ...

    async def reforecast(self, milestone: str, new_date: date) -> None: ...

    async def revise_plan(self, milestones: dict[str, date], reason: str, by: str) -> None: ...

    def bom_revised(self, revision: int) -> None: ...

    def buy(self, requisitions: list[RequisitionSummary]) -> None: ...

    def buy_released(self, bom_revision: int) -> None: ...

    def notice_material(self, notice: MaterialNotice) -> None: ...

    def pick_supplement(self) -> None: ...

    def check_drawings(self) -> None: ...

    def production_start_at(self) -> datetime: ...

    async def production_start(self) -> datetime: ...

    # -- clocks on the plant's calendar ---------------------------------------------------------
    clocks: Clocks

    async def until_clock(
        self,
        condition: Callable[[], bool],
        spec: ClockSpec,
        waiting_for: Callable[[datetime], str],
        *,
        legacy: datetime | None = None,
    ) -> bool: ...
