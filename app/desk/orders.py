"""The order pages: the list of orders (the filters of `GET /orders`, paged) and one order's
page (stage bar, master plan as a Gantt with every revision, materials, open tasks, assembly
issues, customer changes, escalations, timeline, lot trace, the workflow in the Temporal Web
UI). The page's sections refresh by htmx polling a fragment that answers 304 while its ETag
holds. This router also carries the escalations board and the KPI dashboard, so that
`install_desk` mounts the three with one line."""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from starlette.status import HTTP_200_OK, HTTP_304_NOT_MODIFIED, HTTP_403_FORBIDDEN

from app.desk.api import Answer, DeskApi
from app.desk.charts import gantt
from app.desk.escalations import router as escalations_router
from app.desk.kpis import router as kpis_router
from app.desk.pages import TEMPLATES, forbidden, render
from app.desk.session import desk_user
from shared.payloads import MILESTONES
from shared.periods import local_date
from shared.settings import Settings
from shared.types import STAGES

router = APIRouter(prefix="/desk", include_in_schema=False)
router.include_router(escalations_router)
router.include_router(kpis_router)

PAGE_SIZE = 50
# The ten stages an order walks; declined and cancelled end it early and show after them.
MAIN_STAGES: tuple[str, ...] = STAGES[:10]


def temporal_ui_url(settings: Settings, workflow_id: str) -> str:
    """The order's workflow in the Temporal Web UI (`temporal_ui_url`, else the embedded
    server's UI on this machine)."""
    base = settings.temporal_ui_url.rstrip("/") or f"http://127.0.0.1:{settings.temporal_ui_port}"
    namespace = quote(settings.temporal_namespace, safe="")
    return f"{base}/namespaces/{namespace}/workflows/{quote(workflow_id, safe='')}"


@router.get("/orders")
async def orders_list(
    request: Request,
    stage: str = "",
    status: str = "",
    customer: str = "",
    late: str = "",
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> Response:
    """Orders, newest first, filtered as `GET /orders` filters them, fifty to a page."""
    user = desk_user(request)
    filters = {"stage": stage, "status": status, "customer": customer, "late": late}
    answer = await DeskApi(request).get(
        "/orders",
        stage=stage,
        status=status,
        customer=customer,
        late=late if late in ("true", "false") else None,
        limit=PAGE_SIZE + 1,
        offset=(page - 1) * PAGE_SIZE,
    )
    if answer.status == HTTP_403_FORBIDDEN:
        return forbidden(request, user, _roles_named(answer))
    rows = list(answer.body)[:PAGE_SIZE] if answer.ok else []
    more = answer.ok and len(answer.body) > PAGE_SIZE
    kept = {k: v for k, v in filters.items() if v}
    return render(
        request,
        "orders.html",
        user=user,
        status_code=HTTP_200_OK if answer.ok else answer.status,
        orders=rows,
        filters=filters,
        stages=STAGES,
        statuses=("active", "closed", "declined", "cancelled"),
        page=page,
        prev_url=f"/desk/orders?{urlencode({**kept, 'page': page - 1})}" if page > 1 else None,
        next_url=f"/desk/orders?{urlencode({**kept, 'page': page + 1})}" if more else None,
        error=None if answer.ok else answer.detail,
        problems=answer.problems(),
    )


@dataclass(frozen=True)
class OrderPage:
    """What the order page shows, read from the API as the user."""

    order: Answer
    plan: Answer
    trace: Answer


async def _read(request: Request, order_no: str) -> OrderPage:
    api = DeskApi(request)
    path = quote(order_no, safe="")
    # Three reads at once: the page answers in the time of the slowest.
    order, plan, trace = await asyncio.gather(
        api.get(f"/orders/{path}"),
        api.get(f"/planning/orders/{path}/plan"),
        api.get(f"/orders/{path}/trace"),
    )
    return OrderPage(order=order, plan=plan, trace=trace)


def _roles_named(answer: Answer) -> list[str]:
    """The roles a 403's sentence names (`… needs one of the roles a, b`)."""
    _, _, tail = answer.detail.partition("needs one of the roles ")
    return [role.strip() for role in tail.split(",") if role.strip()] or ["admin"]


def _sections(request: Request, data: OrderPage, revision: int | None) -> dict[str, Any]:
    """The template context of the order's live sections."""
    settings: Settings = request.app.state.settings
    order = data.order.body
    plan = data.plan.body if data.plan.ok else {"revisions": [], "current_revision": None}
    revisions = plan.get("revisions") or []
    numbers = [r["revision"] for r in revisions]
    chosen = revision if revision in numbers else plan.get("current_revision")
    shown = next((r for r in revisions if r["revision"] == chosen), None)
    today = local_date(datetime.now(UTC), settings.timezone)
    stage = order["stage"]
    ended = stage if stage not in MAIN_STAGES else None
    # How far the order got before it ended early: the furthest stage its timeline names.
    reached = MAIN_STAGES.index(stage) if stage in MAIN_STAGES else _last_stage(order)
    return {
        "order": order,
        "stages": MAIN_STAGES,
        "stage_index": reached,
        "ended": ended,
        "plan": plan,
        "plan_error": None if data.plan.ok else data.plan.detail,
        "revision": chosen,
        "shown": shown,
        "chart": gantt(shown["milestones"], today, MILESTONES) if shown else None,
        "trace": data.trace.body if data.trace.ok else None,
        "trace_error": None if data.trace.ok else data.trace.detail,
        "temporal_url": temporal_ui_url(settings, order["workflow_id"]),
        "live_url": f"/desk/orders/{quote(order['order_no'], safe='')}/live"
        + (f"?revision={chosen}" if chosen is not None else ""),
    }


def _last_stage(order: dict[str, Any]) -> int:
    """The furthest of the ten stages an ended order's stage events record (0: review)."""
    furthest = 0
    for entry in order.get("timeline") or []:
        stage = (entry.get("detail") or {}).get("stage") if entry.get("kind") == "stage" else None
        if stage in MAIN_STAGES:
            furthest = max(furthest, MAIN_STAGES.index(stage))
    return furthest


@router.get("/orders/{order_no}")
async def order_page(request: Request, order_no: str, revision: int | None = None) -> Response:
    """One order, its sections refreshing every 15 s without a reload."""
    user = desk_user(request)
    data = await _read(request, order_no)
    if data.order.status == HTTP_403_FORBIDDEN:
        return forbidden(request, user, _roles_named(data.order))
    if not data.order.ok:
        return render(
            request,
            "message.html",
            user=user,
            status_code=data.order.status,
            message=data.order.detail,
        )
    return render(request, "order.html", user=user, **_sections(request, data, revision))


@router.get("/orders/{order_no}/live")
async def order_live(request: Request, order_no: str, revision: int | None = None) -> Response:
    """The order page's sections as a fragment for htmx; 304 while nothing in them changed
    (the browser revalidates with the ETag it was given)."""
    user = desk_user(request)
    data = await _read(request, order_no)
    if not data.order.ok:
        # Say why in the fragment's place; the poll goes on and recovers when the API does.
        url = _escape(
            str(request.url.path) + (f"?{request.url.query}" if request.url.query else "")
        )
        return Response(
            f'<div class="error" id="order-live" hx-get="{url}" hx-trigger="every 15s" '
            f'hx-swap="outerHTML" role="alert">{_escape(data.order.detail)}</div>',
            status_code=HTTP_200_OK,
            media_type="text/html",
            headers={"Cache-Control": "no-store"},
        )
    page = render(request, "order_live.html", user=user, **_sections(request, data, revision))
    # The validator is the fragment itself: the API's answers carry figures the sections do
    # not show (working hours left, ticking by the minute), which must not defeat the 304.
    etag = f'"{hashlib.sha256(bytes(page.body)).hexdigest()[:32]}"'
    headers = {"ETag": etag, "Cache-Control": "private, no-cache", "Vary": "Cookie"}
    if etag in _tags(request.headers.get("if-none-match", "")):
        return Response(status_code=HTTP_304_NOT_MODIFIED, headers=headers)
    page.headers.update(headers)
    return page


def _tags(header: str) -> set[str]:
    return {tag.strip().removeprefix("W/") for tag in header.split(",") if tag.strip()}


def _escape(text: str) -> str:
    return TEMPLATES.env.filters["e"](text)  # type: ignore[no-any-return]


__all__ = ["router", "temporal_ui_url"]
