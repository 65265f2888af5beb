"""The task form (`/desk/tasks/{dept}/{task_id}`): generated from the payload schema the API
returns with the task, completed through `POST /{dept}/tasks/{id}/complete`; the API's 422
problems are shown at their fields, its 409 and 403 sentences as they are."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from markupsafe import Markup

from app.desk.api import Answer, DeskApi
from app.desk.forms import decode, encode, form_fields, place_problems, prefill
from app.desk.i18n import language, translator
from app.desk.pages import TEMPLATES, render
from app.desk.session import csrf_ok, desk_user
from shared.auth import Principal
from shared.settings import DEPARTMENTS

router = APIRouter(prefix="/desk/tasks", include_in_schema=False)

_ROLES = re.compile(r"needs one of the roles (.+)$")


def roles_named(answer: Answer) -> list[str]:
    """The roles a 403 of the API names (`... needs one of the roles a, b`)."""
    found = _ROLES.search(answer.detail)
    return [role.strip() for role in found.group(1).split(",")] if found else []


def refused(request: Request, user: Principal, answer: Answer) -> Response:
    """The 403 page with the roles the API named and its own sentence."""
    return render(
        request,
        "forbidden.html",
        user=user,
        status_code=403,
        roles=roles_named(answer),
        detail=answer.detail,
    )


def field_labeller(t: Callable[..., str]) -> Callable[[str, str], str]:
    """A field's label: its word in the user's language, else the schema's title."""

    def label(name: str, title: str = "") -> str:
        key = f"field.{name}"
        text = t(key)
        return (title or name) if text == key else text

    return label


def render_form_html(
    schema: dict[str, Any], values: Mapping[str, str], problems: Mapping[str, str], lang: str
) -> str:
    """The form's fields as HTML (what the task page embeds; the property test reads it)."""
    t = translator(lang)
    template = TEMPLATES.env.from_string(
        '{% import "form_macros.html" as m with context %}{{ m.fields(items) }}'
    )
    items = form_fields(schema, values, problems)
    return template.render(items=items, t=t, field_label=field_labeller(t))


def context_rows(context: Mapping[str, Any], t: Callable[..., str]) -> list[tuple[str, Any]]:
    """The task's context for a definition list: scalars as text, lists of like objects as
    tables (`{"columns": [...], "rows": [...]}`), anything else as compact JSON."""
    out: list[tuple[str, Any]] = []
    for key, value in context.items():
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            columns = list(dict.fromkeys(k for row in value for k in row))
            rows = [[_compact(row.get(c), t) for c in columns] for row in value]
            out.append((key, {"columns": columns, "rows": rows}))
        else:
            out.append((key, _compact(value, t)))
    return out


def _compact(value: Any, t: Callable[..., str]) -> str:
    if value is None or value == []:
        return ""
    if isinstance(value, bool):
        return t("form.yes") if value else t("form.no")
    if isinstance(value, str | int | float):
        return str(value)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


def _page(
    request: Request,
    user: Principal,
    dept: str,
    task: dict[str, Any],
    values: Mapping[str, str],
    problems: Mapping[str, str],
    *,
    status_code: int = 200,
    message: str = "",
) -> Response:
    lang = language(request)
    schema = task.get("payload_schema") or {}
    placed, loose = place_problems(problems, form_fields(schema, values, {}))
    return render(
        request,
        "task.html",
        user=user,
        status_code=status_code,
        dept=dept,
        task=task,
        form_html=Markup(render_form_html(schema, values, placed, lang)),
        loose=loose,
        message=message,
        context_rows=context_rows(task.get("context") or {}, translator(lang)),
        field_label=field_labeller(translator(lang)),
    )


def _task_path(dept: str, task_id: str) -> str | None:
    """The API path of the task (its id quoted: ids carry order numbers), or None for a
    department the plant does not have."""
    return f"/{dept}/tasks/{quote(task_id, safe='')}" if dept in DEPARTMENTS else None


@router.get("/{dept}/{task_id}")
async def task_page(request: Request, dept: str, task_id: str) -> Response:
    """The task, its context, and the form that completes it."""
    user = desk_user(request)
    t = translator(language(request))
    path = _task_path(dept, task_id)
    if path is None:
        return render(request, "message.html", user=user, status_code=404, message=dept)
    answer = await DeskApi(request).get(path)
    if answer.status == 403:
        return refused(request, user, answer)
    if not answer.ok:
        return render(
            request, "message.html", user=user, status_code=answer.status, message=answer.detail
        )
    task = answer.body
    schema = task["payload_schema"]
    if task.get("state") == "open":
        values = prefill(schema, task.get("context") or {})
    else:
        values = encode(schema, task.get("payload") or {})
    note = "" if task.get("state") == "open" else t("task.not_open")
    return _page(request, user, dept, task, values, {}, message=note)


@router.post("/{dept}/{task_id}")
async def complete(
    request: Request, dept: str, task_id: str, csrf: Annotated[str, Form()] = ""
) -> Response:
    """Decode the form by the task's schema and complete the task through the API."""
    user = desk_user(request)
    t = translator(language(request))
    if not csrf_ok(request, csrf):
        return render(request, "message.html", user=user, status_code=403, message=t("error.csrf"))
    path = _task_path(dept, task_id)
    if path is None:
        return render(request, "message.html", user=user, status_code=404, message=dept)
    api = DeskApi(request)
    shown = await api.get(path)
    if shown.status == 403:
        return refused(request, user, shown)
    if not shown.ok:
        return render(
            request, "message.html", user=user, status_code=shown.status, message=shown.detail
        )
    task = shown.body
    schema = task["payload_schema"]
    form = await request.form()
    submitted = {k: v for k, v in form.multi_items() if isinstance(v, str) and k != "csrf"}
    payload = decode(schema, submitted)
    answer = await api.post(f"{path}/complete", payload)
    if answer.ok:
        done = urlencode({"done": task_id})
        order_no = task.get("order_no")
        target = (
            f"/desk/orders/{quote(order_no, safe='')}?{done}"
            if order_no
            else f"/desk/inbox/{dept}?{done}"
        )
        return RedirectResponse(target, status_code=303)
    if answer.status == 403:
        return refused(request, user, answer)
    # Shown again with what the user gave, re-read through the schema so rows are numbered
    # as the API numbered them in its problems.
    values = encode(schema, payload)
    if answer.status == 422:
        problems = answer.problems()
        return _page(
            request, user, dept, task, values, problems, status_code=422, message=answer.detail
        )
    return _page(
        request,
        user,
        dept,
        task,
        values,
        {},
        status_code=answer.status,
        message=answer.detail or t("error.title"),
    )
