"""The desk's own routes: sign-in and sign-out, the language switch and the home page. The
department pages (inbox, task forms, orders, escalations, KPIs) are in their own modules."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from app.desk.i18n import LANG_COOKIE, LANGUAGES, language, translator
from app.desk.oidc import enabled as oidc_enabled
from app.desk.pages import render
from app.desk.session import (
    COOKIE_PATH,
    SignInNeeded,
    clear_token,
    csrf_ok,
    desk_user,
    set_token,
)
from shared.auth import KNOWN_ROLES, mint_token
from shared.errors import APIError

router = APIRouter(prefix="/desk", include_in_schema=False)


def _safe_next(target: str | None) -> str:
    """Only a path of the desk itself (no open redirect)."""
    if target and target.startswith("/desk") and "//" not in target and "\\" not in target:
        return target
    return "/desk"


def _csrf_refused(request: Request) -> Response:
    t = translator(language(request))
    return render(request, "message.html", status_code=403, message=t("error.csrf"))


@router.get("")
async def home(request: Request) -> Response:
    """The user's desks: one per department inbox their roles hold."""
    return render(request, "home.html", user=desk_user(request))


@router.get("/sign-in")
async def sign_in_page(request: Request, next: str | None = None) -> Response:
    """Pick a name and roles (development), or paste a token (any environment)."""
    settings = request.app.state.settings
    return render(
        request,
        "sign_in.html",
        next=_safe_next(next),
        dev=settings.env in ("dev", "test"),
        roles=sorted(KNOWN_ROLES),
        oidc=oidc_enabled(settings),
    )


@router.post("/sign-in")
async def sign_in(
    request: Request,
    csrf: Annotated[str, Form()] = "",
    name: Annotated[str, Form(max_length=128)] = "",
    roles: Annotated[list[str] | None, Form()] = None,
    token: Annotated[str, Form(max_length=8192)] = "",
    next: Annotated[str, Form()] = "/desk",
) -> Response:
    """Set the desk cookie: a pasted token (verified as the API verifies it), or in
    development a token minted for `name` with `roles`."""
    if not csrf_ok(request, csrf):
        return _csrf_refused(request)
    settings = request.app.state.settings
    t = translator(language(request))
    chosen = [r for r in roles or [] if r in KNOWN_ROLES]
    if token.strip():
        minted = token.strip()
        try:
            request.app.state.verifier.verify(f"Bearer {minted}")
        except APIError:
            return _sign_in_again(request, t("sign_in.bad_token"), next)
    elif settings.env in ("dev", "test") and name.strip() and chosen:
        minted = mint_token(settings, sub=name.strip(), roles=chosen, ttl_seconds=12 * 3600)
    else:
        return _sign_in_again(request, t("sign_in.need_name"), next)
    response = RedirectResponse(_safe_next(next), status_code=303)
    set_token(response, minted, secure=request.url.scheme == "https")
    return response


def _sign_in_again(request: Request, message: str, next: str) -> Response:
    settings = request.app.state.settings
    return render(
        request,
        "sign_in.html",
        status_code=422,
        next=_safe_next(next),
        dev=settings.env in ("dev", "test"),
        roles=sorted(KNOWN_ROLES),
        oidc=oidc_enabled(settings),
        message=message,
    )


@router.post("/sign-out")
async def sign_out(request: Request, csrf: Annotated[str, Form()] = "") -> Response:
    """Forget the token: the next page asks to sign in."""
    if not csrf_ok(request, csrf):
        return _csrf_refused(request)
    response = RedirectResponse("/desk/sign-in", status_code=303)
    clear_token(response)
    return response


@router.post("/language")
async def switch_language(
    request: Request,
    csrf: Annotated[str, Form()] = "",
    lang: Annotated[str, Form()] = "zh",
    next: Annotated[str, Form()] = "/desk",
) -> Response:
    """Remember the language the user chose (over the browser's)."""
    if not csrf_ok(request, csrf):
        return _csrf_refused(request)
    response = RedirectResponse(_safe_next(next), status_code=303)
    if lang in LANGUAGES:
        response.set_cookie(
            LANG_COOKIE, lang, samesite="strict", path=COOKIE_PATH, max_age=365 * 86400
        )
    return response


__all__ = ["SignInNeeded", "router"]
