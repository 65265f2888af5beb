"""What a careful client does when the gateway goes away under it, as an httpx transport.

A request whose connection failed or whose answer never came is sent again, unchanged, until
the gateway answers (an intake carries an `Idempotency-Key`, added when the caller gave none,
so its resend is the same order; a receipt resent with its delivery note answers the receipt
booked). A task completion resent after its first answer was lost is told 409 `already done:
<me> completed it`: it went through, so the client answers with the order as it is now."""

from __future__ import annotations

import asyncio
import base64
import json
import re
import uuid
from dataclasses import dataclass, field

import httpx

COMPLETION = re.compile(r"^/(?P<dept>[a-z]+)/tasks/(?P<task>[^/]+)/complete$")


def _subject(request: httpx.Request) -> str:
    """The `sub` of the request's bearer token (read, not verified: the gateway verifies it)."""
    token = request.headers.get("Authorization", "").removeprefix("Bearer ")
    claims = token.split(".")[1]
    return str(json.loads(base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4)))["sub"])


@dataclass
class RetryingTransport(httpx.AsyncBaseTransport):
    """Resends until the gateway answers, at most `patience` seconds per request."""

    patience: float = 120.0
    pause: float = 0.2
    inner: httpx.AsyncBaseTransport = field(default_factory=httpx.AsyncHTTPTransport)
    resent: int = 0  # requests sent again after a failed connection or a lost answer
    lost_completions: int = 0  # completions that went through while their answer was lost
    resent_receipts: int = 0  # receipts answered with the one booked

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path == "/sales/orders":
            request.headers.setdefault("Idempotency-Key", f"retrying-{uuid.uuid4()}")
        loop = asyncio.get_running_loop()
        deadline, tries = loop.time() + self.patience, 0
        while True:
            try:
                response = await self.inner.handle_async_request(request)
                # The body too: a gateway killed between its headers and its body loses the
                # answer as surely as one killed before it answered.
                await response.aread()
            except httpx.TransportError:
                if loop.time() > deadline:
                    raise
                tries += 1
                self.resent += 1
                await asyncio.sleep(self.pause)
                continue
            if not tries:
                return response
            return await self._after_resend(request, response)

    async def _after_resend(
        self, request: httpx.Request, response: httpx.Response
    ) -> httpx.Response:
        await response.aread()
        if request.url.path == "/warehouse/receipts" and response.status_code == 200:
            self.resent_receipts += 1
            response.extensions["resent"] = True  # 200: the receipt the lost answer booked
            return response
        completion = COMPLETION.match(request.url.path)
        if completion is None or response.status_code != 409:
            return response
        problem = json.loads(response.content)
        mine = f"already done: {_subject(request)} completed it"
        if problem.get("error") != "task_not_open" or mine not in problem.get("detail", ""):
            return response
        self.lost_completions += 1
        return await self._current(request, completion["dept"], completion["task"])

    async def _current(self, request: httpx.Request, dept: str, task_id: str) -> httpx.Response:
        """What the completion would have answered: the order's view (or the task's)."""
        headers = {"Authorization": request.headers["Authorization"]}
        # Not closed: it shares this transport, which its owner closes.
        http = httpx.AsyncClient(
            transport=self, base_url=f"{request.url.scheme}://{request.url.netloc.decode()}"
        )
        task = await http.get(f"/{dept}/tasks/{task_id}", headers=headers)
        task.raise_for_status()
        order_no = task.json().get("order_no")
        if not order_no:
            return httpx.Response(200, json=task.json(), request=request)
        view = await http.get(f"/orders/{order_no}", headers=headers)
        view.raise_for_status()
        return httpx.Response(200, json=view.json(), request=request)

    async def aclose(self) -> None:
        await self.inner.aclose()
