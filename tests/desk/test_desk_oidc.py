"""Sign-in at the desk through the identity provider: OpenID Connect authorization code with
PKCE against a provider on 127.0.0.1 (discovery, authorize, token, keys). The desk keeps the
access token once it verifies as the API verifies tokens; a forged state or an answer for
another sign-in is refused with a sentence."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from app.desk.i18n import MESSAGES
from shared.settings import Settings
from tests.conftest import Stack, run_stack, settings_for
from tests.test_identity import AUDIENCE, ISSUER, IdpKey, idp_claims, rsa_key

CLIENT_ID = "orderflow-desk"


@dataclass
class Provider:
    """What the test provider saw and will answer."""

    url: str = ""
    key: IdpKey = field(default_factory=lambda: rsa_key("desk-1"))
    grants: dict[str, dict[str, str]] = field(default_factory=dict)
    redeemed: list[str] = field(default_factory=list)


@pytest.fixture
def provider() -> Iterator[Provider]:
    served = Provider()

    class Handler(BaseHTTPRequestHandler):
        def _json(self, status: int, body: Any) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            url = urlparse(self.path)
            if url.path == "/.well-known/openid-configuration":
                self._json(
                    200,
                    {
                        "issuer": served.url,
                        "authorization_endpoint": f"{served.url}/authorize",
                        "token_endpoint": f"{served.url}/token",
                        "jwks_uri": f"{served.url}/certs",
                    },
                )
            elif url.path == "/certs":
                self._json(200, {"keys": [served.key.jwk()]})
            elif url.path == "/authorize":
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                assert query["code_challenge_method"] == "S256"
                assert query["client_id"] == CLIENT_ID
                code = secrets.token_urlsafe(16)
                served.grants[code] = query
                back = (
                    f"{query['redirect_uri']}?{urlencode({'code': code, 'state': query['state']})}"
                )
                self.send_response(302)
                self.send_header("Location", back)
                self.end_headers()
            else:
                self._json(404, {"error": "not_found"})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            grant = served.grants.pop(form.get("code", ""), None)
            verifier = form.get("code_verifier", "").encode()
            challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier).digest()).rstrip(b"=")
            if grant is None or challenge.decode() != grant["code_challenge"]:
                self._json(400, {"error": "invalid_grant"})
                return
            served.redeemed.append(form["code"])
            now = int(time.time())
            id_token = served.key.sign(
                {
                    "iss": ISSUER,
                    "aud": CLIENT_ID,
                    "sub": "quinn",
                    "nonce": grant["nonce"],
                    "iat": now,
                    "exp": now + 300,
                }
            )
            self._json(
                200,
                {
                    "access_token": served.key.sign(idp_claims()),
                    "id_token": id_token,
                    "token_type": "Bearer",
                },
            )

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    served.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield served
    server.shutdown()
    server.server_close()


@pytest.fixture
async def idp_stack(
    base_settings: Settings, ts_env: WorkflowEnvironment, provider: Provider
) -> AsyncIterator[Stack]:
    settings = settings_for(
        base_settings,
        jwks_url=f"{provider.url}/certs",
        jwt_audience=AUDIENCE,
        jwt_issuer=ISSUER,
        jwt_roles_claim="realm_access.roles",
        jwt_subject_claim="preferred_username",
        oidc_issuer=provider.url,
        oidc_client_id=CLIENT_ID,
    )
    async with run_stack(settings, ts_env.client) as stack:
        yield stack


async def test_signing_in_through_the_provider_with_pkce(
    idp_stack: Stack, provider: Provider
) -> None:
    english = {"Accept-Language": "en"}
    async with httpx.AsyncClient(base_url=str(idp_stack.http.base_url), headers=english) as http:
        page = await http.get("/desk/sign-in")
        assert 'href="/desk/sign-in/oidc?next=' in page.text
        start = await http.get("/desk/sign-in/oidc", params={"next": "/desk"})
        assert start.status_code == 303 and start.headers["location"].startswith(provider.url)
        authorize = await http.get(start.headers["location"])
        assert authorize.status_code == 302
        back = await http.get(authorize.headers["location"])
        assert back.status_code == 200, back.text
        assert "orderflow_desk=" in back.headers["set-cookie"]
        assert len(provider.redeemed) == 1
        home = await http.get("/desk")
        assert home.status_code == 200 and "quinn" in home.text
        assert MESSAGES["en"]["dept.quality"] in home.text


async def test_a_forged_state_or_a_replayed_code_signs_nobody_in(
    idp_stack: Stack, provider: Provider
) -> None:
    async with httpx.AsyncClient(
        base_url=str(idp_stack.http.base_url), headers={"Accept-Language": "en"}
    ) as http:
        start = await http.get("/desk/sign-in/oidc")
        authorize = await http.get(start.headers["location"])
        callback = urlparse(authorize.headers["location"])
        query = {k: v[0] for k, v in parse_qs(callback.query).items()}
        forged = await http.get("/desk/sign-in/callback", params={**query, "state": "forged"})
        assert forged.status_code == 401
        assert "does not belong to this browser" in forged.text
        assert "orderflow_desk" not in http.cookies
        honest = await http.get("/desk/sign-in/callback", params=query)
        assert honest.status_code == 200
        replayed = await http.get("/desk/sign-in/callback", params=query)
        assert replayed.status_code == 401 and "Sign-in failed" in replayed.text
