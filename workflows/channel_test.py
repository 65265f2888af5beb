"""ChannelTestWorkflow: an administrator's test message to one channel, sent once by a worker
(`POST /escalations/channels/{name}/test` starts it and waits for the answer)."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from shared.escalations.activities import EscalationActivities
    from shared.escalations.delivery_types import (
        ChannelTest,
        ChannelTestInput,
        ChannelTestResult,
    )
    from shared.temporal import department_queue

# One attempt: the administrator wants to see the channel's own answer, not a retry's.
ONCE = RetryPolicy(maximum_attempts=1)
TEST_TIMEOUT = timedelta(minutes=5)


@workflow.defn
class ChannelTestWorkflow:
    """Send the test message and answer what the channel said."""

    @workflow.run
    async def run(self, inp: ChannelTestInput) -> ChannelTestResult:
        result = await workflow.execute_activity_method(
            EscalationActivities.send_test_message,
            ChannelTest(channel=inp.channel, by=inp.by),
            task_queue=department_queue(inp.queue_prefix, "planning"),
            start_to_close_timeout=TEST_TIMEOUT,
            retry_policy=ONCE,
            summary=f"test message to channel {inp.channel}",
        )
        workflow.set_current_details(
            f"channel {inp.channel}: " + ("took the test message" if result.ok else "refused it")
        )
        return result
