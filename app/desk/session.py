"""Who is at the desk: the token in an HttpOnly, SameSite=Strict cookie (verified as the API
verifies bearer tokens), and the CSRF token every state-changing form carries.

CSRF: a random token in its own cookie, repeated in each form's hidden `csrf` field (double
submit); a POST whose field does not match the cookie is refused. SameSite=Strict keeps both
cookies off cross-site requests as well.
"""

from __future__ import annotations

import hmac
import secrets

from fastapi import Request
from fastapi.responses import Response
from starlette.exceptions import HTTPException

from shared.auth import Principal, TokenVerifier
from shared.errors import APIError

TOKEN_COOKIE = "orderflow_desk"
CSRF_COOKIE = "orderflow_csrf"
COOKIE_PATH = "/desk"


class SignInNeeded(Exception):
    """The desk has no valid token for this browser: the sign-in page answers instead."""


def desk_token(request: Request) -> str | None:
    return request.cookies.get(TOKEN_COOKIE)


def desk_user(request: Request) -> Principal:
    """The signed-in user, or SignInNeeded (no cookie, or a token the API would refuse)."""
    token = desk_token(request)
    if not token:
        raise SignInNeeded
    verifier: TokenVerifier = request.app.state.verifier
    try:
        return verifier.verify(f"Bearer {token}")
    except (APIError, HTTPException) as exc:
        raise SignInNeeded from exc


def set_token(response: Response, token: str, *, secure: bool) -> None:
    """Keep the token for the desk: HttpOnly (no script reads it), SameSite=Strict."""
    response.set_cookie(
        TOKEN_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=secure,
        path=COOKIE_PATH,
        max_age=12 * 3600,
    )


def clear_token(response: Response) -> None:
    response.delete_cookie(TOKEN_COOKIE, path=COOKIE_PATH)


def csrf_token(request: Request, response: Response | None = None) -> str:
    """This browser's CSRF token (made, and set on `response`, when it has none yet)."""
    token = request.cookies.get(CSRF_COOKIE) or getattr(request.state, "csrf", None)
    if not token:
        token = secrets.token_urlsafe(24)
        request.state.csrf = token
    if response is not None and request.cookies.get(CSRF_COOKIE) != token:
        response.set_cookie(CSRF_COOKIE, token, httponly=True, samesite="strict", path=COOKIE_PATH)
    return str(token)


def csrf_ok(request: Request, submitted: str | None) -> bool:
    """Whether a form's `csrf` field matches this browser's CSRF cookie."""
    expected = request.cookies.get(CSRF_COOKIE)
    return bool(expected and submitted) and hmac.compare_digest(str(expected), str(submitted))
