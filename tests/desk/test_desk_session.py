"""The desk's front door: sign-in sets an HttpOnly, SameSite=Strict cookie; forms without the
CSRF token are refused; the language follows the browser until switched; sign-out forgets the
token; /docs loads Swagger UI from the desk's own files."""

from __future__ import annotations

import re

import httpx

from app.desk.i18n import MESSAGES
from tests.conftest import Stack


def _csrf(page: httpx.Response) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found, page.text[:500]
    return found.group(1)


async def test_sign_in_sets_a_strict_http_only_cookie_and_shows_the_users_desks(
    stack: Stack,
) -> None:
    async with httpx.AsyncClient(base_url=str(stack.http.base_url)) as http:
        first = await http.get("/desk", follow_redirects=False)
        assert first.status_code == 303 and first.headers["location"].startswith("/desk/sign-in")
        page = await http.get("/desk/sign-in", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
        assert page.status_code == 200 and "登录" in page.text
        assert 'lang="zh-CN"' in page.text
        csrf = _csrf(page)

        refused = await http.post(
            "/desk/sign-in", data={"name": "lin", "roles": ["quality"], "csrf": "forged"}
        )
        assert refused.status_code == 403
        answer = await http.post(
            "/desk/sign-in",
            data={"csrf": csrf, "name": "lin", "roles": ["quality", "head:quality"]},
            follow_redirects=False,
        )
        assert answer.status_code == 303, answer.text
        cookie = answer.headers["set-cookie"].lower()
        assert "orderflow_desk=" in cookie and "httponly" in cookie and "samesite=strict" in cookie

        home = await http.get("/desk", headers={"Accept-Language": "en"})
        assert home.status_code == 200
        assert MESSAGES["en"]["dept.quality"] in home.text
        assert MESSAGES["en"]["dept.sales"] not in home.text

        switched = await http.post(
            "/desk/language",
            data={"csrf": csrf, "lang": "zh", "next": "/desk"},
            headers={"Accept-Language": "en"},
            follow_redirects=True,
        )
        assert switched.status_code == 200 and MESSAGES["zh"]["dept.quality"] in switched.text

        out = await http.post("/desk/sign-out", data={"csrf": csrf}, follow_redirects=False)
        assert out.status_code == 303
        again = await http.get("/desk", follow_redirects=False)
        assert again.status_code == 303


async def test_a_bad_token_or_no_roles_is_refused_with_a_sentence(stack: Stack) -> None:
    english = {"Accept-Language": "en-GB,en;q=0.8"}
    async with httpx.AsyncClient(base_url=str(stack.http.base_url), headers=english) as http:
        page = await http.get("/desk/sign-in", headers={"Accept-Language": "en"})
        csrf = _csrf(page)
        bad = await http.post("/desk/sign-in", data={"csrf": csrf, "token": "not-a-jwt"})
        assert bad.status_code == 422 and MESSAGES["en"]["sign_in.bad_token"] in bad.text
        empty = await http.post("/desk/sign-in", data={"csrf": csrf, "name": "lin"})
        assert empty.status_code == 422 and MESSAGES["en"]["sign_in.need_name"] in empty.text
        token = stack.token("pat", "planning")["Authorization"].removeprefix("Bearer ")
        pasted = await http.post(
            "/desk/sign-in", data={"csrf": csrf, "token": token}, follow_redirects=False
        )
        assert pasted.status_code == 303


async def test_swagger_ui_loads_from_the_desks_own_files(stack: Stack) -> None:
    docs = await stack.http.get("/docs")
    assert docs.status_code == 200
    assert "cdn" not in docs.text.lower()
    for asset in re.findall(r'(?:src|href)="(/desk/static/[^"]+)"', docs.text):
        served = await stack.http.get(asset)
        assert served.status_code == 200, asset


def test_every_message_exists_in_both_languages() -> None:
    assert set(MESSAGES["en"]) == set(MESSAGES["zh"])
    assert all(MESSAGES["zh"].values()) and all(MESSAGES["en"].values())
