"""Production's action at the desk: report an issue found in assembly (a design problem,
nonconforming material or a missing part), a form over `POST /production/orders/{no}/issues`."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from app.desk.actions.forms import (
    answered,
    csrf_refused,
    may,
    read_form,
    rows,
    rows_form,
    text,
)
from app.desk.actions.sales import order_page
from app.desk.api import Answer, DeskApi
from app.desk.pages import forbidden
from app.desk.session import csrf_ok, desk_user
from shared.auth import Principal

router = APIRouter(prefix="/desk/production", include_in_schema=False)

# The role of `POST /production/orders/{order_no}/issues`.
PRODUCTION = ("production",)
ISSUE_FIELDS = ("kind", "severity", "description")
ISSUE_KINDS = ("design_problem", "nonconforming_material", "missing_part")
SEVERITIES = ("normal", "serious")
ITEM_FIELDS = ("item", "qty")


@router.get("/orders/{order_no}/issues/new")
async def issue_form(request: Request, order_no: str) -> Response:
    """The report form: kind, severity, what was found, and the items concerned."""
    user = desk_user(request)
    if not may(user, PRODUCTION):
        return forbidden(request, user, PRODUCTION)
    values = {"kind": "design_problem", "severity": "normal", "description": ""}
    return _issue_form(request, user, order_no, values, [])


@router.post("/orders/{order_no}/issues/new")
async def report_issue(request: Request, order_no: str) -> Response:
    """Report the issue; the order page lists it under its issues, where it goes next."""
    user = desk_user(request)
    form = await read_form(request)
    if not csrf_ok(request, text(form, "csrf")):
        return csrf_refused(request, user)
    if not may(user, PRODUCTION):
        return forbidden(request, user, PRODUCTION)
    values = {name: text(form, name) for name in ISSUE_FIELDS}
    items = rows(form, "items", ITEM_FIELDS)
    body = {**values, "items": [{"item": i["item"], "qty": i["qty"]} for i in items]}
    answer = await DeskApi(request).post(f"/production/orders/{order_no}/issues", body)

    def redraw(**shown: Any) -> Response:
        return _issue_form(request, user, order_no, values, items, **shown)

    def reported(done: Answer) -> Response:
        return RedirectResponse(order_page(str(done.body["order_no"])), status_code=303)

    return answered(request, user, answer, PRODUCTION, redraw, reported)


def _issue_form(
    request: Request,
    user: Principal,
    order_no: str,
    values: dict[str, str],
    items: list[dict[str, str]],
    *,
    status_code: int = 200,
    error: str = "",
    problems: dict[str, str] | None = None,
) -> Response:
    return rows_form(
        request,
        "actions/issue_new.html",
        user,
        fields=ISSUE_FIELDS,
        rows_name="items",
        row_fields=ITEM_FIELDS,
        rows_=items,
        drawn_as="items",
        status_code=status_code,
        error=error,
        problems=problems,
        order_no=order_no,
        values=values,
        kinds=ISSUE_KINDS,
        severities=SEVERITIES,
    )
