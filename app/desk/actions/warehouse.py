"""Warehouse actions at the desk: a receipt against a purchase order and its delivery note
(the PO's outstanding lines prefilled from `GET /procurement/purchase-orders`), and returns to
stock; each a form over the warehouse API."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app.desk.actions.forms import (
    answered,
    csrf_refused,
    may,
    new_key,
    optional,
    read_form,
    rows,
    rows_form,
    text,
)
from app.desk.api import Answer, DeskApi
from app.desk.i18n import language, translator
from app.desk.pages import forbidden, render
from app.desk.session import csrf_ok, desk_user
from shared.auth import Principal

router = APIRouter(prefix="/desk/warehouse", include_in_schema=False)

# The roles of `POST /warehouse/receipts` and `POST /warehouse/returns`.
WAREHOUSE = ("warehouse",)
RECEIPT_FIELDS = ("po_no", "delivery_note_no", "supplier")
RECEIPT_LINE_FIELDS = ("item", "qty_noted", "qty_counted", "qty_damaged", "supplier_lot")
RETURN_FIELDS = ("kind", "order_no", "reason")
RETURN_KINDS = ("engineering_change", "leftover", "aftersales")
RETURN_LINE_FIELDS = ("item", "qty", "lot_no")


# -- receipt -----------------------------------------------------------------------------------


@router.get("/receipts/new")
async def receipt_form(request: Request, po_no: str = "") -> Response:
    """The receipt form; with `?po_no=` the PO's supplier and outstanding lines prefilled."""
    user = desk_user(request)
    if not may(user, WAREHOUSE):
        return forbidden(request, user, WAREHOUSE)
    values = dict.fromkeys(RECEIPT_FIELDS, "")
    lines: list[dict[str, str]] = []
    error = ""
    if po_no.strip():
        values["po_no"] = po_no.strip()
        po, error = await _purchase_order(request, po_no.strip())
        if po is not None:
            values["supplier"] = str(po.get("supplier", ""))
            lines = _outstanding(po)
        elif not error:
            error = translator(language(request))("actions.receipt.po_unknown", po_no=po_no)
    return _receipt_form(request, user, values, lines, error=error)


async def _purchase_order(request: Request, po_no: str) -> tuple[dict[str, Any] | None, str]:
    """The PO as procurement lists it (the API lists POs by order and state, not by number, so
    the desk picks it from the list), or the sentence saying why it cannot be shown."""
    listed = await DeskApi(request).get("/procurement/purchase-orders")
    if not listed.ok:
        return None, listed.detail
    for po in listed.body:
        if isinstance(po, dict) and po.get("po_no") == po_no:
            return po, ""
    return None, ""


def _outstanding(po: dict[str, Any]) -> list[dict[str, str]]:
    """A row per PO line still to come: what the note should say is what is outstanding, so
    noted and counted start there and the clerk corrects what differs."""
    found = []
    for line in po.get("lines") or []:
        try:
            left = Decimal(str(line["qty"])) - Decimal(str(line.get("qty_received") or 0))
        except (InvalidOperation, KeyError):
            continue
        if left > 0:
            qty = f"{left.normalize():f}"
            found.append(
                {
                    "item": str(line["item"]),
                    "qty_noted": qty,
                    "qty_counted": qty,
                    "qty_damaged": "0",
                    "supplier_lot": "",
                }
            )
    return found


@router.post("/receipts/new")
async def receive(request: Request) -> Response:
    """`POST /warehouse/receipts`; the answer (receipt, inspection lot, refused quantities) is
    shown on its own page."""
    user = desk_user(request)
    form = await read_form(request)
    if not csrf_ok(request, text(form, "csrf")):
        return csrf_refused(request, user)
    if not may(user, WAREHOUSE):
        return forbidden(request, user, WAREHOUSE)
    values = {name: text(form, name) for name in RECEIPT_FIELDS}
    lines = rows(form, "lines", RECEIPT_LINE_FIELDS)
    body = {
        **values,
        "lines": [
            {
                "item": line["item"],
                "qty_noted": line["qty_noted"],
                "qty_counted": line["qty_counted"],
                "qty_damaged": line["qty_damaged"] or "0",
                "supplier_lot": line["supplier_lot"] or None,
            }
            for line in lines
        ],
    }
    answer = await DeskApi(request).post("/warehouse/receipts", body)

    def redraw(**shown: Any) -> Response:
        return _receipt_form(request, user, values, lines, **shown)

    def booked(done: Answer) -> Response:
        return render(request, "actions/receipt_done.html", user=user, receipt=done.body)

    return answered(request, user, answer, WAREHOUSE, redraw, booked)


def _receipt_form(
    request: Request,
    user: Principal,
    values: dict[str, str],
    lines: list[dict[str, str]],
    *,
    status_code: int = 200,
    error: str = "",
    problems: dict[str, str] | None = None,
) -> Response:
    return rows_form(
        request,
        "actions/receipt_new.html",
        user,
        fields=RECEIPT_FIELDS,
        rows_name="lines",
        row_fields=RECEIPT_LINE_FIELDS,
        rows_=lines,
        drawn_as="lines",
        status_code=status_code,
        error=error,
        problems=problems,
        values=values,
    )


# -- returns -----------------------------------------------------------------------------------


@router.get("/returns/new")
async def return_form(request: Request, order_no: str = "") -> Response:
    """Goods back to stock: engineering-change surplus, leftovers, after-sales returns."""
    user = desk_user(request)
    if not may(user, WAREHOUSE):
        return forbidden(request, user, WAREHOUSE)
    values = {"kind": "leftover", "order_no": order_no.strip(), "reason": ""}
    return _return_form(request, user, values, [], key=new_key())


@router.post("/returns/new")
async def book_return(request: Request) -> Response:
    """`POST /warehouse/returns` with the form's Idempotency-Key (a double submit books one)."""
    user = desk_user(request)
    form = await read_form(request)
    if not csrf_ok(request, text(form, "csrf")):
        return csrf_refused(request, user)
    if not may(user, WAREHOUSE):
        return forbidden(request, user, WAREHOUSE)
    values = {name: text(form, name) for name in RETURN_FIELDS}
    lines = rows(form, "lines", RETURN_LINE_FIELDS)
    key = text(form, "idempotency_key") or new_key()
    body = {
        "kind": values["kind"],
        "order_no": optional(form, "order_no"),
        "reason": values["reason"],
        "lines": [
            {"item": line["item"], "qty": line["qty"], "lot_no": line["lot_no"] or None}
            for line in lines
        ],
    }
    answer = await DeskApi(request).post("/warehouse/returns", body, {"Idempotency-Key": key})

    def redraw(**shown: Any) -> Response:
        return _return_form(request, user, values, lines, key=key, **shown)

    def booked(done: Answer) -> Response:
        return render(request, "actions/return_done.html", user=user, booked=done.body)

    return answered(request, user, answer, WAREHOUSE, redraw, booked)


def _return_form(
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
    return rows_form(
        request,
        "actions/return_new.html",
        user,
        fields=RETURN_FIELDS,
        rows_name="lines",
        row_fields=RETURN_LINE_FIELDS,
        rows_=lines,
        drawn_as="lines",
        status_code=status_code,
        error=error,
        problems=problems,
        values=values,
        kinds=RETURN_KINDS,
        key=key,
    )
