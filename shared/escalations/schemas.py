"""The escalation types `/escalations` and the order view return."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from shared.bounds import Text

# The longest resolution a caller may record.
RESOLUTION_LEN = 2000


# An escalation as the API shows it.
class EscalationPublic(BaseModel):
    id: int
    kind: str
    level: int
    order_no: str
    task_id: str | None
    department: str
    role: str
    due_at: datetime | None
    breached_at: datetime
    message: str
    state: str
    acked_by: str | None = None
    acked_at: datetime | None = None
    resolution: str | None = None
    resolved_by: str | None = None
    resolved_at: datetime | None = None


# `POST /escalations/{id}/resolve`: what was done about the escalation.
class ResolveRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    resolution: Text = Field(min_length=1, max_length=RESOLUTION_LEN)

    @field_validator("resolution")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank: say what was done")
        return value.strip()


# An escalation's delivery to one channel, as `GET /escalations` shows it: the channel's name
# and where it goes, safe to show (scheme and host, or an e-mail's recipients).
class DeliveryStatePublic(BaseModel):
    channel: str
    target: str
    delivery_id: str | None
    state: str
    attempts: int
    last_status: int | None = None
    last_error: str | None = None
    delivered_at: datetime | None = None


# An escalation in the `GET /escalations` list: with its delivery state per bot.
class EscalationListed(EscalationPublic):
    deliveries: list[DeliveryStatePublic] = []


# A channel's delivery health: its last send that got through, its last that did not (and
# why), how many did not in the last 24 hours, and the messages waiting for it.
class ChannelHealthPublic(BaseModel):
    last_success_at: datetime | None = None
    last_failure_at: datetime | None = None
    last_error: str | None = None
    failures_24h: int = 0
    pending: int = 0


# A configured channel, as `GET /escalations/channels` lists it (no URL, token or secret).
class ChannelPublic(BaseModel):
    name: str
    type: str
    lang: str
    target: str
    rate_per_minute: int
    health: ChannelHealthPublic
