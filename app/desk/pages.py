"""What every desk page shares: the Jinja2 environment, rendering with the user's language and
CSRF token, the sign-in redirect and the 403 page that names the missing role."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from app.desk.i18n import language, local_time, translator
from app.desk.session import csrf_token
from shared.auth import FINANCE, Principal
from shared.settings import DEPARTMENTS

TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")
TEMPLATES.env.globals["DEPARTMENTS"] = DEPARTMENTS


def render(
    request: Request,
    template: str,
    *,
    user: Principal | None = None,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    """The page in the user's language, with the CSRF token its forms carry."""
    lang = language(request)
    zone = request.app.state.settings.timezone
    csrf = csrf_token(request)
    response = TEMPLATES.TemplateResponse(
        request,
        template,
        {
            "user": user,
            "lang": lang,
            "t": translator(lang),
            "when": lambda instant: local_time(instant, zone),
            "zone": zone,
            "csrf": csrf,
            "desk_departments": desks_of(user) if user else [],
            **context,
        },
        status_code=status_code,
    )
    response.headers["Cache-Control"] = "no-store"
    csrf_token(request, response)
    return response


def desks_of(user: Principal) -> list[str]:
    """The departments whose inbox the user works in (admin, ops and division see all;
    finance works in sales' inbox, where its order audits and collections land)."""
    if user.roles & {"admin", "ops", "division"}:
        return list(DEPARTMENTS)
    roles = user.roles | ({"sales"} if FINANCE in user.roles else set())
    return [dept for dept in DEPARTMENTS if dept in roles or f"head:{dept}" in roles]


def sign_in_redirect(request: Request) -> Response:
    """To the sign-in page, coming back here afterwards."""
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/desk/sign-in?next={target}", status_code=303)


def forbidden(request: Request, user: Principal, roles: list[str] | tuple[str, ...]) -> Response:
    """The 403 page: what the user tried needs one of `roles`, which they do not hold."""
    return render(request, "forbidden.html", user=user, status_code=403, roles=list(roles))
