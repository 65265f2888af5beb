"""The department inbox and the task form over HTTP, on a real gateway: a department signs in,
sees the order's task in its inbox, completes it through the generated form (a bad value first:
the 422 is shown at its field), is redirected, and a second completion shows who did it; a
sales user opening the quality inbox sees the roles it needs; the inbox's rows answer 304 (or
204 to htmx) while nothing changed."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import httpx
import pytest

from app.desk import inbox as inbox_pages
from app.desk.i18n import MESSAGES, translator
from app.desk.inbox import age, time_left
from tests.conftest import Stack
from tests.desk.test_forms_schema import submitted
from tests.helpers import create_order, wait_task

EN = {"Accept-Language": "en"}


def assert_labelled(page: httpx.Response) -> None:
    """Ids are unique and every visible input, select and textarea has its label."""
    read = submitted(page.text)
    assert len(read.ids) == len(set(read.ids)), read.ids
    assert set(read.controls) <= read.label_for, set(read.controls) - read.label_for


def _csrf(page: httpx.Response) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found, page.text[:500]
    return found.group(1)


async def _signed_in(http: httpx.AsyncClient, name: str, *roles: str) -> str:
    csrf = _csrf(await http.get("/desk/sign-in"))
    answer = await http.post(
        "/desk/sign-in", data={"csrf": csrf, "name": name, "roles": list(roles)}
    )
    assert answer.status_code == 303, answer.text
    return csrf


async def test_a_department_completes_its_task_from_the_inbox(stack: Stack) -> None:
    order_no = await create_order(stack)
    task = await wait_task(stack, "engineering.contract_review", order_no)
    en = MESSAGES["en"]
    async with httpx.AsyncClient(base_url=str(stack.http.base_url), headers=EN) as http:
        csrf = await _signed_in(http, "erin", "engineering")

        inbox = await http.get("/desk/inbox/engineering", params={"order_no": order_no})
        assert inbox.status_code == 200, inbox.text
        assert en["kind.engineering.contract_review"] in inbox.text
        assert f'href="/desk/orders/{order_no}"' in inbox.text
        form_link = f"/desk/tasks/engineering/{task['task_id']}"
        assert f'href="{form_link}"' in inbox.text
        assert 'data-hx-trigger="every 15s"' in inbox.text
        assert_labelled(inbox)

        form = await http.get(form_link)
        assert form.status_code == 200, form.text
        assert 'name="design_days"' in form.text and '<label for="f-design_days"' in form.text
        assert '<select id="f-ok" name="ok"' in form.text
        assert '<textarea id="f-issues" name="issues"' in form.text
        assert_labelled(form)

        refused = await http.post(form_link, data={"csrf": "forged", "ok": "true"})
        assert refused.status_code == 403

        bad = await http.post(form_link, data={"csrf": csrf, "ok": "true", "design_days": "-3"})
        assert bad.status_code == 422, bad.text
        at_field = re.search(r'id="f-design_days-problem"[^>]*>([^<]+)<', bad.text)
        assert at_field and "greater than or equal to 0" in at_field.group(1)
        assert 'value="-3"' in bad.text  # the user's value is kept
        assert_labelled(bad)

        # A rule of the whole payload names no field: it is shown above the form.
        whole = await http.post(form_link, data={"csrf": csrf, "ok": "false", "design_days": "3"})
        assert whole.status_code == 422
        top = whole.text.split('<div class="task-layout">')[0]
        assert "must list its technical issues" in top

        chinese = await http.get(form_link, headers={"Accept-Language": "zh-CN"})
        assert MESSAGES["zh"]["field.design_days"] in chinese.text
        assert MESSAGES["zh"]["kind.engineering.contract_review"] in chinese.text

        done = await http.post(
            form_link,
            data={"csrf": csrf, "ok": "true", "design_days": "20", "issues": "\r\n"},
            follow_redirects=False,
        )
        assert done.status_code == 303, done.text
        assert done.headers["location"].startswith(f"/desk/orders/{order_no}?done=")
        closed = await stack.http.get(
            "/engineering/tasks",
            params={"state": "done", "order_no": order_no},
            headers=stack.token("ops-bot", "ops"),
        )
        (completed,) = [t for t in closed.json() if t["task_id"] == task["task_id"]]
        assert completed["payload"] == {"ok": True, "design_days": 20, "issues": []}
        assert completed["completed_by"] == "erin"

        again = await http.post(form_link, data={"csrf": csrf, "ok": "true", "design_days": "1"})
        assert again.status_code == 409, again.text
        assert "erin" in again.text and "completed" in again.text


async def test_the_inbox_refuses_who_lacks_the_role_and_its_rows_answer_304(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    order_no = await create_order(stack)
    other_no = await create_order(stack)
    await wait_task(stack, "engineering.contract_review", order_no)
    await wait_task(stack, "engineering.contract_review", other_no)
    async with httpx.AsyncClient(base_url=str(stack.http.base_url), headers=EN) as http:
        await _signed_in(http, "sam", "sales")
        quality = await http.get("/desk/inbox/quality")
        assert quality.status_code == 403
        assert MESSAGES["en"]["forbidden.title"] in quality.text
        assert "head:quality" in quality.text and "quality" in quality.text
        form = await http.get("/desk/tasks/quality/nope")
        assert form.status_code == 403

    async with httpx.AsyncClient(base_url=str(stack.http.base_url), headers=EN) as http:
        await _signed_in(http, "erin", "engineering")
        rows = await http.get("/desk/inbox/engineering/rows", params={"order_no": order_no})
        assert rows.status_code == 200 and order_no in rows.text
        etag = rows.headers["etag"]
        assert f'data-etag="{etag.replace(chr(34), "&quot;")}"' in rows.text
        same = await http.get(
            "/desk/inbox/engineering/rows",
            params={"order_no": order_no},
            headers={"If-None-Match": etag},
        )
        assert same.status_code == 304 and same.headers["etag"] == etag
        htmx = await http.get(
            "/desk/inbox/engineering/rows",
            params={"order_no": order_no},
            headers={"If-None-Match": etag, "HX-Request": "true"},
        )
        assert htmx.status_code == 204 and not htmx.content
        other = await http.get(
            "/desk/inbox/engineering/rows",
            params={"order_no": "NO-SUCH"},
            headers={"If-None-Match": etag},
        )
        assert other.status_code == 200 and other.headers["etag"] != etag

        # Overdue only: the fresh task is not overdue.
        overdue = await http.get(
            "/desk/inbox/engineering", params={"order_no": order_no, "overdue": "1"}
        )
        assert MESSAGES["en"]["inbox.empty"] in overdue.text
        assert f'href="/desk/orders/{order_no}"' not in overdue.text

        # Paging (a page of one here): next, then previous.
        monkeypatch.setattr(inbox_pages, "PAGE", 1)
        first = await http.get("/desk/inbox/engineering")
        assert 'rel="next"' in first.text and 'rel="prev"' not in first.text
        link = re.search(r'href="([^"]+)" rel="next"', first.text)
        assert link and "offset=1" in link.group(1)
        second = await http.get("/desk/inbox/engineering" + link.group(1).replace("&amp;", "&"))
        assert second.status_code == 200 and 'rel="prev"' in second.text
        assert MESSAGES["en"]["inbox.page"].format(page=2) in second.text


def test_time_left_reads_in_working_hours_with_its_mark() -> None:
    t = translator("en")
    assert time_left(3.5, t) == ("3.5 h", "")
    assert time_left(1.25, t) == ("1.2 h", "soon")
    assert time_left(-2.0, t) == ("overdue 2 h", "late")
    assert time_left(None, t) == ("", "")
    now = datetime(2026, 12, 4, 12, tzinfo=UTC)
    assert age("2026-12-02T09:00:00+00:00", now, t) == "2 d 3 h"
    assert age("2026-12-04T11:30:00+00:00", now, t) == "0 h"
