"""EscalationDeliveryWorkflow: deliver one escalation to every channel its routes name, each
until the channel takes it or the cap fails it; and the delivery steps the plan-report and
digest workflows share.

The history holds channel names and delivery ids only: what a channel's URL or secret is, the
activities read from the settings when they send.
"""

from __future__ import annotations

import asyncio
import contextlib

from temporalio import workflow
from temporalio.exceptions import WorkflowAlreadyStartedError

with workflow.unsafe.imports_passed_through():
    from shared.channels.model import CHANNEL_FAILING
    from shared.escalations.activities import (
        DeliverWebhook,
        EscalationActivities,
        EscalationDelivery,
    )
    from shared.escalations.delivery_types import (
        ChannelFailing,
        DeliveryOutcome,
        PlanEscalationDeliveries,
        PlannedDelivery,
        SendDelivery,
    )
    from shared.escalations.models import FAILED
    from workflows.common import DB_HEARTBEAT, DB_RETRY, DB_TIMEOUT, WEBHOOK_RETRY, WEBHOOK_TIMEOUT

# Deliveries through named channels (routing, pacing, the platforms' own messages) instead of
# a signed POST to each URL of a setting.
CHANNELS_PATCH = "channels"


async def send_all(
    planned: list[PlannedDelivery], *, queue: str, what: str
) -> list[DeliveryOutcome]:
    """Send each planned delivery, all at once (each channel keeps its own turn and pace)."""
    return list(
        await asyncio.gather(
            *(
                workflow.execute_activity_method(
                    EscalationActivities.send_delivery,
                    SendDelivery(delivery_id=p.delivery_id),
                    task_queue=queue,
                    start_to_close_timeout=WEBHOOK_TIMEOUT,
                    retry_policy=WEBHOOK_RETRY,
                    summary=f"{what} to channel {p.channel}"[:200],
                )
                for p in planned
            )
        )
    )


async def raise_failing_channels(
    outcomes: list[DeliveryOutcome], *, department: str, queue: str
) -> None:
    """Raise `channel_failing` to `ops` for each channel that failed a delivery at the cap
    (once per channel per hour), and deliver it through the other channels (`department` and
    its `queue` are the failed message's)."""
    for outcome in outcomes:
        if outcome.state != FAILED:
            continue
        raised = await workflow.execute_activity_method(
            EscalationActivities.raise_channel_failing,
            ChannelFailing(
                channel=outcome.channel,
                delivery_id=outcome.delivery_id,
                department=department,
                at=workflow.now(),
            ),
            task_queue=queue,
            start_to_close_timeout=DB_TIMEOUT,
            heartbeat_timeout=DB_HEARTBEAT,
            retry_policy=DB_RETRY,
            summary=f"escalate to ops: channel {outcome.channel} is failing",
        )
        if not raised.created:
            continue
        with contextlib.suppress(WorkflowAlreadyStartedError):
            await workflow.start_child_workflow(
                EscalationDeliveryWorkflow.run,
                EscalationDelivery(escalation_id=raised.id, task_queue=queue),
                id=f"escalation-{raised.id}",
                task_queue=workflow.info().task_queue,
                parent_close_policy=workflow.ParentClosePolicy.ABANDON,
                static_summary=f"deliver escalation {raised.id} (failing {outcome.channel})",
            )


@workflow.defn
class EscalationDeliveryWorkflow:
    """One per escalation (id `escalation-<id>`), so a dead bot never holds up an order."""

    @workflow.run
    async def run(self, delivery: EscalationDelivery) -> list[str]:
        if not workflow.patched(CHANNELS_PATCH):
            return await self._to_urls(delivery)
        escalation_id = delivery.escalation_id
        plan = await workflow.execute_activity_method(
            EscalationActivities.plan_escalation_deliveries,
            PlanEscalationDeliveries(escalation_id=escalation_id),
            task_queue=delivery.task_queue,
            start_to_close_timeout=DB_TIMEOUT,
            heartbeat_timeout=DB_HEARTBEAT,
            retry_policy=DB_RETRY,
            summary=f"route escalation {escalation_id} to its channels",
        )
        names = [p.channel for p in plan.deliveries]
        workflow.set_current_details(
            f"delivering escalation {escalation_id} ({plan.kind}) to "
            f"{', '.join(names) or 'no channel'}"
        )
        outcomes = await send_all(
            plan.deliveries, queue=delivery.task_queue, what=f"escalation {escalation_id}"
        )
        workflow.set_current_details(
            f"escalation {escalation_id}: "
            + (", ".join(f"{o.channel} {o.state}" for o in outcomes) or "no channel")
        )
        # A channel's own failure is not news of another failure (no alarm loops).
        if plan.kind != CHANNEL_FAILING:
            await raise_failing_channels(
                outcomes, department=plan.department, queue=delivery.task_queue
            )
        return names

    async def _to_urls(self, delivery: EscalationDelivery) -> list[str]:
        """Before channels: POST the escalation to each URL of the setting. (Its history holds
        the URLs; a run started after the patch holds channel names only.)"""
        escalation_id = delivery.escalation_id
        urls = await workflow.execute_activity_method(
            EscalationActivities.webhook_targets,
            task_queue=delivery.task_queue,
            start_to_close_timeout=DB_TIMEOUT,
            heartbeat_timeout=DB_HEARTBEAT,
            retry_policy=DB_RETRY,
            summary="read escalation webhook URLs",
        )
        workflow.set_current_details(f"delivering escalation {escalation_id} to {len(urls)} bot(s)")
        await asyncio.gather(
            *(
                workflow.execute_activity_method(
                    EscalationActivities.deliver_webhook,
                    DeliverWebhook(escalation_id=escalation_id, url=url),
                    task_queue=delivery.task_queue,
                    start_to_close_timeout=WEBHOOK_TIMEOUT,
                    retry_policy=WEBHOOK_RETRY,
                    summary=f"POST escalation {escalation_id} to webhook {n} of {len(urls)}",
                )
                for n, url in enumerate(urls, start=1)
            )
        )
        return urls
