"""A real HTTP escalation bot for tests: records every POST, checks its signature, can fail.

It listens on a free port of 127.0.0.1 (`asyncio.start_server`, HTTP/1.1, one request per
connection) and answers each POST with 200, or with `fail_status` for the first `fail_first`
requests, so a test can prove that orderflow retries a webhook until it gets a 2xx; or answers
the first `slow_first` requests only after `slow_seconds` (a bot slower than the timeout), or
listens on a given `port` (a bot that was down comes back where it was). A request whose
`X-Orderflow-Signature` is not `sha256=<hex HMAC-SHA256 of the raw body>` under the shared
secret, or whose Standard Webhooks `webhook-signature` does not match its `webhook-id` and
`webhook-timestamp`, gets 401, as a real bot would answer it.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

SIGNATURE_HEADER = "x-orderflow-signature"
_REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 500: "Internal Server Error"}


def expected_signature(body: bytes, secret: str) -> str:
    """The signature header value a correctly signed body carries."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def expected_standard_signature(webhook_id: str, timestamp: str, body: bytes, secret: str) -> str:
    """The Standard Webhooks `webhook-signature` value of an attempt (`v1,<base64 HMAC>`)."""
    signed = f"{webhook_id}.{timestamp}.".encode() + body
    return (
        "v1,"
        + base64.b64encode(hmac.new(secret.encode(), signed, hashlib.sha256).digest()).decode()
    )


# One POST as the receiver saw it, and what it answered.
@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    signature_ok: bool
    status: int

    @property
    def json(self) -> dict[str, Any]:
        return dict(json.loads(self.body))

    @property
    def accepted(self) -> bool:
        return 200 <= self.status < 300

    @property
    def webhook_id(self) -> str:
        return self.headers.get("webhook-id", "")


class WebhookReceiver:
    """An escalation bot on 127.0.0.1; use as `async with WebhookReceiver(secret) as bot:`."""

    def __init__(
        self,
        secret: str,
        *,
        fail_first: int = 0,
        fail_status: int = 500,
        slow_first: int = 0,
        slow_seconds: float = 0.0,
        port: int = 0,
    ) -> None:
        self.secret = secret
        self.fail_first = fail_first
        self.fail_status = fail_status
        self.slow_first = slow_first
        self.slow_seconds = slow_seconds
        self.received: list[Received] = []
        self._server: asyncio.Server | None = None
        self._port = port
        self._changed = asyncio.Condition()

    @property
    def url(self) -> str:
        assert self._server is not None, "start the receiver first"
        return f"http://127.0.0.1:{self._port}/escalations"

    @property
    def accepted(self) -> list[Received]:
        """The requests answered 2xx: the escalations actually delivered."""
        return [r for r in self.received if r.accepted]

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, host="127.0.0.1", port=self._port)
        self._port = int(self._server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def wait_for(
        self, predicate: Callable[[Received], bool], *, count: int = 1, timeout: float = 60.0
    ) -> list[Received]:
        """The first `count` accepted requests matching `predicate`, waiting up to `timeout` s."""

        def matching() -> list[Received]:
            return [r for r in self.accepted if predicate(r)]

        async with self._changed:
            try:
                await asyncio.wait_for(
                    self._changed.wait_for(lambda: len(matching()) >= count), timeout
                )
            except TimeoutError:
                seen = [(r.status, r.body[:200]) for r in self.received]
                raise AssertionError(
                    f"webhook receiver: fewer than {count} matching deliveries after "
                    f"{timeout}s; received {seen}"
                ) from None
            return matching()[:count]

    def by_webhook_id(self) -> dict[str, list[Received]]:
        """Every request, grouped by its delivery id (`webhook-id`), in arrival order."""
        grouped: dict[str, list[Received]] = {}
        for r in self.received:
            grouped.setdefault(r.webhook_id, []).append(r)
        return grouped

    def attempts_for(self, escalation_id: int) -> list[Received]:
        """Every request (failed or accepted) that carried this escalation."""
        found = []
        for r in self.received:
            with contextlib.suppress(ValueError):
                if r.json.get("id") == escalation_id:
                    found.append(r)
        return found

    # -- the HTTP side ---------------------------------------------------------------------

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request_line = (await reader.readline()).decode("latin-1").strip()
            if not request_line:
                return
            method, path, _ = request_line.split(" ", 2)
            headers: dict[str, str] = {}
            while True:
                line = (await reader.readline()).decode("latin-1")
                if line in ("\r\n", "\n", ""):
                    break
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            length = int(headers.get("content-length", "0"))
            body = await reader.readexactly(length) if length else b""
            status = await self._record(method, path, headers, body)
            # Recorded (the bot has the event) and then slow to answer: the sender times out.
            if len(self.received) <= self.slow_first:
                await asyncio.sleep(self.slow_seconds)
            reason = _REASONS.get(status, "Status")
            answer = b'{"ok":true}' if 200 <= status < 300 else b'{"ok":false}'
            writer.write(
                f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(answer)}\r\nConnection: close\r\n\r\n".encode()
                + answer
            )
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, ValueError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    async def _record(self, method: str, path: str, headers: dict[str, str], body: bytes) -> int:
        signature = headers.get(SIGNATURE_HEADER, "")
        signature_ok = hmac.compare_digest(signature, expected_signature(body, self.secret))
        if "webhook-id" in headers:
            standard = expected_standard_signature(
                headers["webhook-id"], headers.get("webhook-timestamp", ""), body, self.secret
            )
            signature_ok = signature_ok and hmac.compare_digest(
                headers.get("webhook-signature", ""), standard
            )
        if method != "POST":
            status = 400
        elif not signature_ok:
            status = 401
        elif len(self.received) < self.fail_first:
            status = self.fail_status
        else:
            status = 200
        async with self._changed:
            self.received.append(Received(path, headers, body, signature_ok, status))
            self._changed.notify_all()
        return status
