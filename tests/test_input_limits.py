"""The gateway's input limits (app/limits.py) decide before the body is read.

Raw sockets send a request's head and hold its body back: the answer must come anyway, and a
recording app behind the limits shows how much of a body ever reached it.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from app.gateway import create_app
from app.limits import PUBLIC_PATHS_WITH_SCHEMA, InputLimits
from shared.settings import Settings
from tests.conftest import free_port

LIMIT = 4096


# An ASGI app that reads the whole body and says how much it got; it counts its calls.
@dataclass
class Recorder:
    calls: int = 0
    received: list[int] = field(default_factory=list)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            return
        self.calls += 1
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            size += len(message.get("body", b""))
            if not message.get("more_body"):
                break
        self.received.append(size)
        body = json.dumps({"read": size}).encode()
        headers = [(b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})


@asynccontextmanager
async def serve(app: Any) -> AsyncIterator[int]:
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.02)
    try:
        yield port
    finally:
        server.should_exit = True
        await task


@pytest.fixture
async def limited() -> AsyncIterator[tuple[int, Recorder]]:
    recorder = Recorder()
    app = InputLimits(recorder, max_body_bytes=LIMIT, public_paths=PUBLIC_PATHS_WITH_SCHEMA)
    async with serve(app) as port:
        yield port, recorder


async def raw(
    port: int, head: str, chunks: list[bytes] | None = None, *, timeout: float = 5.0
) -> tuple[int, dict[str, Any]]:
    """Send the head (and `chunks`, until the server closes); the answer's status and JSON."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(head.replace("\n", "\r\n").encode() + b"\r\n")
        await writer.drain()
        for chunk in chunks or []:
            try:
                writer.write(chunk)
                await writer.drain()
            except ConnectionError:
                break
            await asyncio.sleep(0.001)
        head_bytes = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout)
        lines = head_bytes.decode().split("\r\n")
        status = int(lines[0].split()[1])
        headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
        length = int(headers.get("content-length", "0"))
        body = await asyncio.wait_for(reader.readexactly(length), timeout) if length else b"{}"
        return status, json.loads(body)
    finally:
        writer.close()


def post(path: str, *, length: int | None = None, auth: bool = True, chunked: bool = False) -> str:
    lines = [f"POST {path} HTTP/1.1", "Host: test", "Content-Type: application/json"]
    if auth:
        lines.append("Authorization: Bearer anything")
    if length is not None:
        lines.append(f"Content-Length: {length}")
    if chunked:
        lines.append("Transfer-Encoding: chunked")
    return "\n".join(lines) + "\n"


def chunk(data: bytes) -> bytes:
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


async def test_content_length_over_the_limit_is_413_before_any_body_byte(
    limited: tuple[int, Recorder],
) -> None:
    port, recorder = limited
    status, body = await raw(port, post("/sales/orders", length=21_000_000))
    assert status == 413
    assert body["error"] == "body_too_large" and str(LIMIT) in body["detail"]
    assert recorder.calls == 0


async def test_a_body_without_authorization_is_401_before_any_body_byte(
    limited: tuple[int, Recorder],
) -> None:
    port, recorder = limited
    status, body = await raw(port, post("/sales/orders", length=100, auth=False))
    assert status == 401
    assert body["error"] == "unauthorized" and "Authorization" in body["detail"]
    chunked_status, _ = await raw(port, post("/x/tasks/t/complete", auth=False, chunked=True))
    assert chunked_status == 401
    assert recorder.calls == 0


async def test_a_chunked_body_is_cut_at_the_limit_with_413(limited: tuple[int, Recorder]) -> None:
    port, recorder = limited
    # A little more than the limit, and no end: only a cut answers this request.
    chunks = [chunk(b"x" * 1024) for _ in range(LIMIT // 1024 + 2)]
    status, body = await raw(port, post("/sales/orders", chunked=True), chunks)
    assert status == 413
    assert body["error"] == "body_too_large"
    # The app saw the body end at the limit: what came after was never handed to it.
    assert recorder.received and recorder.received[0] <= LIMIT


async def test_a_body_within_the_limit_reaches_the_app_whole(
    limited: tuple[int, Recorder],
) -> None:
    port, recorder = limited
    status, body = await raw(port, post("/sales/orders", length=LIMIT), [b"y" * LIMIT])
    assert (status, body) == (200, {"read": LIMIT})
    status, body = await raw(
        port, post("/sales/orders", chunked=True), [chunk(b"z" * 10), b"0\r\n\r\n"]
    )
    assert (status, body) == (200, {"read": 10})
    # A public route takes no token; an empty body needs none either.
    status, _ = await raw(port, post("/healthz", length=2, auth=False), [b"{}"])
    assert status == 200
    status, _ = await raw(port, post("/sales/orders/x/cancel", length=0, auth=False))
    assert status == 200
    assert recorder.calls == 4


@pytest.mark.parametrize(
    "target",
    [
        "/orders/SO-%00-1",
        "/orders/SO%01",
        "/sales/tasks?order_no=%00",
        "/sales/tasks?kind=sales.ship%00",
        "/orders?customer=Hua%00dian",
        "/orders?customer=" + "x" * 300,
        "/orders/" + "9" * 300,
    ],
    ids=[
        "path-nul",
        "path-control",
        "order_no-nul",
        "kind-nul",
        "customer-nul",
        "long-query",
        "long-path",
    ],
)
async def test_control_characters_or_over_long_parameters_are_422(
    limited: tuple[int, Recorder], target: str
) -> None:
    port, recorder = limited
    status, body = await raw(port, f"GET {target} HTTP/1.1\nHost: test\n")
    assert status == 422, body
    assert body["error"] == "invalid_request"
    assert "control characters" in body["detail"] or "characters long" in body["detail"]
    assert recorder.calls == 0


async def test_the_gateway_installs_the_limits_with_the_setting(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, jwt_key="k" * 40, max_body_bytes=2048)
    async with serve(create_app(settings)) as port:
        status, body = await raw(port, post("/sales/orders", length=5_000_000, auth=False))
        assert (status, body["error"]) == (401, "unauthorized")
        status, body = await raw(port, post("/sales/orders", length=2049))
        assert (status, body["error"]) == (413, "body_too_large")
        assert "2048" in body["detail"] and "ORDERFLOW_MAX_BODY_BYTES" in body["detail"]
        status, body = await raw(port, "GET /orders/SO%00 HTTP/1.1\nHost: test\n")
        assert (status, body["error"]) == (422, "invalid_request")
        status, body = await raw(port, "GET /quality/tasks?order_no=%00 HTTP/1.1\nHost: test\n")
        assert (status, body["error"]) == (422, "invalid_request")


def test_the_default_limit_is_one_mebibyte(tmp_path: Path) -> None:
    assert Settings(home=tmp_path).max_body_bytes == 1_048_576
