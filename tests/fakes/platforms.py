"""Fakes of the chat platforms' robots, each checking a request exactly as the platform
documents it and answering the platform's own bodies.

Each is an ASGI app (run it with `tests.fakes.base.serve`); `url(base)` is the robot URL a
channel is configured with and `channel(base, ...)` that channel. Signature timestamps are
checked against wall time (the sender signs with it); the rate limit counts by the fake's
injectable clock.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from typing import Any

from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError
from starlette.requests import Request

from shared.channels.model import Channel, Lang
from tests.fakes.base import Answer, Clock, FakePlatform

HOUR = 3600.0


class DingTalkFake(FakePlatform):
    """A DingTalk custom robot with 加签: `access_token`, then `timestamp` (ms, within an hour)
    and `sign`; a markdown message; 20 messages a minute."""

    name, default_limit = "dingtalk", 20
    PATH = "/robot/send"
    ERRMSG = {
        300001: "token is not exist",
        310000: "sign not match, more: [https://open.dingtalk.com/document/robots/customize-robot-security-settings]",
        40035: "缺少参数 json",
        130101: "send too fast, exceed 20 times per minute",
    }

    def __init__(self, token: str, secret: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.token, self.secret = token, secret

    def url(self, base: str) -> str:
        return f"{base}{self.PATH}?access_token={self.token}"

    def channel(
        self, base: str, *, name: str = "dingtalk", lang: Lang = "zh", **kw: Any
    ) -> Channel:
        return Channel(name, "dingtalk", lang, url=self.url(base), secrets=(self.secret,), **kw)

    def expected_sign(self, timestamp: str) -> str:
        mac = hmac.new(self.secret.encode(), f"{timestamp}\n{self.secret}".encode(), hashlib.sha256)
        return base64.b64encode(mac.digest()).decode()

    def check(self, request: Request, raw: bytes, body: Any) -> Answer | None:
        query = request.query_params
        if request.url.path != self.PATH or query.get("access_token") != self.token:
            return self.error(300001, None)
        timestamp, sign = query.get("timestamp", ""), query.get("sign", "")
        fresh = timestamp.isdigit() and abs(time.time() - int(timestamp) / 1000) < HOUR
        if not fresh or not hmac.compare_digest(sign, self.expected_sign(timestamp)):
            return self.error(310000, None)
        markdown = body.get("markdown") if isinstance(body, dict) else None
        if (
            body.get("msgtype") != "markdown"
            or not isinstance(markdown, dict)
            or not (markdown.get("title") and markdown.get("text"))
        ):
            return self.error(40035, None)
        return None

    def ok(self) -> Answer:
        return Answer(200, {"errcode": 0, "errmsg": "ok"})

    def rate_limited(self) -> Answer:
        return self.error(130101, None)

    def error(self, code: int | str | None, status: int | None) -> Answer:
        if status is not None:
            return Answer(status, "error")
        number = int(code) if code is not None else 300001
        return Answer(200, {"errcode": number, "errmsg": self.ERRMSG.get(number, "system error")})


class WeComFake(FakePlatform):
    """A WeCom group robot: its `key`; markdown content at most 4096 bytes; 20 a minute."""

    name, default_limit = "wecom", 20
    PATH = "/cgi-bin/webhook/send"
    MAX_CONTENT_BYTES = 4096
    ERRMSG = {
        93000: "invalid webhook url, hint: [1733300000_1_abc], from ip: 127.0.0.1",
        40058: "markdown.content exceed max length 4096",
        45009: "api freq out of limit",
    }

    def __init__(self, key: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.key = key

    def url(self, base: str) -> str:
        return f"{base}{self.PATH}?key={self.key}"

    def channel(self, base: str, *, name: str = "wecom", lang: Lang = "zh", **kw: Any) -> Channel:
        return Channel(name, "wecom", lang, url=self.url(base), **kw)

    def check(self, request: Request, raw: bytes, body: Any) -> Answer | None:
        if request.url.path != self.PATH or request.query_params.get("key") != self.key:
            return self.error(93000, None)
        if not isinstance(body, dict):
            return Answer(200, {"errcode": 40008, "errmsg": "invalid message type"})
        markdown = body.get("markdown")
        content = markdown.get("content") if isinstance(markdown, dict) else None
        if body.get("msgtype") != "markdown" or not isinstance(content, str) or not content:
            return Answer(200, {"errcode": 40008, "errmsg": "invalid message type"})
        if len(content.encode()) > self.MAX_CONTENT_BYTES:
            return self.error(40058, None)
        return None

    def ok(self) -> Answer:
        return Answer(200, {"errcode": 0, "errmsg": "ok"})

    def rate_limited(self) -> Answer:
        return self.error(45009, None)

    def error(self, code: int | str | None, status: int | None) -> Answer:
        if status is not None:
            return Answer(status, "error")
        number = int(code) if code is not None else 93000
        return Answer(200, {"errcode": number, "errmsg": self.ERRMSG.get(number, "system error")})


class FeishuFake(FakePlatform):
    """A Feishu custom bot with 签名校验: the hook token in the path; `timestamp` (s, within an
    hour) and `sign` in the body; an interactive card; 100 a minute."""

    name, default_limit = "feishu", 100
    PREFIX = "/open-apis/bot/v2/hook/"
    MSG = {
        19001: "param invalid: incoming webhook access token invalid",
        19021: "sign match fail or timestamp is not within one hour from current time",
        9499: "too many request",
        19024: "Key Words Not Found",
    }

    def __init__(self, hook: str, secret: str, *, older: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.hook, self.secret = hook, secret
        # An older bot answers success with `StatusCode`/`StatusMessage` only.
        self.older = older

    def url(self, base: str) -> str:
        return f"{base}{self.PREFIX}{self.hook}"

    def channel(self, base: str, *, name: str = "feishu", lang: Lang = "zh", **kw: Any) -> Channel:
        return Channel(name, "feishu", lang, url=self.url(base), secrets=(self.secret,), **kw)

    def expected_sign(self, timestamp: str) -> str:
        key = f"{timestamp}\n{self.secret}".encode()
        return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()

    def check(self, request: Request, raw: bytes, body: Any) -> Answer | None:
        if request.url.path != self.PREFIX + self.hook or not isinstance(body, dict):
            return self.error(19001, None)
        timestamp, sign = str(body.get("timestamp", "")), str(body.get("sign", ""))
        fresh = timestamp.isdigit() and abs(time.time() - int(timestamp)) < HOUR
        if not fresh or not hmac.compare_digest(sign, self.expected_sign(timestamp)):
            return self.error(19021, None)
        card = body.get("card")
        if body.get("msg_type") != "interactive" or not isinstance(card, dict):
            return Answer(200, {"code": 9499, "msg": "Bad Request", "data": {}})
        return None

    def ok(self) -> Answer:
        if self.older:
            return Answer(200, {"StatusCode": 0, "StatusMessage": "success"})
        return Answer(
            200,
            {"StatusCode": 0, "StatusMessage": "success", "code": 0, "data": {}, "msg": "success"},
        )

    def rate_limited(self) -> Answer:
        return self.error(9499, None)

    def error(self, code: int | str | None, status: int | None) -> Answer:
        if status is not None:
            return Answer(status, "error")
        number = int(code) if code is not None else 19001
        return Answer(200, {"code": number, "msg": self.MSG.get(number, "error"), "data": {}})


class SlackFake(FakePlatform):
    """A Slack incoming webhook: the token is the URL's path; `text` or `blocks`; answers
    `ok`, or the error code as text with its status; about one a second."""

    name, default_limit = "slack", 60
    STATUS = {
        "invalid_payload": 400,
        "action_prohibited": 403,
        "no_service": 404,
        "channel_not_found": 404,
        "channel_is_archived": 410,
        "rollup_error": 500,
    }

    def __init__(self, path: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.path = path

    def url(self, base: str) -> str:
        return f"{base}{self.path}"

    def channel(self, base: str, *, name: str = "slack", lang: Lang = "en", **kw: Any) -> Channel:
        return Channel(name, "slack", lang, url=self.url(base), **kw)

    def check(self, request: Request, raw: bytes, body: Any) -> Answer | None:
        if request.url.path != self.path:
            return self.error("no_service", None)
        if not isinstance(body, dict) or not (body.get("text") or body.get("blocks")):
            return self.error("invalid_payload", None)
        return None

    def ok(self) -> Answer:
        return Answer(200, "ok")

    def rate_limited(self) -> Answer:
        return Answer(429, "rate_limited", {"Retry-After": "30"})

    def error(self, code: int | str | None, status: int | None) -> Answer:
        text = str(code) if code is not None else "rollup_error"
        return Answer(status or self.STATUS.get(text, 400), text)


class WebhookFake(FakePlatform):
    """A generic escalation bot that knows `secrets` (during a rotation, perhaps only the old
    one): the Standard Webhooks signature verified with `standardwebhooks` under any of them,
    and (unless `orderflow_signature=False`) `X-Orderflow-Signature` too; 401 when wrong."""

    name, default_limit = "webhook", 0

    def __init__(
        self,
        *secrets: str,
        orderflow_signature: bool = True,
        clock: Clock | None = None,
        limit_per_minute: int | None = None,
    ) -> None:
        super().__init__(limit_per_minute=limit_per_minute, clock=clock)
        self.secrets = secrets
        self.orderflow_signature = orderflow_signature

    def url(self, base: str) -> str:
        return f"{base}/hooks/orderflow"

    def channel(
        self, base: str, *secrets: str, name: str = "webhook", lang: Lang = "en", **kw: Any
    ) -> Channel:
        """The channel sending to this bot with `secrets` (default: the bot's own)."""
        return Channel(
            name, "webhook", lang, url=self.url(base), secrets=secrets or self.secrets, **kw
        )

    def _standard_ok(self, raw: bytes, headers: dict[str, str]) -> bool:
        for secret in self.secrets:
            try:
                Webhook(secret.encode()).verify(raw, headers)
            except WebhookVerificationError:
                continue
            return True
        return False

    def _orderflow_ok(self, raw: bytes, header: str) -> bool:
        return any(
            hmac.compare_digest(
                header, "sha256=" + hmac.new(s.encode(), raw, hashlib.sha256).hexdigest()
            )
            for s in self.secrets
        )

    def check(self, request: Request, raw: bytes, body: Any) -> Answer | None:
        headers = {k.lower(): v for k, v in request.headers.items()}
        if not self._standard_ok(raw, headers):
            return Answer(401, {"error": "bad webhook-signature"})
        legacy = headers.get("x-orderflow-signature", "")
        if self.orderflow_signature and not self._orderflow_ok(raw, legacy):
            return Answer(401, {"error": "bad X-Orderflow-Signature"})
        return None

    def ok(self) -> Answer:
        return Answer(200, {"ok": True})

    def rate_limited(self) -> Answer:
        return Answer(429, {"error": "slow down"}, {"Retry-After": "30"})

    def error(self, code: int | str | None, status: int | None) -> Answer:
        return Answer(status or 500, {"error": str(code or "failed")})
