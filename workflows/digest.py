"""EscalationDigestWorkflow: at the start of the plant's working day, each department's open
escalations in one message to the channels its routes name for `escalation_digest`.

A Temporal Schedule starts it every day at the first shift's start (the plant's local time);
on the plant's days off it records that and ends.
"""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from shared.escalations.activities import EscalationActivities
    from shared.escalations.delivery_types import DigestInput, DigestRun
    from shared.temporal import department_queue
    from workflows.common import DB_HEARTBEAT, DB_RETRY, DB_TIMEOUT
    from workflows.escalation import raise_failing_channels, send_all


@workflow.defn
class EscalationDigestWorkflow:
    """One day's digests of open escalations, one per department that has any."""

    @workflow.run
    async def run(self, inp: DigestInput) -> DigestRun:
        queue = department_queue(inp.queue_prefix, "planning")
        digests = await workflow.execute_activity_method(
            EscalationActivities.plan_digests,
            task_queue=queue,
            start_to_close_timeout=DB_TIMEOUT,
            heartbeat_timeout=DB_HEARTBEAT,
            retry_policy=DB_RETRY,
            summary="escalation digest: each department's open escalations, to its channels",
        )
        if digests.skipped:
            workflow.set_current_details(f"**escalation digest** {digests.skipped}")
            return digests
        name = f"escalation digest {digests.day}"
        workflow.set_current_details(f"**{name}**: {len(digests.deliveries)} message(s) to send")
        outcomes = await send_all(digests.deliveries, queue=queue, what=name)
        workflow.set_current_details(
            f"**{name}**: "
            + (", ".join(f"{o.delivery_id} {o.state}" for o in outcomes) or "nothing open")
        )
        await raise_failing_channels(outcomes, department="planning", queue=queue)
        return digests
