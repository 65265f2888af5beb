"""Escalation activities: store a breached clock; deliver it (and business events) to the
channels its routes name (`shared.escalations.notify`, inherited).

`webhook_targets` and `deliver_webhook` are how escalation deliveries started before channels
(their workflows still running) go on: a bare URL in their history is sent as the configured
webhook channel with that URL, or as a webhook channel of its own under a digest of it.
"""

from __future__ import annotations

import hashlib

from pydantic import BaseModel
from temporalio import activity

from shared.channels.model import Channel
from shared.db import session_scope
from shared.escalations import deliveries
from shared.escalations.channel_test import ChannelTestActivities
from shared.escalations.notify import DeliveryActivities, escalation_delivery_id
from shared.escalations.store import store_escalation
from shared.settings import Settings
from shared.types import EscalationRaised, RaiseEscalation


# One escalation to one webhook URL (deliveries started before channels).
class DeliverWebhook(BaseModel):
    escalation_id: int
    url: str


# What EscalationDeliveryWorkflow delivers: an escalation, through a department's queue.
class EscalationDelivery(BaseModel):
    escalation_id: int
    task_queue: str


def channel_for_url(settings: Settings, url: str) -> Channel:
    """The webhook channel a bare URL from before channels is sent as: the configured one with
    that URL, else one of its own named after a digest of the URL (never the URL itself)."""
    for channel in settings.channel_book().channels.values():
        if channel.type == "webhook" and channel.url == url:
            return channel
    return Channel(
        name=f"legacy-{hashlib.sha256(url.encode()).hexdigest()[:8]}",
        type="webhook",
        url=url,
        secrets=(settings.webhook_signing_secret(),),
    )


class EscalationActivities(DeliveryActivities, ChannelTestActivities):
    """Stores escalations and delivers them and the business events to their channels (and
    an administrator's test message)."""

    @activity.defn
    async def raise_escalation(self, esc: RaiseEscalation) -> EscalationRaised:
        """Store an escalation once per key; mark its task and the order's timeline."""
        async with session_scope(self._engine) as session:
            return await store_escalation(session, esc)

    @activity.defn
    async def webhook_targets(self) -> list[str]:
        """The legacy escalation webhook URLs (for a delivery started before channels)."""
        return list(self._settings.escalation_webhooks)

    @activity.defn
    async def deliver_webhook(self, target: DeliverWebhook) -> int:
        """Deliver an escalation to a bare URL (a delivery started before channels), as a
        webhook channel; the answer's status, 0 when it failed at the cap."""
        channel = channel_for_url(self._settings, target.url)
        delivery_id = escalation_delivery_id(target.escalation_id, channel.name)
        async with session_scope(self._engine) as session:
            await deliveries.plan(
                session,
                [
                    deliveries.Planned(
                        delivery_id=delivery_id,
                        channel=channel.name,
                        escalation_id=target.escalation_id,
                    )
                ],
                at=activity.info().scheduled_time,
            )
        outcome = await self.send_planned(delivery_id, channel_given=channel)
        return 200 if outcome.state == "delivered" else 0
