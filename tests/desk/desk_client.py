"""A browser at the desk, for HTTP-level desk tests: signed in through the sign-in form (dev
sign-in: a name and roles), carrying the desk's cookies and CSRF token."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx

from tests.conftest import Stack


def csrf_of(page: httpx.Response) -> str:
    """The CSRF token a page's forms carry."""
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found, page.text[:500]
    return found.group(1)


@asynccontextmanager
async def desk(
    stack: Stack, name: str, *roles: str, lang: str = "en"
) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    """A client signed in at the desk as `name` with `roles`, and its CSRF token."""
    headers = {"Accept-Language": lang}
    async with httpx.AsyncClient(
        base_url=str(stack.http.base_url), headers=headers, timeout=60
    ) as http:
        csrf = csrf_of(await http.get("/desk/sign-in"))
        signed = await http.post(
            "/desk/sign-in",
            data={"csrf": csrf, "name": name, "roles": list(roles)},
            follow_redirects=False,
        )
        assert signed.status_code == 303, signed.text
        yield http, csrf
