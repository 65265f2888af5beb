"""The channels and routes as configured: `ORDERFLOW_CHANNELS` (JSON) or `ORDERFLOW_CHANNELS_FILE`
(a JSON file), beside the legacy `ORDERFLOW_ESCALATION_WEBHOOKS` and `ORDERFLOW_EVENT_WEBHOOKS`,
read into a `ChannelBook` when the settings are built, so a misconfigured process stops at
start with the channel or route named.

The JSON is a list of channels (every escalation and every event goes to every channel) or
`{"channels": [...], "routes": [...]}` (routes absent or empty: the same). A channel's URL,
secret and password may be given inline (`url`), in a file (`url_file`, e.g. a mounted k8s
Secret; a trailing newline is dropped) or in an environment variable (`url_env`). Errors name
the channel or route and the key, never a URL, secret or password, nor a file path or
variable name (a secret pasted in the wrong key would otherwise be shown).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path

from shared.channels.config_channel import parse_channel, url_problem
from shared.channels.config_raw import ChannelConfigError, shown_key, why_unreadable
from shared.channels.config_routes import parse_routes
from shared.channels.model import EVENT_KINDS, Channel, Route
from shared.channels.routing import ChannelBook

__all__ = ["ChannelConfigError", "load_channel_book", "with_webhook_secret"]


def load_channel_book(
    *,
    channels_json: str = "",
    channels_file: Path | None = None,
    escalation_webhooks: Sequence[str] = (),
    event_webhooks: Sequence[str] = (),
    prod: bool = False,
    environ: Mapping[str, str] | None = None,
) -> ChannelBook:
    """Every configured channel and route; ChannelConfigError naming what is wrong if any.

    Webhook channels without a secret of their own are left without one here: the caller
    gives them ORDERFLOW_WEBHOOK_SECRET with `with_webhook_secret`."""
    env = os.environ if environ is None else environ
    raw_channels, raw_routes = _parts(_document(channels_json, channels_file))
    configured = [parse_channel(obj, index, env, prod) for index, obj in enumerate(raw_channels, 1)]
    legacy = _legacy("escalation-webhook", "ORDERFLOW_ESCALATION_WEBHOOKS", escalation_webhooks)
    legacy_events = _legacy("event-webhook", "ORDERFLOW_EVENT_WEBHOOKS", event_webhooks)
    channels = _by_name([*configured, *legacy, *legacy_events])
    names = [channel.name for channel in configured]
    routes = parse_routes(raw_routes, channels) if raw_routes else _everything(names)
    routes += _everything([c.name for c in legacy], escalations=True, events=False)
    routes += _everything([c.name for c in legacy_events], escalations=False, events=True)
    return ChannelBook(channels, tuple(routes))


def with_webhook_secret(book: ChannelBook, secret: str) -> ChannelBook:
    """The book with every webhook channel that has no secret of its own signing with
    `secret` (ORDERFLOW_WEBHOOK_SECRET), as the legacy webhooks always did."""
    channels = {
        name: replace(channel, secrets=(secret,))
        if channel.type == "webhook" and not channel.secrets
        else channel
        for name, channel in book.channels.items()
    }
    return ChannelBook(channels, book.routes)


def _document(channels_json: str, channels_file: Path | None) -> tuple[object, str] | None:
    """The parsed JSON of ORDERFLOW_CHANNELS or ORDERFLOW_CHANNELS_FILE (never both), with
    the setting it came from; None when neither is set."""
    if channels_json.strip() and channels_file is not None:
        raise ChannelConfigError(
            "ORDERFLOW_CHANNELS and ORDERFLOW_CHANNELS_FILE are both set: give the channels "
            "in one of them"
        )
    if channels_file is not None:
        source = "ORDERFLOW_CHANNELS_FILE"
        try:
            text = channels_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            reason = why_unreadable(exc)
            raise ChannelConfigError(
                f"{source} cannot be read ({reason}): mount the file there or fix the path"
            ) from None
    elif channels_json.strip():
        source, text = "ORDERFLOW_CHANNELS", channels_json
    else:
        return None
    try:
        return json.loads(text), source
    except json.JSONDecodeError as exc:
        raise ChannelConfigError(
            f"{source} is not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})"
        ) from None


def _parts(document: tuple[object, str] | None) -> tuple[list[object], list[object]]:
    """The channel objects and route objects of the document (a list, or an object with
    `channels` and optional `routes`)."""
    if document is None:
        return [], []
    data, source = document
    if isinstance(data, list):
        return data, []
    shape = f'{source} must be a JSON list of channels or {{"channels": [...], "routes": [...]}}'
    if not isinstance(data, dict) or not isinstance(data.get("channels"), list):
        raise ChannelConfigError(shape)
    unknown = [shown_key(key) for key in data if key not in ("channels", "routes")]
    routes = data.get("routes", [])
    if unknown or not isinstance(routes, list):
        extra = f" (unknown key(s) {', '.join(unknown)})" if unknown else ""
        raise ChannelConfigError(shape + extra)
    return data["channels"], routes


def _everything(
    names: Sequence[str], *, escalations: bool = True, events: bool = True
) -> list[Route]:
    """Routes sending every escalation and/or every event to each of `names`."""
    if not names:
        return []
    routes = [Route(channels=tuple(names))] if escalations else []
    if events:
        routes.append(Route(channels=tuple(names), events=frozenset(EVENT_KINDS)))
    return routes


def _by_name(channels: list[Channel]) -> dict[str, Channel]:
    """The channels by name; a name given twice (or taken by a legacy webhook) is an error."""
    found: dict[str, Channel] = {}
    for channel in channels:
        if channel.name in found:
            raise ChannelConfigError(
                f'channel "{channel.name}": the name is given twice (legacy webhooks are named '
                "escalation-webhook-N and event-webhook-N): give each channel its own name"
            )
        found[channel.name] = channel
    return found


def _legacy(prefix: str, setting: str, urls: Sequence[str]) -> list[Channel]:
    """Each URL of a legacy setting as a `webhook` channel `<prefix>-1`, `<prefix>-2`, ..."""
    channels = []
    for index, url in enumerate(urls, 1):
        name = f"{prefix}-{index}"
        problem = url_problem(url, "webhook")
        if problem:
            raise ChannelConfigError(f'channel "{name}": URL {index} of {setting} {problem}')
        channels.append(Channel(name=name, type="webhook", url=url))
    return channels
