"""The escalations board: the open escalations (`GET /escalations?state=open`) by level and
age, each acknowledged from here by the role it was raised to (`POST /escalations/{id}/ack`;
the API refuses anyone else, and its sentence is shown)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from starlette.status import HTTP_200_OK, HTTP_303_SEE_OTHER, HTTP_403_FORBIDDEN

from app.desk.api import Answer, DeskApi
from app.desk.i18n import language, translator
from app.desk.pages import render
from app.desk.session import csrf_ok, desk_user
from shared.auth import Principal

router = APIRouter(include_in_schema=False)

# The board shows at most this many open escalations (the oldest first within a level).
BOARD_LIMIT = 500


def age_of(breached_at: str | datetime, now: datetime) -> str:
    """How long ago an escalation was raised: `3d 4h`, `5h 20m`, `12m`."""
    moment = datetime.fromisoformat(breached_at) if isinstance(breached_at, str) else breached_at
    minutes = max(int((now - moment).total_seconds() // 60), 0)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    return f"{hours}h {mins}m" if hours else f"{mins}m"


def may_ack(user: Principal, escalation: dict[str, Any]) -> bool:
    """Whether the user holds the role the escalation was raised to (admin always may)."""
    return bool(user.roles & {escalation.get("role"), "admin"})


async def _board(
    request: Request,
    user: Principal,
    *,
    order_no: str,
    role: str,
    status_code: int = HTTP_200_OK,
    refused: Answer | None = None,
    acked: int | None = None,
) -> Response:
    answer = await DeskApi(request).get(
        "/escalations", state="open", order_no=order_no, role=role, limit=BOARD_LIMIT
    )
    now = datetime.now(UTC)
    rows = list(answer.body) if answer.ok else []
    levels: dict[int, list[dict[str, Any]]] = {}
    for row in sorted(rows, key=lambda e: str(e["breached_at"])):
        levels.setdefault(int(row["level"]), []).append(
            {**row, "age": age_of(row["breached_at"], now), "may_ack": may_ack(user, row)}
        )
    return render(
        request,
        "escalations.html",
        user=user,
        status_code=status_code if answer.ok else answer.status,
        levels=sorted(levels.items(), reverse=True),
        total=len(rows),
        filters={"order_no": order_no, "role": role},
        error=(refused.detail if refused else None) or (None if answer.ok else answer.detail),
        acked=acked,
    )


@router.get("/escalations")
async def escalations_board(request: Request, order_no: str = "", role: str = "") -> Response:
    """Open escalations, the highest level first, the oldest first within a level."""
    user = desk_user(request)
    acked = request.query_params.get("acked")
    return await _board(
        request,
        user,
        order_no=order_no,
        role=role,
        acked=int(acked) if acked and acked.isdigit() else None,
    )


@router.post("/escalations/{escalation_id}/ack")
async def acknowledge(
    request: Request,
    escalation_id: int,
    csrf: Annotated[str, Form()] = "",
    order_no: Annotated[str, Form()] = "",
    role: Annotated[str, Form()] = "",
) -> Response:
    """Acknowledge one escalation as the signed-in user; the board again, with the API's
    sentence when it refused."""
    user = desk_user(request)
    if not csrf_ok(request, csrf):
        t = translator(language(request))
        return render(
            request,
            "message.html",
            user=user,
            status_code=HTTP_403_FORBIDDEN,
            message=t("error.csrf"),
        )
    answer = await DeskApi(request).post(f"/escalations/{escalation_id}/ack", {})
    if answer.ok:
        kept = {k: v for k, v in (("order_no", order_no), ("role", role)) if v}
        target = f"/desk/escalations?{urlencode({'acked': escalation_id, **kept})}"
        return RedirectResponse(target, status_code=HTTP_303_SEE_OTHER)
    return await _board(
        request, user, order_no=order_no, role=role, status_code=answer.status, refused=answer
    )
