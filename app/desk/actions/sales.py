"""Sales actions at the desk: take in a new order with its lines, make a customer change, and
cancel an order showing what it costs; each a form over the sales API."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from app.desk.actions.forms import (
    answered,
    csrf_refused,
    loose_problems,
    may,
    new_key,
    optional,
    read_form,
    rows,
    rows_form,
    text,
)
from app.desk.api import Answer, DeskApi
from app.desk.pages import forbidden, render
from app.desk.session import csrf_ok, desk_user
from services.sales.schemas import UNITS
from shared.auth import Principal

router = APIRouter(prefix="/desk/sales", include_in_schema=False)

# The roles the sales routes require (services/sales/api.py).
SALES = ("sales",)
LINE_FIELDS = ("item", "description", "qty", "unit")
ORDER_FIELDS = (
    "order_no",
    "customer",
    "project_name",
    "contract_no",
    "technical_agreement_ref",
    "drawing_refs",
    "requested_date",
    "amount",
    "currency",
    "priority",
)
PRIORITIES = ("low", "normal", "high", "urgent")
BOM_FIELDS = ("item", "parent", "qty_per", "make_or_buy", "supplier", "lead_days")
CHANGE_FIELDS = ("kind", "detail", "customer_confirmation_ref", "item", "qty", "new_date")


def order_page(order_no: str) -> str:
    """Where an order is shown at the desk."""
    return f"/desk/orders/{order_no}"


# -- new order ---------------------------------------------------------------------------------


@router.get("/orders/new")
async def new_order_form(request: Request) -> Response:
    """The intake form: the order's fields and its lines as repeatable rows."""
    user = desk_user(request)
    if not may(user, SALES):
        return forbidden(request, user, SALES)
    values = {"currency": "CNY", "priority": "normal"}
    return _order_form(request, user, values, [], key=new_key())


@router.post("/orders/new")
async def new_order(request: Request) -> Response:
    """`POST /sales/orders` with the form's Idempotency-Key: a double submit makes one order."""
    user = desk_user(request)
    form = await read_form(request)
    if not csrf_ok(request, text(form, "csrf")):
        return csrf_refused(request, user)
    if not may(user, SALES):
        return forbidden(request, user, SALES)
    values = {name: text(form, name) for name in ORDER_FIELDS}
    lines = rows(form, "lines", LINE_FIELDS)
    key = text(form, "idempotency_key") or new_key()
    body: dict[str, Any] = {
        "order_no": values["order_no"],
        "customer": values["customer"],
        "project_name": values["project_name"],
        "contract_no": values["contract_no"],
        "technical_agreement_ref": optional(form, "technical_agreement_ref"),
        "drawing_refs": [ref.strip() for ref in values["drawing_refs"].splitlines() if ref.strip()],
        "lines": [{field: line[field] for field in LINE_FIELDS} for line in lines],
        "requested_date": values["requested_date"],
        "amount": values["amount"],
        "currency": values["currency"] or "CNY",
        "priority": values["priority"] or "normal",
    }
    answer = await DeskApi(request).post("/sales/orders", body, {"Idempotency-Key": key})

    def redraw(**shown: Any) -> Response:
        return _order_form(request, user, values, lines, key=key, **shown)

    def created(done: Answer) -> Response:
        return RedirectResponse(order_page(str(done.body["order_no"])), status_code=303)

    return answered(request, user, answer, SALES, redraw, created)


def _order_form(
    request: Request,
    user: Principal,
    values: dict[str, str],
    lines: list[dict[str, str]],
    *,
    key: str,
    status_code: int = 200,
    error: str = "",
    problems: dict[str, str] | None = None,
) -> Response:
    # A drawing reference's problem names its place in the list: shown at the one field.
    found = dict(problems or {})
    for path in [p for p in found if p.startswith("drawing_refs.")]:
        found.setdefault("drawing_refs", found[path])
    return rows_form(
        request,
        "actions/order_new.html",
        user,
        fields=ORDER_FIELDS,
        rows_name="lines",
        row_fields=LINE_FIELDS,
        rows_=lines,
        drawn_as="lines",
        status_code=status_code,
        error=error,
        problems=found,
        also_shown=[p for p in found if p.startswith("drawing_refs")],
        values=values,
        units=sorted(UNITS),
        priorities=PRIORITIES,
        key=key,
    )


# -- customer change ---------------------------------------------------------------------------


@router.get("/orders/{order_no}/change")
async def change_form(request: Request, order_no: str) -> Response:
    """A customer change of quantity, date or scope, with the customer's confirmation."""
    user = desk_user(request)
    if not may(user, SALES):
        return forbidden(request, user, SALES)
    return _change_form(request, user, order_no, {"kind": "qty"}, [], key=new_key())


@router.post("/orders/{order_no}/change")
async def change(request: Request, order_no: str) -> Response:
    """`POST /sales/orders/{order_no}/changes`; the answer (at once, or awaiting the customer's
    agreement) is shown on its own page."""
    user = desk_user(request)
    form = await read_form(request)
    if not csrf_ok(request, text(form, "csrf")):
        return csrf_refused(request, user)
    if not may(user, SALES):
        return forbidden(request, user, SALES)
    values = {name: text(form, name) for name in CHANGE_FIELDS}
    bom = rows(form, "bom_changes", BOM_FIELDS)
    key = text(form, "idempotency_key") or new_key()
    answer = await DeskApi(request).post(
        f"/sales/orders/{order_no}/changes", _change_body(values, bom), {"Idempotency-Key": key}
    )

    def redraw(**shown: Any) -> Response:
        return _change_form(request, user, order_no, values, bom, key=key, **shown)

    def accepted(done: Answer) -> Response:
        return render(
            request,
            "actions/change_done.html",
            user=user,
            order_no=order_no,
            change=done.body,
            order_page=order_page(order_no),
        )

    return answered(request, user, answer, SALES, redraw, accepted)


def _change_body(values: dict[str, str], bom: list[dict[str, str]]) -> dict[str, Any]:
    """The change as the API takes it: only the fields of its kind are sent, so a value left
    in a field of another kind does not travel with it."""
    body: dict[str, Any] = {
        "kind": values["kind"],
        "detail": values["detail"],
        "customer_confirmation_ref": values["customer_confirmation_ref"] or None,
    }
    if values["kind"] == "qty":
        body["item"] = values["item"] or None
        body["qty"] = values["qty"] or None
    elif values["kind"] == "date":
        body["new_date"] = values["new_date"] or None
    elif values["kind"] == "scope":
        body["bom_changes"] = [_bom_line(line) for line in bom]
    return body


def _bom_line(line: dict[str, str]) -> dict[str, Any]:
    return {
        "item": line["item"],
        "parent": line["parent"] or None,
        "qty_per": line["qty_per"],
        "make_or_buy": line["make_or_buy"],
        "supplier": line["supplier"] or None,
        "lead_days": line["lead_days"] or None,
    }


def _change_form(
    request: Request,
    user: Principal,
    order_no: str,
    values: dict[str, str],
    bom: list[dict[str, str]],
    *,
    key: str,
    status_code: int = 200,
    error: str = "",
    problems: dict[str, str] | None = None,
) -> Response:
    return rows_form(
        request,
        "actions/change.html",
        user,
        fields=CHANGE_FIELDS,
        rows_name="bom_changes",
        row_fields=BOM_FIELDS,
        rows_=bom,
        drawn_as="bom",
        status_code=status_code,
        error=error,
        problems=problems,
        order_no=order_no,
        values=values,
        key=key,
    )


# -- cancel ------------------------------------------------------------------------------------


@router.get("/orders/{order_no}/cancel")
async def cancel_form(request: Request, order_no: str) -> Response:
    """What cancelling would stop, before the user confirms: the order's stage, value, open
    tasks and materials from its view, and the cost and unwinding the API quotes for a
    cancellation now (`GET /sales/orders/{order_no}/cancellation-cost`)."""
    user = desk_user(request)
    if not may(user, SALES):
        return forbidden(request, user, SALES)
    return await _cancel_form(request, user, order_no, reason="")


@router.post("/orders/{order_no}/cancel")
async def cancel(request: Request, order_no: str) -> Response:
    """`POST /sales/orders/{order_no}/cancel`, then the cost it incurred and what it unwound."""
    user = desk_user(request)
    form = await read_form(request)
    if not csrf_ok(request, text(form, "csrf")):
        return csrf_refused(request, user)
    if not may(user, SALES):
        return forbidden(request, user, SALES)
    reason = text(form, "reason")
    answer = await DeskApi(request).post(f"/sales/orders/{order_no}/cancel", {"reason": reason})
    if answer.ok:
        return render(
            request,
            "actions/cancel_done.html",
            user=user,
            order_no=order_no,
            result=answer.body,
            order_page=order_page(order_no),
        )
    if answer.status == 403:
        return forbidden(request, user, SALES)
    return await _cancel_form(
        request,
        user,
        order_no,
        reason=reason,
        status_code=answer.status,
        error=answer.detail,
        problems=answer.problems(),
    )


async def _cancel_form(
    request: Request,
    user: Principal,
    order_no: str,
    *,
    reason: str,
    status_code: int = 200,
    error: str = "",
    problems: dict[str, str] | None = None,
) -> Response:
    api = DeskApi(request)
    view, quote = await asyncio.gather(
        api.get(f"/orders/{order_no}"), api.get(f"/sales/orders/{order_no}/cancellation-cost")
    )
    if view.status == 404:
        return render(request, "message.html", user=user, status_code=404, message=view.detail)
    return render(
        request,
        "actions/cancel.html",
        quote=quote.body if quote.ok else None,
        quote_error="" if quote.ok else quote.detail,
        user=user,
        status_code=status_code,
        order_no=order_no,
        order=view.body if view.ok else None,
        order_error="" if view.ok else view.detail,
        reason=reason,
        error=error,
        problems=problems or {},
        loose=loose_problems(problems or {}, ["reason"]),
        order_page=order_page(order_no),
    )
