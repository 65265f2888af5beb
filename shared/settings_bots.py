"""The escalation bots' settings: where escalations and business events go (channels and
routes), how deliveries are retried, and the links a message carries. `Settings` inherits
them; they live here so the channels can grow without the main settings file growing."""

from __future__ import annotations

from typing import Annotated

from pydantic import BeforeValidator, Field, SecretStr
from pydantic_settings import BaseSettings, NoDecode

from shared.settings_fields import split_csv


class BotSettings(BaseSettings):
    webhook_secret: SecretStr = SecretStr("")
    escalation_webhooks: Annotated[list[str], NoDecode, BeforeValidator(split_csv)] = Field(
        default_factory=list
    )
    # Every webhook POST (escalation bots and event webhooks): how long one attempt may take
    # (the activity's own timeout, 5 min, stays above it), the backoff between attempts
    # (doubling from initial to max), and the cap after which a delivery is marked failed and
    # raised to `ops` as `delivery_failed`: whichever of attempts or age comes first.
    webhook_timeout_seconds: float = Field(default=10, gt=0, le=240)
    webhook_backoff_initial_seconds: float = Field(default=2, gt=0, le=3600)
    webhook_backoff_max_seconds: float = Field(default=600, gt=0, le=86400)
    webhook_max_attempts: int = Field(default=20, ge=1)
    webhook_max_age_seconds: float = Field(default=3 * 86400, gt=0)
    # Where reports and other business events are POSTed (comma-separated URLs), signed like
    # escalations with `webhook_secret`; empty: reports are only stored.
    event_webhooks: Annotated[list[str], NoDecode, BeforeValidator(split_csv)] = Field(
        default_factory=list
    )
    # Where people open orderflow, for the links in messages (`https://orderflow.plant.cn`);
    # empty: this machine's gateway (`http://127.0.0.1:<http_port>`).
    public_url: str = ""
    # The desk's URL (`https://orderflow.plant.cn/desk`) for the order links in messages;
    # empty: they open the API's order view (`<public_url>/orders/<order_no>`).
    desk_url: str = ""
    # How long a one-click acknowledge link in a message stays valid, in hours.
    ack_link_hours: float = Field(default=72, gt=0, le=24 * 30)
