"""What the desk's action forms share: reading a posted form whose field names are the API's
own paths (`lines.0.qty`), so a 422 problem lands at the field it names; repeatable rows;
the CSRF and role checks; and turning an API answer into the page the user sees."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from app.desk.api import Answer
from app.desk.i18n import language, translator
from app.desk.pages import forbidden, render
from shared.auth import Principal
from shared.bounds import LINES_MAX

# Starlette parses at most 1,000 fields by default; a form of the API's longest lists (1,000
# lines of up to six fields each) must still reach the API, which bounds it.
FORM_FIELDS_MAX = 6 * LINES_MAX + 100

_ROW = re.compile(r"^(?P<list>[a-z_]+)\.(?P<index>\d+)\.(?P<field>[a-z_]+)$")


async def read_form(request: Request) -> FormData:
    """The posted form, as long as the API's lists allow."""
    return await request.form(max_fields=FORM_FIELDS_MAX)


def new_key() -> str:
    """A fresh Idempotency-Key for one rendering of a form: a double submit of that form
    carries the same key, so the API makes one order (or change, or return) of it."""
    return uuid.uuid4().hex


def text(form: FormData, name: str) -> str:
    """A single text field, trimmed ('' when absent)."""
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def optional(form: FormData, name: str) -> str | None:
    """A text field the API takes as absent when it is blank."""
    return text(form, name) or None


def rows(form: FormData, name: str, fields: Iterable[str]) -> list[dict[str, str]]:
    """The repeatable rows of list `name` in their on-screen order, blank rows left out. The
    rows are renumbered from 0, and the form is drawn again from these rows, so the index a
    422 names (`lines.1.qty`) is the row the user sees second."""
    wanted = tuple(fields)
    found: dict[int, dict[str, str]] = {}
    for key, value in form.multi_items():
        match = _ROW.match(key)
        if not match or match["list"] != name or match["field"] not in wanted:
            continue
        row = found.setdefault(int(match["index"]), dict.fromkeys(wanted, ""))
        row[match["field"]] = value.strip() if isinstance(value, str) else ""
    return [found[i] for i in sorted(found) if any(found[i].values())]


def blank_rows(rows_: list[dict[str, str]], fields: Iterable[str]) -> list[dict[str, str]]:
    """The rows to draw: those given, or one empty row to start from."""
    return rows_ or [dict.fromkeys(fields, "")]


def csrf_refused(request: Request, user: Principal) -> Response:
    """A form posted without this browser's CSRF token: nothing is done."""
    t = translator(language(request))
    return render(request, "message.html", user=user, status_code=403, message=t("error.csrf"))


def may(user: Principal, roles: tuple[str, ...]) -> bool:
    """Whether the API would let `user` act with a route open to `roles` (admin always may)."""
    return user.has_any((*roles, "admin"))


def answered(
    request: Request,
    user: Principal,
    answer: Answer,
    roles: tuple[str, ...],
    redraw: Callable[..., Response],
    success: Callable[[Answer], Response],
) -> Response:
    """The page for an API answer: `success` when it went through, the 403 page naming the
    roles, else the form drawn again with the API's sentence and its problems at their fields
    (422), or the sentence alone (409, 404, 503)."""
    if answer.ok:
        return success(answer)
    if answer.status == 403:
        return forbidden(request, user, roles)
    if answer.status == 401:
        return RedirectResponse("/desk/sign-in", status_code=303)
    return redraw(status_code=answer.status, error=answer.detail, problems=answer.problems())


def loose_problems(problems: dict[str, str], shown: Iterable[str]) -> dict[str, str]:
    """The problems that name no field on the form (the whole body, a whole list): shown
    above the form, since no field can carry them."""
    fields = set(shown)
    return {path: problem for path, problem in problems.items() if path not in fields}


def field_names(
    scalars: Iterable[str], lists: dict[str, tuple[list[dict[str, Any]], tuple[str, ...]]]
) -> list[str]:
    """Every field name the form draws: its scalars, each row (`list.i`, for a problem of the
    whole row) and each row's `list.i.field`."""
    names = list(scalars)
    for name, (drawn, fields) in lists.items():
        names += [f"{name}.{i}" for i in range(len(drawn))]
        names += [f"{name}.{i}.{field}" for i in range(len(drawn)) for field in fields]
    return names


def rows_form(
    request: Request,
    template: str,
    user: Principal,
    *,
    fields: tuple[str, ...],
    rows_name: str,
    row_fields: tuple[str, ...],
    rows_: list[dict[str, str]],
    drawn_as: str,
    status_code: int = 200,
    error: str = "",
    problems: dict[str, str] | None = None,
    also_shown: Iterable[str] = (),
    **context: Any,
) -> Response:
    """An action form of scalar `fields` and one list of rows (`rows_name`, drawn with a blank
    row to add to and given to the template as `drawn_as`): each API problem at its field,
    those naming no field on the form (nor in `also_shown`) above it."""
    drawn = blank_rows(rows_, row_fields)
    shown = [*field_names(fields, {rows_name: (drawn, row_fields)}), rows_name, *also_shown]
    found = problems or {}
    return render(
        request,
        template,
        user=user,
        status_code=status_code,
        error=error,
        problems=found,
        loose=loose_problems(found, shown),
        **{drawn_as: drawn},
        **context,
    )
