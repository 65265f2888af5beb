"""EscalationDeliveryWorkflow: push one escalation to every escalation bot until each says 2xx."""

from __future__ import annotations

import asyncio

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from shared.escalations.activities import (
        DeliverWebhook,
        EscalationActivities,
        EscalationDelivery,
    )
    from workflows.common import DB_RETRY, DB_TIMEOUT, WEBHOOK_RETRY, WEBHOOK_TIMEOUT


@workflow.defn
class EscalationDeliveryWorkflow:
    """One per escalation (id `escalation-<id>`), so a dead bot never holds up an order."""

    @workflow.run
    async def run(self, delivery: EscalationDelivery) -> list[str]:
        escalation_id = delivery.escalation_id
        urls = await workflow.execute_activity_method(
            EscalationActivities.webhook_targets,
            task_queue=delivery.task_queue,
            start_to_close_timeout=DB_TIMEOUT,
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
                    summary=f"POST escalation {escalation_id} to {url}"[:200],
                )
                for url in urls
            )
        )
        return urls
