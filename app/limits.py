"""Input limits applied before a request reaches a route: size, credential, clean path and query.

A pure ASGI middleware, so nothing reads the body before it has decided:

- a path or query parameter with a NUL or another control character, or longer than
  `PARAM_LEN`, is refused with 422 (PostgreSQL would refuse the NUL with a 500 later);
- a request with a body and no `Authorization` header is refused with 401 before any body
  byte is read (except on the public routes, which take no token);
- a `Content-Length` above `ORDERFLOW_MAX_BODY_BYTES` is refused with 413 at once, and a body
  without one (chunked) is counted as it streams and cut with 413 at the limit; a BOM upload
  (`UPLOAD_PATHS`) has the larger limit `ORDERFLOW_MAX_UPLOAD_BYTES`.

Every refusal is the API's `{error, detail}` JSON.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qsl

from fastapi import FastAPI

from shared.bounds import PARAM_LEN, refuse_control_characters
from shared.settings import Settings

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# Routes that take no token: health, metrics and the API's own documentation.
PUBLIC_PATHS = frozenset({"/healthz", "/metrics", "/docs", "/docs/oauth2-redirect", "/redoc"})
PUBLIC_PATHS_WITH_SCHEMA = PUBLIC_PATHS | {"/openapi.json"}
# Routes that take a file (a BOM of up to 100,000 lines) and so the upload limit.
UPLOAD_PATHS = re.compile(r"/engineering/orders/[^/]+/bom-drafts")


async def _answer(
    send: Send, status: int, error: str, detail: str, headers: list[tuple[bytes, bytes]]
) -> None:
    body = json.dumps({"error": error, "detail": detail}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _unclean_parameter(scope: Scope) -> str | None:
    """Why the path or query of `scope` is refused, or None when it is clean."""
    for segment in str(scope.get("path", "")).split("/"):
        problem = _unclean(f"path segment {segment[:40]!r}", segment)
        if problem:
            return problem
    query = bytes(scope.get("query_string", b"")).decode("latin-1")
    for name, value in parse_qsl(query, keep_blank_values=True, errors="replace"):
        problem = _unclean(f"query parameter {name[:40]!r}", name) or _unclean(
            f"query parameter {name[:40]!r}", value
        )
        if problem:
            return problem
    return None


def _unclean(what: str, value: str) -> str | None:
    if len(value) > PARAM_LEN:
        return f"{what} is {len(value)} characters long; at most {PARAM_LEN} are accepted"
    try:
        refuse_control_characters(value)
    except ValueError as exc:
        return f"{what} {exc}"
    return None


# Refuses oversized, unauthenticated or unclean requests before the app reads anything.
class InputLimits:
    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body_bytes: int,
        public_paths: frozenset[str],
        max_upload_bytes: int | None = None,
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.public_paths = public_paths
        self.max_upload_bytes = max_upload_bytes or max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check the request line and headers, then pass on a receive that counts the body."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        problem = _unclean_parameter(scope)
        if problem:
            await _answer(send, 422, "invalid_request", problem, [])
            return
        headers = {name.lower(): value for name, value in scope.get("headers", [])}
        length_header = headers.get(b"content-length")
        chunked = b"transfer-encoding" in headers
        try:
            length = int(length_header) if length_header is not None else None
        except ValueError:
            await _answer(send, 400, "invalid_request", "Content-Length is not a number", [])
            return
        has_body = chunked or (length is not None and length > 0)
        path = scope.get("path", "")
        # The desk's forms authenticate by its cookie and a CSRF token, checked by the desk.
        public = path in self.public_paths or path == "/desk" or path.startswith("/desk/")
        # A one-click acknowledge link's signed token is its credential (escalations/ack.py).
        public = public or path.startswith("/escalations/ack/")
        if has_body and not public and not headers.get(b"authorization", b"").strip():
            await _answer(
                send,
                401,
                "unauthorized",
                "a request with a body needs an Authorization: Bearer token",
                [(b"www-authenticate", b"Bearer")],
            )
            return
        upload = UPLOAD_PATHS.fullmatch(path) is not None
        limit = self.max_upload_bytes if upload else self.max_body_bytes
        if length is not None and length > limit:
            await _answer(
                send, 413, "body_too_large", self._too_large(f"{length} bytes", upload), []
            )
            return
        if not has_body:
            await self.app(scope, receive, send)
            return
        await self._counted(scope, receive, send, upload)

    def _too_large(self, size: str, upload: bool = False) -> str:
        if upload:
            return (
                f"the upload is {size}; at most {self.max_upload_bytes} bytes are accepted "
                "(ORDERFLOW_MAX_UPLOAD_BYTES)"
            )
        return (
            f"the request body is {size}; at most {self.max_body_bytes} bytes are accepted "
            "(ORDERFLOW_MAX_BODY_BYTES)"
        )

    async def _counted(self, scope: Scope, receive: Receive, send: Send, upload: bool) -> None:
        """Run the app with a receive that stops the body at the limit and answers 413."""
        limit = self.max_upload_bytes if upload else self.max_body_bytes
        received = 0
        answered = False
        started = False

        async def counting_receive() -> Message:
            nonlocal received, answered
            if answered:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    answered = True
                    if not started:
                        detail = self._too_large(f"over {limit} bytes", upload)
                        await _answer(send, 413, "body_too_large", detail, [])
                    # The app sees the client gone and stops; what it answers is dropped.
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if answered:
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except Exception:
            if not answered:
                raise


def install_input_limits(app: FastAPI, settings: Settings) -> None:
    """Install `InputLimits` on `app` with the settings' body limit and the public routes."""
    app.add_middleware(
        InputLimits,  # type: ignore[arg-type]
        max_body_bytes=settings.max_body_bytes,
        public_paths=PUBLIC_PATHS_WITH_SCHEMA,
        max_upload_bytes=settings.max_upload_bytes,
    )
