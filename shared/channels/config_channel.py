"""One channel object of the channels' configuration, checked and read into a `Channel`: its
type's keys only, its URL checked for its platform, its secrets and password read from where
they are given (inline, a file or an environment variable)."""

from __future__ import annotations

from collections.abc import Mapping
from email.utils import parseaddr
from typing import cast
from urllib.parse import parse_qs, urlsplit

from shared.channels.config_raw import NAME, ChannelConfigError, Raw, shown_key, source
from shared.channels.model import CHANNEL_TYPES, Channel, ChannelType, Lang, SmtpSecurity

# Sends per minute each type is paced to unless the channel says (0: unpaced): DingTalk and
# WeCom robots allow 20 a minute, Feishu bots 100, Slack about one a second.
DEFAULT_RATES: dict[str, int] = {
    "webhook": 0,
    "dingtalk": 20,
    "wecom": 20,
    "feishu": 100,
    "slack": 60,
    "email": 0,
}
DEFAULT_SMTP_PORTS: dict[str, int] = {"starttls": 587, "tls": 465, "none": 25}
MIN_PROD_SECRET = 16

_COMMON = ("name", "type", "lang", "rate_per_minute")
_URL = ("url", "url_file", "url_env")
_SECRET = ("secret", "secret_file", "secret_env")
_PREVIOUS = ("previous_secret", "previous_secret_file", "previous_secret_env")
_EMAIL = (
    *("smtp_host", "smtp_port", "smtp_security", "smtp_username"),
    *("password", "password_file", "password_env", "from", "to"),
)
KEYS: dict[str, tuple[str, ...]] = {
    "webhook": (*_COMMON, *_URL, *_SECRET, *_PREVIOUS),
    "dingtalk": (*_COMMON, *_URL, *_SECRET),
    "feishu": (*_COMMON, *_URL, *_SECRET),
    "wecom": (*_COMMON, *_URL),
    "slack": (*_COMMON, *_URL),
    "email": (*_COMMON, *_EMAIL),
}
# What the robot's signing secret is called where it is shown, for the error that asks for it.
_SIGNING_SECRET = {
    "dingtalk": "the robot's 加签 (signature) secret, SEC…, from its security settings",
    "feishu": "the bot's 签名校验 (signature verification) secret, from its security settings",
}


def parse_channel(obj: object, index: int, environ: Mapping[str, str], prod: bool) -> Channel:
    """One channel object, checked and with its URL and secrets read."""
    if not isinstance(obj, dict):
        raise ChannelConfigError(
            f'channel {index}: must be a JSON object such as {{"name": "quality-group", '
            '"type": "dingtalk", ...}'
        )
    raw = Raw(_channel_where(obj, index), obj, environ)
    kind = _channel_type(raw)
    raw.known_keys(KEYS[kind], f"a {kind} channel", _no_secret_hint(raw, kind))
    name, lang, rate = str(raw.data["name"]), _lang(raw), _rate(raw, kind)
    if kind == "email":
        return _email_channel(raw, name, lang, rate)
    return Channel(
        name=name,
        type=kind,
        lang=lang,
        rate_per_minute=rate,
        url=_url(raw, kind),
        secrets=_secrets(raw, kind, prod),
    )


def _channel_where(obj: Mapping[str, object], index: int) -> str:
    """What errors call the channel: its name once that is valid (else the error is here)."""
    name = obj.get("name")
    if not isinstance(name, str) or not NAME.match(name):
        raise ChannelConfigError(
            f"channel {index}: needs a name of 1-48 characters a-z, 0-9, _ and - (starting "
            'with a letter or digit), e.g. "quality-group"'
        )
    return f'channel "{name}"'


def _channel_type(raw: Raw) -> ChannelType:
    kind = raw.data.get("type")
    if kind not in CHANNEL_TYPES:
        given = f" (not {kind})" if isinstance(kind, str) and shown_key(kind) == kind else ""
        raw.fail(f"type must be one of {', '.join(CHANNEL_TYPES)}{given}")
    return cast(ChannelType, kind)


def _no_secret_hint(raw: Raw, kind: str) -> str:
    if kind in ("wecom", "slack") and any(key in raw.data for key in _SECRET):
        return f" (a {kind} channel has no secret: its token is part of its URL)"
    return ""


def _lang(raw: Raw) -> Lang:
    lang = raw.data.get("lang", "zh")
    if lang not in ("zh", "en"):
        raw.fail('lang must be "zh" or "en"')
    return cast(Lang, lang)


def _rate(raw: Raw, kind: str) -> int:
    rate = _whole(raw.data.get("rate_per_minute", DEFAULT_RATES[kind]))
    if rate is None or rate < 0:
        raw.fail("rate_per_minute must be a whole number of sends a minute, 0 or more (0: unpaced)")
    return rate


def _whole(value: object) -> int | None:
    """The value if it is a whole number (JSON's true and false are not), else None."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _url(raw: Raw, kind: str) -> str:
    """The channel's URL from url, url_file or url_env, checked for its type."""
    found = source(raw, "url")
    if found is None:
        raw.fail(f"a {kind} channel needs its URL: give url, url_file or url_env")
    url, key = found
    problem = url_problem(url, kind)
    if problem:
        raw.fail(f"the URL from {key} {problem}")
    return url


def url_problem(url: str, kind: str) -> str | None:
    """What is wrong with a channel's URL for its type (without showing it), or None."""
    if any(char.isspace() for char in url):
        return "has spaces or line breaks in it"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (a malformed port raises here)
    except ValueError:
        return "is not a URL"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "must be an http:// or https:// URL with a host"
    last_segment = parts.path.rsplit("/", 1)[-1]
    if kind == "dingtalk" and not parse_qs(parts.query).get("access_token"):
        return "needs the robot's access_token query parameter (…/robot/send?access_token=…)"
    if kind == "wecom" and not parse_qs(parts.query).get("key"):
        return "needs the robot's key query parameter (…/cgi-bin/webhook/send?key=…)"
    if kind == "feishu" and not last_segment:
        return "needs the bot's token as its last path segment (…/open-apis/bot/v2/hook/<token>)"
    if kind == "slack" and parts.path in ("", "/"):
        return "needs the incoming webhook's path (https://hooks.slack.com/services/…)"
    return None


def _secrets(raw: Raw, kind: str, prod: bool) -> tuple[str, ...]:
    """The channel's signing secrets: dingtalk and feishu need one; a webhook may have the
    current one and, during a rotation, the previous one (none: ORDERFLOW_WEBHOOK_SECRET)."""
    if kind not in ("webhook", "dingtalk", "feishu"):
        return ()
    current = source(raw, "secret")
    if current is None and kind in _SIGNING_SECRET:
        raw.fail(
            f"a {kind} channel needs {_SIGNING_SECRET[kind]}: give secret, secret_file or "
            "secret_env"
        )
    previous = source(raw, "previous_secret") if kind == "webhook" else None
    if previous is not None and current is None:
        raw.fail(
            "previous_secret is the secret being rotated out: give the current one too "
            "(secret, secret_file or secret_env)"
        )
    found = [pair for pair in (current, previous) if pair is not None]
    for value, key in found:
        if prod and len(value) < MIN_PROD_SECRET:
            raw.fail(f"in prod the secret from {key} must be {MIN_PROD_SECRET}+ characters")
    return tuple(value for value, _ in found)


def _email_channel(raw: Raw, name: str, lang: Lang, rate: int) -> Channel:
    """An e-mail channel: its SMTP server, sign-in and addresses."""
    host = raw.data.get("smtp_host")
    if not isinstance(host, str) or not host or any(char.isspace() for char in host):
        raw.fail("an email channel needs smtp_host, the SMTP server's host name")
    security = raw.data.get("smtp_security", "starttls")
    if security not in DEFAULT_SMTP_PORTS:
        raw.fail("smtp_security must be starttls, tls or none")
    port = _whole(raw.data.get("smtp_port", DEFAULT_SMTP_PORTS[str(security)]))
    if port is None or not 1 <= port <= 65535:
        raw.fail("smtp_port must be a port number, 1-65535")
    username = raw.data.get("smtp_username", "")
    if not isinstance(username, str):
        raw.fail("smtp_username must be a string")
    password = source(raw, "password")
    if password is not None and not username:
        raw.fail(
            "a password needs smtp_username: give both, or neither for a server that "
            "takes mail without signing in"
        )
    return Channel(
        name=name,
        type="email",
        lang=lang,
        rate_per_minute=rate,
        smtp_host=host,
        smtp_port=port,
        smtp_security=cast(SmtpSecurity, security),
        smtp_username=username,
        smtp_password=password[0] if password else "",
        mail_from=_address(raw, raw.data.get("from"), "from"),
        mail_to=_recipients(raw),
    )


def _recipients(raw: Raw) -> tuple[str, ...]:
    to = raw.data.get("to")
    if not isinstance(to, list) or not to:
        raw.fail('an email channel needs to, a non-empty list of addresses (["qm@plant.cn"])')
    return tuple(_address(raw, item, f"to[{index}]") for index, item in enumerate(to))


def _address(raw: Raw, value: object, key: str) -> str:
    """An e-mail address as given (`qm@plant.cn` or `Quality <qm@plant.cn>`), checked."""
    if not isinstance(value, str):
        raw.fail(f"an email channel needs {key}, an e-mail address")
    _, address = parseaddr(value)
    local, at, domain = address.rpartition("@")
    if not (local and at and domain) or any(char.isspace() for char in address):
        raw.fail(f"{key} is not an e-mail address (write name@domain)")
    return value
