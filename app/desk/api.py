"""The desk's way to the API: the gateway's own routes, called in-process with the signed-in
user's token, so every page is a thin view over the API (its rules, roles and errors) and the
desk keeps no second copy of them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import Request

from app.desk.api_errors import localized_detail, localized_problem
from app.desk.i18n import language
from app.desk.session import desk_token


@dataclass(frozen=True)
class Answer:
    """An API answer: its status and JSON body (an error's is `{error, detail, problems?}`),
    its refusals read in `lang` (app/desk/api_errors.py)."""

    status: int
    body: Any
    lang: str = "en"

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def detail(self) -> str:
        """The API's sentence of a refusal, in the user's language."""
        if not isinstance(self.body, dict):
            return ""
        error, detail = str(self.body.get("error", "")), str(self.body.get("detail", ""))
        return localized_detail(error, detail, self.lang)

    def problems(self) -> dict[str, str]:
        """A 422's problems by field path (`lines.0.qty`), for the form to show at its field."""
        if not isinstance(self.body, dict):
            return {}
        return {
            str(p.get("field", "")): localized_problem(str(p.get("problem", "")), self.lang)
            for p in self.body.get("problems") or []
            if isinstance(p, dict)
        }


class DeskApi:
    """The API as the user at this browser may use it."""

    def __init__(self, request: Request) -> None:
        self._app = request.app
        self._lang = language(request)
        self._headers = {"Authorization": f"Bearer {desk_token(request) or ''}"}

    def _client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self._app),
            base_url="http://desk.internal",
            headers=self._headers,
            timeout=60,
        )

    async def get(self, path: str, **params: Any) -> Answer:
        """GET `path` with the query `params` that have a value."""
        clean = {k: v for k, v in params.items() if v not in (None, "")}
        async with self._client() as client:
            return _answer(await client.get(path, params=clean), self._lang)

    async def post(self, path: str, body: Any, headers: dict[str, str] | None = None) -> Answer:
        """POST `body` as JSON to `path`."""
        async with self._client() as client:
            return _answer(await client.post(path, json=body, headers=headers or {}), self._lang)

    async def delete(self, path: str) -> Answer:
        async with self._client() as client:
            return _answer(await client.delete(path), self._lang)


def _answer(response: httpx.Response, lang: str) -> Answer:
    try:
        body = response.json()
    except ValueError:
        body = {"error": "unreadable", "detail": response.text[:500]}
    return Answer(status=response.status_code, body=body, lang=lang)
