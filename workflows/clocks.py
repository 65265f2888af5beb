"""A workflow's clocks on the plant's calendar (issue 13): resolved by an activity, kept in the
workflow's clock book, and counted again when the `calendar_changed` signal says the calendar
changed. Workflow code never reads the calendar itself.

Before the `working-time` patch a workflow counted wall-clock UTC; histories recorded before it
keep that path (`legacy` instants), every new or continued run takes the calendar's.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from shared.working_time.activities import ClockActivities
    from shared.working_time.clocks import ClockBook, ClockSpec, day_end
    from workflows.activity_calls import run_activity
    from workflows.common import end_of_day
    from workflows.tasks import wait_for

# Patch (replay safety): before it every clock ran on wall-clock UTC.
WORKING_TIME = "working-time"


def on_working_time() -> bool:
    """Whether this run counts its clocks on the plant's calendar (see the module)."""
    return workflow.patched(WORKING_TIME)


def due_by(day: date) -> dict[str, Any]:
    """A task's due time at the end of the planned working day `day` (a clock the inbox
    activity resolves), or midnight UTC after it for a run from before working time: the
    keyword arguments of `TaskBook.open`."""
    if on_working_time():
        return {"due_clock": day_end(day)}
    return {"due_at": end_of_day(day)}


class Clocks:
    """The clocks of one workflow, over the clock book its state carries."""

    def __init__(self, book: ClockBook, queue_prefix: str) -> None:
        self.book = book
        self._prefix = queue_prefix

    def heard(self, version: str) -> None:
        """The calendar now has `version` (the `calendar_changed` signal)."""
        self.book.heard = version

    async def at(self, spec: ClockSpec) -> datetime:
        """The instant of `spec` on the calendar as last heard of."""
        if not self.book.stale and spec.key in self.book.instants:
            return self.book.instants[spec.key]
        (instant,) = await self.resolve([spec])
        return instant

    async def resolve(self, specs: list[ClockSpec]) -> list[datetime]:
        """Resolve `specs` on the current calendar (one activity) and keep them."""
        what = specs[0].describe() + (f" and {len(specs) - 1} more" if len(specs) > 1 else "")
        resolved = await run_activity(
            self._prefix, ClockActivities.resolve_clocks, specs, f"when: {what}"
        )
        if resolved.version != self.book.version:
            self.book.instants.clear()  # counted on another calendar
            self.book.version = resolved.version
        self.book.heard = resolved.version
        for spec, instant in zip(specs, resolved.instants, strict=True):
            self.book.instants[spec.key] = instant
        return resolved.instants

    def until_changed(self, condition: Callable[[], bool]) -> Callable[[], bool]:
        """`condition`, or the calendar changed since the book's clocks were resolved."""
        version = self.book.version
        return lambda: condition() or self.book.heard != version

    async def wait(
        self,
        condition: Callable[[], bool],
        spec: ClockSpec,
        summary: Callable[[datetime], str],
        *,
        legacy: datetime | None = None,
    ) -> bool:
        """Wait for `condition`, at most until the clock `spec` (counted again whenever the
        calendar changes meanwhile); True when the condition holds, False when the clock came
        first. A run from before working time waits until `legacy` instead."""
        if legacy is not None and not on_working_time():
            return await wait_for(condition, legacy, summary(legacy))
        while True:
            deadline = await self.at(spec)
            if not await wait_for(self.until_changed(condition), deadline, summary(deadline)):
                return False
            if condition():
                return True
