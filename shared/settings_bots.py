"""The escalation bots' settings: where escalations and business events go (channels and
routes), how deliveries are retried, and the links a message carries. `Settings` inherits
them; they live here so the channels can grow without the main settings file growing."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import BeforeValidator, Field, PrivateAttr, SecretStr
from pydantic_settings import BaseSettings, NoDecode

from shared.channels.config import load_channel_book
from shared.channels.routing import ChannelBook
from shared.settings_fields import split_csv


def _empty_is_none(value: object) -> object:
    """An empty variable (`ORDERFLOW_CHANNELS_FILE=`) as not set, not as the path `.`."""
    return None if value == "" else value


class BotSettings(BaseSettings):
    webhook_secret: SecretStr = SecretStr("")
    # The channels escalations and business events go to, and the routes over them
    # (shared/channels/config.py; README "Bots"): JSON in ORDERFLOW_CHANNELS or a JSON file
    # named by ORDERFLOW_CHANNELS_FILE (one of them). Kept out of repr: it may hold URLs.
    channels: str = Field(default="", repr=False)
    channels_file: Annotated[Path | None, BeforeValidator(_empty_is_none)] = None
    # Legacy: each URL a `webhook` channel (`escalation-webhook-1`, ...) that gets every
    # escalation, signed with `webhook_secret`.
    escalation_webhooks: Annotated[list[str], NoDecode, BeforeValidator(split_csv)] = Field(
        default_factory=list, repr=False
    )
    # Every webhook POST (escalation bots and event webhooks): how long one attempt may take
    # (the activity's own timeout, 5 min, stays above it), the backoff between attempts
    # (doubling from initial to max), and the cap after which a delivery is marked failed and
    # raised to `ops` as `channel_failing` (once per channel per hour): whichever of failed
    # attempts or age comes first.
    webhook_timeout_seconds: float = Field(default=10, gt=0, le=240)
    webhook_backoff_initial_seconds: float = Field(default=2, gt=0, le=3600)
    webhook_backoff_max_seconds: float = Field(default=600, gt=0, le=86400)
    webhook_max_attempts: int = Field(default=20, ge=1)
    webhook_max_age_seconds: float = Field(default=3 * 86400, gt=0)
    # Where reports and other business events are POSTed (comma-separated URLs), signed like
    # escalations with `webhook_secret`; empty: reports are only stored. Legacy: each URL a
    # `webhook` channel (`event-webhook-1`, ...) that gets every event.
    event_webhooks: Annotated[list[str], NoDecode, BeforeValidator(split_csv)] = Field(
        default_factory=list, repr=False
    )
    # Where people open orderflow, for the links in messages (`https://orderflow.plant.cn`);
    # empty: this machine's gateway (`http://127.0.0.1:<http_port>`).
    public_url: str = ""
    # The desk's URL (`https://orderflow.plant.cn/desk`) for the order links in messages;
    # empty: they open the API's order view (`<public_url>/orders/<order_no>`).
    desk_url: str = ""
    # How long a one-click acknowledge link in a message stays valid, in hours.
    ack_link_hours: float = Field(default=72, gt=0, le=24 * 30)

    # The book read from the settings above, with what it was read from: `model_copy` with
    # changes keeps this attribute but not its inputs, so it is read again when they differ.
    _channels_read: tuple[tuple[object, ...], ChannelBook] | None = PrivateAttr(default=None)

    def configured_channels(self, *, prod: bool) -> ChannelBook:
        """The channels and routes as configured, read once (files and variables) per
        configuration; webhook channels without a secret of their own have none here
        (`Settings.channel_book` gives them ORDERFLOW_WEBHOOK_SECRET). Raises
        ChannelConfigError (a ValueError) naming the channel or route that is wrong."""
        inputs = (
            self.channels,
            self.channels_file,
            tuple(self.escalation_webhooks),
            tuple(self.event_webhooks),
            prod,
        )
        if self._channels_read is None or self._channels_read[0] != inputs:
            book = load_channel_book(
                channels_json=self.channels,
                channels_file=self.channels_file,
                escalation_webhooks=self.escalation_webhooks,
                event_webhooks=self.event_webhooks,
                prod=prod,
            )
            self._channels_read = (inputs, book)
        return self._channels_read[1]
