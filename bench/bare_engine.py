"""The bare engine for the benchmarks: workflows and an activity that do nothing of orderflow's,
so a figure of orderflow can be set beside what Temporal itself costs on the same machine."""

from __future__ import annotations

from datetime import timedelta

from temporalio import activity, workflow


@activity.defn(name="bench_noop")
async def noop(step: int) -> int:
    """A no-op activity: the engine's cost of one activity, nothing of orderflow's."""
    return step


@workflow.defn(name="BenchEcho")
class Echo:
    """A workflow whose update only answers: the bare update round trip."""

    def __init__(self) -> None:
        self.done = False

    @workflow.run
    async def run(self) -> None:
        await workflow.wait_condition(lambda: self.done)

    @workflow.update
    async def echo(self, value: int) -> int:
        return value

    @workflow.signal
    async def finish(self) -> None:
        self.done = True


@workflow.defn(name="BenchSteps")
class Steps:
    """A bare order: `plan[0]` = [activities, local activities] at start, then one update per
    step, each running `plan[i]` back to back before it answers, like a completion does."""

    def __init__(self) -> None:
        self.updates = 0

    @workflow.run
    async def run(self, plan: list[list[int]]) -> None:
        await self._activities(*plan[0])
        await workflow.wait_condition(
            lambda: self.updates == len(plan) - 1 and workflow.all_handlers_finished()
        )

    @workflow.update
    async def step(self, plan: list[list[int]]) -> int:
        self.updates += 1
        await self._activities(*plan[self.updates])
        return self.updates

    async def _activities(self, regular: int, local: int) -> None:
        for i in range(local):
            await workflow.execute_local_activity(
                noop, i, start_to_close_timeout=timedelta(seconds=30), summary="local no-op"
            )
        for i in range(regular):
            await workflow.execute_activity(
                noop, i, start_to_close_timeout=timedelta(seconds=30), summary="no-op"
            )
