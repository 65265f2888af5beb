"""Every desk page is valid HTML5: the pages as the gateway serves them (in English and Chinese,
signed in and not, with errors shown) go through html-validate (npm, pinned by
package-lock.json; `make assets` installs it) with the repository's .htmlvalidate.json.

.htmlvalidate.json is html-validate's recommended and document presets with four changes:
trailing whitespace is allowed (Jinja's loop lines leave it; it is not invalid), an <input>
without `type` is a text input as HTML5 defines (a style rule, not validity), checkboxes
may share a name (a group of choices, as the roles on the sign-in page), and no subresource
integrity is asked for (every script and style is the desk's own, from the same origin).
"""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from starlette.requests import Request

from app.desk.routes import sign_in_page
from shared.settings import Settings
from tests.conftest import Stack
from tests.desk.desk_client import desk
from tests.drivers import to_master_plan
from tests.helpers import complete_ok, create_order, wait_task

ROOT = Path(__file__).resolve().parents[2]
VALIDATOR = ROOT / "node_modules" / ".bin" / "html-validate"
CONFIG = ROOT / ".htmlvalidate.json"
EN = {"Accept-Language": "en"}
ZH = {"Accept-Language": "zh-CN,zh;q=0.9"}


async def validate(pages: dict[str, str], folder: Path) -> list[str]:
    """html-validate's complaints about `pages` (name → HTML), one line each."""
    if not VALIDATOR.exists():
        pytest.fail(f"{VALIDATOR} is missing: run `make assets` (npm ci installs html-validate)")
    files = []
    for name, html in pages.items():
        path = folder / f"{name}.html"
        path.write_text(html)
        files.append(str(path))
    # The report goes to a file: node may exit before a large report through a pipe is out.
    report = folder / "html-validate.json"
    run = await asyncio.create_subprocess_exec(
        str(VALIDATOR),
        "--config",
        str(CONFIG),
        "--formatter",
        f"json={report}",
        *files,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await run.communicate()
    if run.returncode not in (0, 1) or not report.exists():
        pytest.fail(f"html-validate did not run ({run.returncode}): {err.decode()[:2000]}")
    return [
        f"{Path(result['filePath']).stem}:{m['line']}:{m['column']} {m['ruleId']}: {m['message']}"
        for result in json.loads(report.read_text())
        for m in result["messages"]
    ]


def _csrf(page: httpx.Response) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found, page.text[:500]
    return found.group(1)


def _request(settings: Settings, path: str, lang: str) -> Request:
    """A request like the gateway's, for a page this stack's settings do not serve."""
    app = FastAPI()
    app.state.settings = settings
    scope = {
        "type": "http",
        "method": "GET",
        "path": path,
        "query_string": b"",
        "headers": [(b"accept-language", lang.encode())],
        "app": app,
    }
    return Request(scope)


async def _sign_in_with_a_provider(stack: Stack, lang: str) -> str:
    """The sign-in page when an identity provider is configured (its link above the form)."""
    settings = stack.settings.model_copy(
        update={"oidc_issuer": "https://idp.example.com", "oidc_client_id": "desk"}
    )
    answer = await sign_in_page(_request(settings, "/desk/sign-in", lang), next="/desk")
    assert answer.status_code == 200
    html = bytes(answer.body).decode()
    assert "/desk/sign-in/oidc" in html
    return html


async def _department_pages(stack: Stack) -> dict[str, str]:
    """The inbox, a task form (and its 422), the order list and page with a master plan, the
    escalations board, the KPI dashboard, the 403 page and the sales, warehouse and production
    action forms (a 422 among them), in English and Chinese."""
    order_no = await create_order(stack)
    await to_master_plan(stack, order_no)
    await complete_ok(stack, "planning.master_plan", order_no, {"accept_proposal": True})
    bom = await wait_task(stack, "engineering.release_bom", order_no)
    form = f"/desk/tasks/engineering/{bom['task_id']}"
    pages: dict[str, str] = {}
    for lang in ("en", "zh-CN"):
        async with desk(stack, "erin", "engineering", lang=lang) as (http, csrf):
            for name, path in (
                ("inbox", "/desk/inbox/engineering"),
                ("task-form", form),
                ("orders", "/desk/orders"),
                ("order", f"/desk/orders/{order_no}"),
                ("escalations", "/desk/escalations"),
            ):
                page = await http.get(path)
                assert page.status_code == 200, (path, page.text[:500])
                pages[f"{name}-{lang}"] = page.text
            refused = await http.get("/desk/kpis")
            assert refused.status_code == 403
            pages[f"forbidden-{lang}"] = refused.text
            wrong = await http.post(form, data={"csrf": csrf, "bom_release": "", "lines": ""})
            assert wrong.status_code == 422, wrong.text[:500]
            pages[f"task-form-422-{lang}"] = wrong.text
        async with desk(stack, "pia", "planning", lang=lang) as (http, _):
            kpis = await http.get("/desk/kpis")
            assert kpis.status_code == 200, kpis.text[:500]
            pages[f"kpis-{lang}"] = kpis.text
        # The department actions: sales, warehouse and production forms.
        async with desk(stack, "sam", "sales", "warehouse", "production", lang=lang) as (
            http,
            csrf,
        ):
            for name, path in (
                ("order-new", "/desk/sales/orders/new"),
                ("change", f"/desk/sales/orders/{order_no}/change"),
                ("cancel", f"/desk/sales/orders/{order_no}/cancel"),
                ("receipt-new", "/desk/warehouse/receipts/new"),
                ("return-new", "/desk/warehouse/returns/new"),
                ("issue-new", f"/desk/production/orders/{order_no}/issues/new"),
            ):
                page = await http.get(path)
                assert page.status_code == 200, (path, page.text[:500])
                pages[f"{name}-{lang}"] = page.text
            blank = await http.post("/desk/sales/orders/new", data={"csrf": csrf})
            assert blank.status_code == 422, blank.text[:500]
            pages[f"order-new-422-{lang}"] = blank.text
    return pages


async def test_the_desk_pages_are_valid_html(stack: Stack, tmp_path: Path) -> None:
    pages: dict[str, str] = {}
    async with httpx.AsyncClient(base_url=str(stack.http.base_url)) as http:
        for lang, headers in (("en", EN), ("zh", ZH)):
            page = await http.get("/desk/sign-in", headers=headers)
            assert page.status_code == 200
            pages[f"sign-in-{lang}"] = page.text
        csrf = _csrf(page)
        wrong = await http.post("/desk/sign-in", data={"csrf": csrf, "name": "lin"}, headers=EN)
        assert wrong.status_code == 422
        pages["sign-in-422"] = wrong.text
        refused = await http.post("/desk/sign-out", data={"csrf": "forged"}, headers=EN)
        assert refused.status_code == 403
        pages["csrf-403"] = refused.text
        signed = await http.post(
            "/desk/sign-in",
            data={"csrf": csrf, "name": "amy", "roles": ["sales", "planning"]},
            follow_redirects=False,
        )
        assert signed.status_code == 303
        for lang, headers in (("en", EN), ("zh", ZH)):
            home = await http.get("/desk", headers=headers)
            assert home.status_code == 200
            pages[f"home-{lang}"] = home.text
    pages["sign-in-oidc-en"] = await _sign_in_with_a_provider(stack, "en")
    pages["sign-in-oidc-zh"] = await _sign_in_with_a_provider(stack, "zh-CN")
    pages |= await _department_pages(stack)

    problems = await validate(pages, tmp_path)
    assert not problems, "invalid HTML:\n" + "\n".join(problems)


async def test_the_checker_finds_invalid_html(tmp_path: Path) -> None:
    """The checker itself: a page with an unlabelled input and a duplicate id fails."""
    broken = (
        '<!DOCTYPE html><html lang="en"><head><title>x</title></head><body>'
        '<p id="a">x</p><p id="a"><input type="text" name="q"></p></body></html>'
    )
    problems = await validate({"broken": broken}, tmp_path)
    rules = {line.split()[1].rstrip(":") for line in problems}
    assert {"no-dup-id", "input-missing-label"} <= rules, problems
