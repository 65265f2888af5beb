"""What every fake chat platform shares: an ASGI app that checks a request the platform's
way, records it, answers the platform's own bodies, can be told to fail, and enforces the
platform's rate limit by an injectable clock; and `serve`, which runs an app on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from tests.conftest import free_port

# A clock in seconds, plain or awaited (e.g. the time-skipping test server's time).
Clock = Callable[[], Awaitable[float] | float]
WINDOW_SECONDS = 60.0


@dataclass(frozen=True)
class Answer:
    """What the fake answers: an HTTP status, a JSON or text body, extra headers."""

    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)

    def response(self) -> Response:
        if isinstance(self.body, str):
            return Response(self.body, self.status, self.headers, media_type="text/plain")
        content = json.dumps(self.body, ensure_ascii=False)
        return Response(content, self.status, self.headers, media_type="application/json")


@dataclass(frozen=True)
class Seen:
    """One request as the fake saw it, in arrival order (`seq` from 1), when by the fake's
    clock, whether it was accepted (else `reason`: refused, told to fail, rate limited), and
    the fake's answer."""

    seq: int
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    raw: bytes
    body: Any
    at: float
    accepted: bool
    reason: str
    answer: Answer


@dataclass
class _Failure:
    count: int
    code: int | str | None
    status: int | None


class FakePlatform:
    """A platform's robot as an ASGI app: subclasses say how it checks a request and what it
    answers. `accepted` holds what it took (parsed body, headers, in order); `seen` every
    request; `fail_next(n, code=, status=)` makes the next n well-signed requests fail."""

    name = "platform"
    default_limit = 0

    def __init__(self, *, limit_per_minute: int | None = None, clock: Clock | None = None):
        self.limit_per_minute = self.default_limit if limit_per_minute is None else limit_per_minute
        self._clock: Clock = clock or time.time
        self.seen: list[Seen] = []
        self._failures: deque[_Failure] = deque()
        self._sent_at: deque[float] = deque()
        self._lock = asyncio.Lock()

    # -- what a subclass gives ------------------------------------------------------------

    def check(self, request: Request, raw: bytes, body: Any) -> Answer | None:
        """The platform's refusal of a badly addressed or signed request (None: fine)."""
        raise NotImplementedError

    def ok(self) -> Answer:
        raise NotImplementedError

    def rate_limited(self) -> Answer:
        raise NotImplementedError

    def error(self, code: int | str | None, status: int | None) -> Answer:
        """The answer for `fail_next`: a platform error code, or an HTTP status."""
        raise NotImplementedError

    # -- what a test uses -----------------------------------------------------------------

    @property
    def accepted(self) -> list[Seen]:
        return [s for s in self.seen if s.accepted]

    @property
    def refused(self) -> list[Seen]:
        return [s for s in self.seen if not s.accepted]

    def fail_next(
        self, count: int = 1, *, code: int | str | None = None, status: int | None = None
    ) -> None:
        """Answer the next `count` requests that pass the checks with an error instead."""
        self._failures.append(_Failure(count, code, status))

    async def now(self) -> float:
        value = self._clock()
        if inspect.isawaitable(value):
            value = await value
        return float(value)

    # -- the HTTP side --------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        raw = await request.body()
        async with self._lock:
            now = await self.now()
            answer, reason = self._decide(request, raw, now)
            self._record(request, raw, answer, reason, now)
        await answer.response()(scope, receive, send)

    def _decide(self, request: Request, raw: bytes, now: float) -> tuple[Answer, str]:
        body = _parse(raw)
        refusal = self.check(request, raw, body)
        if refusal is not None:
            return refusal, "refused"
        if self._failures:
            failing = self._failures[0]
            failing.count -= 1
            if failing.count <= 0:
                self._failures.popleft()
            return self.error(failing.code, failing.status), "told to fail"
        while self._sent_at and self._sent_at[0] <= now - WINDOW_SECONDS:
            self._sent_at.popleft()
        if self.limit_per_minute and len(self._sent_at) >= self.limit_per_minute:
            return self.rate_limited(), "rate limited"
        self._sent_at.append(now)
        return self.ok(), ""

    def _record(
        self, request: Request, raw: bytes, answer: Answer, reason: str, now: float
    ) -> None:
        self.seen.append(
            Seen(
                seq=len(self.seen) + 1,
                path=request.url.path,
                query=dict(request.query_params),
                headers={k.lower(): v for k, v in request.headers.items()},
                raw=raw,
                body=_parse(raw),
                at=now,
                accepted=not reason,
                reason=reason,
                answer=answer,
            )
        )


def _parse(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode(errors="replace")


@asynccontextmanager
async def serve(app: Any) -> AsyncIterator[str]:
    """Run an ASGI app with uvicorn on 127.0.0.1 at a free port, in this event loop; yields
    its base URL (`http://127.0.0.1:<port>`)."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    serving = asyncio.create_task(server.serve())
    while not server.started:
        if serving.done():
            serving.result()
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await serving
