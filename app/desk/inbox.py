"""A department's inbox (`/desk/inbox/{dept}`): its open tasks from `GET /{dept}/tasks`, with
the API's filters (kind, order), an overdue filter on the page, paging, and rows that refresh
every 15 s through htmx without a full reload.

The refresh is conditional: the rows fragment carries an ETag over what it shows. A plain
conditional GET (`If-None-Match`) is answered 304. htmx 2 swaps on every 2xx/3xx answer but
204 (its `responseHandling`), so a 304 would blank the rows; desk.js sends the shown rows' ETag
and htmx's requests (`HX-Request`) are answered 204 when nothing changed.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from html import escape as html_escape
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app.desk.api import DeskApi
from app.desk.i18n import language, local_time, translator
from app.desk.pages import TEMPLATES, render
from app.desk.session import SignInNeeded, desk_user
from app.desk.task_form import refused
from shared.settings import DEPARTMENTS
from shared.tasks.kinds import TASK_KINDS

router = APIRouter(prefix="/desk/inbox", include_in_schema=False)

PAGE = 50
SOON_HOURS = 2.0


def time_left(hours: float | None, t: Any) -> tuple[str, str]:
    """Working hours left as read at the desk (`3.5 h`, `overdue 2 h`) and its highlight."""
    if hours is None:
        return "", ""
    shown = f"{abs(hours):.1f}".removesuffix(".0")
    if hours < 0:
        return t("inbox.overdue_by", hours=shown), "late"
    return t("inbox.hours", hours=shown), "soon" if hours < SOON_HOURS else ""


def age(created_at: str, now: datetime, t: Any) -> str:
    """How long the task has been open (days and hours, or hours)."""
    seconds = max(0, int((now - datetime.fromisoformat(created_at)).total_seconds()))
    days, hours = seconds // 86400, seconds % 86400 // 3600
    return (
        t("inbox.age_days", days=days, hours=hours) if days else t("inbox.age_hours", hours=hours)
    )


def _params(request: Request) -> dict[str, str]:
    query = request.query_params
    return {k: query.get(k, "").strip() for k in ("kind", "order_no", "overdue", "offset")}


async def _rows(request: Request, dept: str) -> tuple[int, Any, dict[str, str]]:
    """The API's answer for this page of the inbox (one more than a page, to know of a next)."""
    params = _params(request)
    offset = int(params["offset"]) if params["offset"].isdigit() else 0
    params["offset"] = str(offset)
    answer = await DeskApi(request).get(
        f"/{dept}/tasks",
        state="open",
        kind=params["kind"] or None,
        order_no=params["order_no"] or None,
        limit=PAGE + 1,
        offset=offset,
    )
    return answer.status, answer, params


def _view(tasks: list[dict[str, Any]], params: dict[str, str], t: Any) -> list[dict[str, Any]]:
    now = datetime.now(UTC)
    shown = []
    for task in tasks[:PAGE]:
        if params["overdue"] and not task.get("overdue"):
            continue
        left, highlight = time_left(task.get("due_in_working_hours"), t)
        if task.get("overdue"):
            highlight = "late"
        shown.append(
            {**task, "age": age(task["created_at"], now, t), "left": left, "mark": highlight}
        )
    return shown


def etag_of(html: str) -> str:
    """A strong ETag over the rows as shown (their text: any change in them is a change)."""
    return '"' + hashlib.sha256(html.encode()).hexdigest()[:32] + '"'


def _fragment(
    request: Request, dept: str, rows: list[dict[str, Any]], params: dict[str, str]
) -> tuple[str, str]:
    lang = language(request)
    t = translator(lang)
    zone = request.app.state.settings.timezone
    body = TEMPLATES.env.get_template("inbox_rows.html").render(
        rows=rows,
        t=t,
        dept=dept,
        when=lambda instant: local_time(instant, zone),
    )
    etag = etag_of(body)
    poll = f"/desk/inbox/{dept}/rows?" + urlencode({k: v for k, v in params.items() if v})
    html = (
        # data-hx-*: htmx reads them as hx-*, and they are valid HTML.
        f'<tbody id="inbox-rows" data-hx-get="{html_escape(poll)}" data-hx-trigger="every 15s" '
        f'data-hx-swap="outerHTML" '
        f'data-etag="{html_escape(etag)}">{body}</tbody>'
    )
    return html, etag


@router.get("/{dept}")
async def inbox(request: Request, dept: str) -> Response:
    """The department's open tasks, earliest due first."""
    user = desk_user(request)
    t = translator(language(request))
    if dept not in DEPARTMENTS:
        return render(request, "message.html", user=user, status_code=404, message=dept)
    status, answer, params = await _rows(request, dept)
    if status == 403:
        return refused(request, user, answer)
    if not answer.ok:
        return render(request, "message.html", user=user, status_code=status, message=answer.detail)
    tasks = list(answer.body)
    rows = _view(tasks, params, t)
    tbody, _ = _fragment(request, dept, rows, params)
    offset = int(params["offset"])
    base = {k: v for k, v in params.items() if v and k != "offset"}
    kinds = sorted(name for name, spec in TASK_KINDS.items() if spec.department == dept)
    return render(
        request,
        "inbox.html",
        user=user,
        dept=dept,
        params=params,
        kinds=kinds,
        tbody=tbody,
        done=request.query_params.get("done", ""),
        page=offset // PAGE + 1,
        previous=(f"?{urlencode({**base, 'offset': max(0, offset - PAGE)})}" if offset > 0 else ""),
        next=f"?{urlencode({**base, 'offset': offset + PAGE})}" if len(tasks) > PAGE else "",
    )


@router.get("/{dept}/rows")
async def inbox_rows(request: Request, dept: str) -> Response:
    """The inbox's rows for htmx's refresh: 304 (or 204 to htmx) when they have not changed."""
    refresh = Response(status_code=204, headers={"HX-Refresh": "true"})
    try:
        desk_user(request)
    except SignInNeeded:
        return refresh  # the full page reloads and asks to sign in
    if dept not in DEPARTMENTS:
        return Response(status_code=404)
    _, answer, params = await _rows(request, dept)
    if not answer.ok:
        return refresh  # the page itself shows why (403, an error)
    t = translator(language(request))
    html, etag = _fragment(request, dept, _view(list(answer.body), params, t), params)
    headers = {"ETag": etag, "Cache-Control": "no-cache", "Vary": "Cookie, Accept-Language"}
    if etag in {tag.strip() for tag in request.headers.get("if-none-match", "").split(",")}:
        unchanged = 204 if request.headers.get("hx-request") == "true" else 304
        return Response(status_code=unchanged, headers=headers)
    return Response(html, media_type="text/html", headers=headers)
