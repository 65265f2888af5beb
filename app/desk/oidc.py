"""Sign-in at the desk through the plant's identity provider: OpenID Connect authorization code
flow with PKCE (RFC 7636, S256) for a public client.

`/desk/sign-in/oidc` sends the browser to the provider's authorization endpoint with a fresh
`state`, `nonce` and code challenge, kept (with the verifier) in a short-lived HttpOnly cookie
signed with the installation's actor key; `/desk/sign-in/callback` checks the state, redeems
the code with the verifier at the token endpoint (back channel), checks the ID token's nonce,
and keeps the access token as the desk's token once it verifies as the API verifies every
token (issuer, audience, signature by the provider's keys, roles claim).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from typing import Any

import httpx
import jwt
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.desk.i18n import language, translator
from app.desk.pages import render
from app.desk.session import COOKIE_PATH, set_token
from shared.errors import APIError
from shared.settings import Settings

router = APIRouter(prefix="/desk/sign-in", include_in_schema=False)

FLOW_COOKIE = "orderflow_oidc"
FLOW_SECONDS = 600
_DISCOVERY: dict[str, dict[str, Any]] = {}


class SignInFailed(Exception):
    """The provider's answer cannot sign anyone in; the sentence says why."""


def enabled(settings: Settings) -> bool:
    return bool(settings.oidc_issuer and settings.oidc_client_id)


async def discovery(settings: Settings) -> dict[str, Any]:
    """The provider's OpenID configuration (read once per process)."""
    issuer = settings.oidc_issuer.rstrip("/")
    if issuer not in _DISCOVERY:
        async with httpx.AsyncClient(timeout=10) as http:
            answer = await http.get(f"{issuer}/.well-known/openid-configuration")
        if answer.status_code != 200:
            raise SignInFailed(f"the identity provider {issuer} answered {answer.status_code}")
        _DISCOVERY[issuer] = answer.json()
    return _DISCOVERY[issuer]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _seal(settings: Settings, flow: dict[str, str]) -> str:
    body = _b64(json.dumps(flow, sort_keys=True).encode())
    mac = hmac.new(settings.actor_signing_key(), body.encode(), hashlib.sha256).digest()
    return f"{body}.{_b64(mac)}"


def _unseal(settings: Settings, sealed: str | None) -> dict[str, str]:
    body, _, mac = (sealed or "").partition(".")
    expected = _b64(hmac.new(settings.actor_signing_key(), body.encode(), hashlib.sha256).digest())
    if not body or not hmac.compare_digest(mac, expected):
        raise SignInFailed("the sign-in was started in another browser or has expired")
    flow: dict[str, str] = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    if float(flow["at"]) + FLOW_SECONDS < time.time():
        raise SignInFailed("the sign-in took too long; start it again")
    return flow


def _callback_url(request: Request) -> str:
    return str(request.url_for("oidc_callback"))


@router.get("/oidc")
async def oidc_start(request: Request, next: str = "/desk") -> Response:
    """Off to the identity provider, with PKCE."""
    settings: Settings = request.app.state.settings
    if not enabled(settings):
        return RedirectResponse("/desk/sign-in", status_code=303)
    try:
        config = await discovery(settings)
    except (SignInFailed, httpx.HTTPError) as exc:
        return _failed(request, str(exc))
    verifier = secrets.token_urlsafe(64)
    flow = {
        "state": secrets.token_urlsafe(24),
        "nonce": secrets.token_urlsafe(24),
        "verifier": verifier,
        "next": next if next.startswith("/desk") and "//" not in next else "/desk",
        "at": str(time.time()),
    }
    query = httpx.QueryParams(
        {
            "response_type": "code",
            "client_id": settings.oidc_client_id,
            "redirect_uri": _callback_url(request),
            "scope": settings.oidc_scope,
            "state": flow["state"],
            "nonce": flow["nonce"],
            "code_challenge": _b64(hashlib.sha256(verifier.encode()).digest()),
            "code_challenge_method": "S256",
        }
    )
    response = RedirectResponse(f"{config['authorization_endpoint']}?{query}", status_code=303)
    # Lax, not Strict: the provider's redirect back is a cross-site navigation.
    response.set_cookie(
        FLOW_COOKIE,
        _seal(settings, flow),
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path=COOKIE_PATH,
        max_age=FLOW_SECONDS,
    )
    return response


@router.get("/callback", name="oidc_callback")
async def oidc_callback(
    request: Request, code: str = "", state: str = "", error: str = ""
) -> Response:
    """Back from the provider: redeem the code, check the tokens, keep the access token."""
    settings: Settings = request.app.state.settings
    try:
        if error:
            raise SignInFailed(f"the identity provider refused the sign-in: {error[:200]}")
        flow = _unseal(settings, request.cookies.get(FLOW_COOKIE))
        if not state or not hmac.compare_digest(state, flow["state"]):
            raise SignInFailed("the sign-in answer does not belong to this browser's sign-in")
        token = await _redeem(request, settings, code, flow)
        request.app.state.verifier.verify(f"Bearer {token}")
    except APIError as exc:
        return _failed(request, f"the identity provider's token is not valid here: {exc}")
    except (SignInFailed, httpx.HTTPError, KeyError, ValueError) as exc:
        return _failed(request, str(exc))
    # A page of our own, then the desk: the cookie (SameSite=Strict) goes with same-site
    # navigations only, which the provider's redirect is not.
    target = flow["next"]
    response = HTMLResponse(
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="refresh" content="0;url={target}"><title>orderflow</title></head>'
        f'<body><a href="{target}">orderflow desk</a></body></html>'
    )
    set_token(response, token, secure=request.url.scheme == "https")
    response.delete_cookie(FLOW_COOKIE, path=COOKIE_PATH)
    return response


async def _redeem(request: Request, settings: Settings, code: str, flow: dict[str, str]) -> str:
    """The access token for `code` (PKCE verifier sent), after the ID token's nonce checks."""
    config = await discovery(settings)
    async with httpx.AsyncClient(timeout=10) as http:
        answer = await http.post(
            config["token_endpoint"],
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": _callback_url(request),
                "client_id": settings.oidc_client_id,
                "code_verifier": flow["verifier"],
            },
        )
    if answer.status_code != 200:
        raise SignInFailed(f"the identity provider refused the code: {answer.text[:200]}")
    tokens = answer.json()
    # The ID token came straight from the token endpoint over the back channel (OIDC Core
    # 3.1.3.7): its nonce ties it to this sign-in; the access token is verified in full.
    id_claims = jwt.decode(tokens["id_token"], options={"verify_signature": False})
    if id_claims.get("nonce") != flow["nonce"]:
        raise SignInFailed("the identity provider's answer is for another sign-in (nonce)")
    return str(tokens["access_token"])


def _failed(request: Request, why: str) -> Response:
    t = translator(language(request))
    return render(request, "message.html", status_code=401, message=f"{t('sign_in.failed')}: {why}")
