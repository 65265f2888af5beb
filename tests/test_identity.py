"""Identity (issue 11, item 1): tokens from a real identity provider (a local JWKS server with
RS256 and ES256 keys), the claims a token must carry, the algorithms each mode takes, the
roles a caller needs, and the secrets (never echoed, dev key files 0600 from the start)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm
from pydantic import ValidationError
from temporalio.testing import WorkflowEnvironment

from shared.auth import Principal, TokenVerifier, mint_token
from shared.errors import APIError
from shared.settings import Settings
from tests.conftest import Stack, run_stack, settings_for

AUDIENCE = "orderflow-api"
ISSUER = "https://idp.example.test/realms/factory"

# Roles an identity provider adds to every user that orderflow does not know.
IDP_ROLES = ["offline_access", "uma_authorization"]
# Routes any authenticated caller with a known role may read (API.md "any role").
ANY_ROLE_READS = [
    "/orders",
    "/orders/NO-SUCH-ORDER",
    "/planning/orders/NO-SUCH-ORDER/plan",
    "/warehouse/stock",
    "/escalations",
]


# A signing key of the identity provider: its private half signs, its public JWK is served.
@dataclass
class IdpKey:
    kid: str
    alg: str
    private: Any

    def jwk(self) -> dict[str, Any]:
        public = self.private.public_key()
        algorithm = RSAAlgorithm if self.alg.startswith("RS") else ECAlgorithm
        data: dict[str, Any] = algorithm.to_jwk(public, as_dict=True)
        return {**data, "kid": self.kid, "alg": self.alg, "use": "sig"}

    def public_pem(self) -> bytes:
        return self.private.public_key().public_bytes(  # type: ignore[no-any-return]
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def sign(self, claims: dict[str, Any]) -> str:
        return jwt.encode(claims, self.private, algorithm=self.alg, headers={"kid": self.kid})


def rsa_key(kid: str) -> IdpKey:
    return IdpKey(kid, "RS256", rsa.generate_private_key(public_exponent=65537, key_size=2048))


def ec_key(kid: str) -> IdpKey:
    return IdpKey(kid, "ES256", ec.generate_private_key(ec.SECP256R1()))


# A JWKS endpoint on 127.0.0.1: serves `keys` (replace them to rotate) and counts fetches.
@dataclass
class JwksServer:
    url: str = ""
    keys: list[IdpKey] = field(default_factory=list)
    fetches: int = 0


@pytest.fixture
def jwks() -> Iterator[JwksServer]:
    served = JwksServer(keys=[rsa_key("rsa-1"), ec_key("ec-1")])

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            served.fetches += 1
            body = json.dumps({"keys": [key.jwk() for key in served.keys]}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # quiet test output
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    served.url = f"http://127.0.0.1:{server.server_address[1]}/certs"
    yield served
    server.shutdown()
    server.server_close()


def idp_settings(jwks: JwksServer, **changes: Any) -> Settings:
    """Settings of a gateway behind the test identity provider (Keycloak-shaped claims)."""
    values: dict[str, Any] = {
        "env": "test",
        "jwks_url": jwks.url,
        "jwt_audience": AUDIENCE,
        "jwt_issuer": ISSUER,
        "jwt_roles_claim": "realm_access.roles",
        "jwt_subject_claim": "preferred_username",
        "jwks_refetch_seconds": 1,
        **changes,
    }
    return Settings(**values)


def idp_claims(**changes: Any) -> dict[str, Any]:
    """What Keycloak puts in an access token, roles under `realm_access.roles`."""
    now = int(time.time())
    claims = {
        "sub": str(uuid.uuid4()),
        "preferred_username": "quinn",
        "aud": AUDIENCE,
        "iss": ISSUER,
        "iat": now,
        "nbf": now,
        "exp": now + 300,
        "realm_access": {"roles": ["quality", *IDP_ROLES]},
        **changes,
    }
    return {k: v for k, v in claims.items() if v is not None}


def verify(verifier: TokenVerifier, token: str) -> Principal:
    return verifier.verify(f"Bearer {token}")


def refused(verifier: TokenVerifier, token: str) -> str:
    """The 401 sentence the verifier answers `token` with (fails if it accepts it)."""
    with pytest.raises(APIError) as caught:
        verifier.verify(f"Bearer {token}")
    assert caught.value.status == 401, caught.value.detail
    return caught.value.detail


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hs256_forged(claims: dict[str, Any], secret: bytes, kid: str) -> str:
    """An HS256 token MACed with `secret` (PyJWT itself refuses to use a PEM key for HS256)."""
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": kid}).encode())
    body = _b64(json.dumps(claims).encode())
    mac = hmac.new(secret, f"{header}.{body}".encode(), hashlib.sha256).digest()
    return f"{header}.{body}.{_b64(mac)}"


# -- JWKS mode ----------------------------------------------------------------------------------


@pytest.mark.parametrize("kid", ["rsa-1", "ec-1"])
def test_tokens_of_the_identity_provider_are_accepted_with_roles_and_subject_where_configured(
    jwks: JwksServer, kid: str
) -> None:
    verifier = TokenVerifier(idp_settings(jwks))
    (key,) = [k for k in jwks.keys if k.kid == kid]
    principal = verify(verifier, key.sign(idp_claims()))
    assert principal.sub == "quinn"
    assert principal.roles == {"quality", *IDP_ROLES}


def test_keys_are_cached_and_a_rotated_key_is_fetched_once(jwks: JwksServer) -> None:
    verifier = TokenVerifier(idp_settings(jwks))
    old = jwks.keys[0]
    for _ in range(3):
        verify(verifier, old.sign(idp_claims()))
    assert jwks.fetches == 1, "the key set is fetched once, then cached"

    new = rsa_key("rsa-2")
    jwks.keys = [new, jwks.keys[1]]  # the IdP rotates: rsa-1 is gone, rsa-2 signs
    time.sleep(1.1)  # past jwks_refetch_seconds since the first fetch
    assert verify(verifier, new.sign(idp_claims())).sub == "quinn"
    assert jwks.fetches == 2, "an unknown kid refetches the key set once"
    assert "rsa-1" in refused(verifier, old.sign(idp_claims()))

    # Made-up kids within jwks_refetch_seconds do not turn every request into a fetch.
    before = jwks.fetches
    for n in range(5):
        refused(verifier, rsa_key(f"made-up-{n}").sign(idp_claims()))
    assert jwks.fetches <= before + 1


@pytest.mark.parametrize(
    ("case", "changes", "says"),
    [
        ("wrong audience", {"aud": "another-app"}, "audience"),
        ("no audience", {"aud": None}, "aud"),
        ("wrong issuer", {"iss": "https://evil.example.test/"}, "issuer"),
        ("no issuer", {"iss": None}, "iss"),
        ("expired", {"exp": int(time.time()) - 3600}, "expired"),
        ("not yet valid", {"nbf": int(time.time()) + 3600}, "not yet valid"),
        ("no exp", {"exp": None}, "exp"),
        ("no subject claim", {"preferred_username": None}, "preferred_username"),
        ("roles not a list", {"realm_access": {"roles": {"quality": True}}}, "realm_access"),
    ],
)
def test_tokens_with_wrong_claims_are_refused(
    jwks: JwksServer, case: str, changes: dict[str, Any], says: str
) -> None:
    verifier = TokenVerifier(idp_settings(jwks))
    detail = refused(verifier, jwks.keys[0].sign(idp_claims(**changes)))
    assert says.lower() in detail.lower(), (case, detail)


def test_leeway_takes_clock_skew_and_no_more(jwks: JwksServer) -> None:
    verifier = TokenVerifier(idp_settings(jwks, jwt_leeway_seconds=30))
    key = jwks.keys[0]
    now = int(time.time())
    assert verify(verifier, key.sign(idp_claims(exp=now - 10))).sub == "quinn"
    assert verify(verifier, key.sign(idp_claims(nbf=now + 10))).sub == "quinn"
    refused(verifier, key.sign(idp_claims(exp=now - 60)))
    with pytest.raises(ValidationError, match="jwt_leeway_seconds"):
        idp_settings(jwks, jwt_leeway_seconds=301)


def test_alg_none_and_symmetric_tokens_are_refused_in_jwks_mode(jwks: JwksServer) -> None:
    verifier = TokenVerifier(idp_settings(jwks))
    key = jwks.keys[0]
    unsigned = jwt.encode(idp_claims(), None, algorithm="none", headers={"kid": key.kid})
    refused(verifier, unsigned)
    # HS/RS confusion: an HS256 token MACed with the IdP's public key, which anyone can fetch.
    forged = hs256_forged(idp_claims(), key.public_pem(), key.kid)
    assert "alg" in refused(verifier, forged)
    # An algorithm the key was not published for (ES256 key, token says RS256) is refused.
    mismatched = jwt.encode(
        idp_claims(), key.private, algorithm="RS256", headers={"kid": jwks.keys[1].kid}
    )
    refused(verifier, mismatched)


def test_key_mode_takes_only_hmac_tokens(jwks: JwksServer, tmp_path: Path) -> None:
    settings = Settings(env="test", home=tmp_path, jwt_key="k" * 32)
    verifier = TokenVerifier(settings)
    claims = {"sub": "sam", "roles": ["sales"], "exp": int(time.time()) + 60}
    assert verify(verifier, jwt.encode(claims, "k" * 32, algorithm="HS256")).sub == "sam"
    refused(verifier, jwks.keys[0].sign(claims))  # an RS256 token, whoever signed it
    refused(verifier, jwt.encode(claims, None, algorithm="none"))
    no_exp = jwt.encode({"sub": "sam", "roles": ["sales"]}, "k" * 32, algorithm="HS256")
    assert "exp" in refused(verifier, no_exp)


def test_minted_tokens_carry_the_configured_audience_issuer_and_claim_paths(
    tmp_path: Path,
) -> None:
    settings = Settings(
        env="test",
        home=tmp_path,
        jwt_audience=AUDIENCE,
        jwt_issuer=ISSUER,
        jwt_roles_claim="realm_access.roles",
        jwt_subject_claim="preferred_username",
    )
    token = mint_token(settings, sub="hana", roles=["head:sales"], ttl_seconds=60)
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["aud"] == AUDIENCE and claims["iss"] == ISSUER
    assert claims["realm_access"] == {"roles": ["head:sales"]}
    principal = verify(TokenVerifier(settings), token)
    assert principal == Principal(sub="hana", roles=frozenset({"head:sales"}))
    other = settings.model_copy(update={"jwt_audience": "another-app"})
    refused(TokenVerifier(other), token)


def test_a_roles_claim_whose_name_has_dots_is_read_whole(tmp_path: Path) -> None:
    settings = Settings(
        env="test", home=tmp_path, jwt_key="k" * 32, jwt_roles_claim="https://ex.test/roles"
    )
    claims = {"sub": "ann", "https://ex.test/roles": ["ops"], "exp": int(time.time()) + 60}
    principal = verify(TokenVerifier(settings), jwt.encode(claims, "k" * 32, algorithm="HS256"))
    assert principal.roles == {"ops"}


# -- over HTTP ----------------------------------------------------------------------------------


async def test_the_gateway_behind_an_identity_provider(
    jwks: JwksServer, base_settings: Settings, ts_env: WorkflowEnvironment
) -> None:
    idp = idp_settings(jwks)
    settings = settings_for(
        base_settings,
        jwks_url=idp.jwks_url,
        jwt_audience=idp.jwt_audience,
        jwt_issuer=idp.jwt_issuer,
        jwt_roles_claim=idp.jwt_roles_claim,
        jwt_subject_claim=idp.jwt_subject_claim,
        jwks_refetch_seconds=idp.jwks_refetch_seconds,
    )
    rsa_1, ec_1 = jwks.keys
    async with run_stack(settings, ts_env.client) as stack:
        http = stack.http

        def bearer(key: Any, **changes: Any) -> dict[str, str]:
            return {"Authorization": f"Bearer {key.sign(idp_claims(**changes))}"}

        for key in (rsa_1, ec_1):
            ok = await http.get("/orders", headers=bearer(key))
            assert ok.status_code == 200, ok.text
        # The role comes from realm_access.roles: quality may read its inbox, not sales'.
        assert (await http.get("/quality/tasks", headers=bearer(ec_1))).status_code == 200
        assert (await http.get("/sales/tasks", headers=bearer(ec_1))).status_code == 403

        for roles in ([], IDP_ROLES):
            for path in ANY_ROLE_READS:
                response = await http.get(
                    path, headers=bearer(rsa_1, realm_access={"roles": roles})
                )
                assert response.status_code == 403, (roles, path, response.text)
                body = response.json()
                assert body["error"] == "forbidden"
                assert "sales" in body["detail"] and "ops" in body["detail"], body

        for changes in ({"aud": "another-app"}, {"iss": "https://evil/"}, {"exp": None}):
            response = await http.get("/orders", headers=bearer(rsa_1, **changes))
            assert response.status_code == 401, (changes, response.text)
            assert response.json()["error"] == "unauthorized"
            assert response.headers["WWW-Authenticate"].startswith("Bearer")


async def test_openapi_declares_the_bearer_scheme_on_every_guarded_operation(
    stack: Stack,
) -> None:
    spec = (await stack.http.get("/openapi.json")).json()
    schemes = spec["components"]["securitySchemes"]
    assert schemes == {
        "HTTPBearer": {
            "type": "http",
            "scheme": "bearer",
            "description": schemes["HTTPBearer"]["description"],
        }
    }
    for path, methods in spec["paths"].items():
        for method, operation in methods.items():
            guarded = path != "/healthz"
            assert (operation.get("security") == [{"HTTPBearer": []}]) is guarded, (method, path)
            names = [p["name"].lower() for p in operation.get("parameters", [])]
            assert "authorization" not in names, (method, path)


async def test_an_empty_or_unknown_role_list_is_refused_on_every_read_for_any_role(
    stack: Stack,
) -> None:
    key = stack.settings.signing_key()
    for roles in ([], ["viewer"], IDP_ROLES):
        claims = {"sub": "nobody", "roles": roles, "exp": int(time.time()) + 60}
        headers = {"Authorization": f"Bearer {jwt.encode(claims, key, algorithm='HS256')}"}
        for path in ANY_ROLE_READS:
            response = await stack.http.get(path, headers=headers)
            assert response.status_code == 403, (roles, path, response.text)
            assert response.json()["error"] == "forbidden"
    allowed = await stack.http.get("/orders", headers=stack.token("dan", "division"))
    assert allowed.status_code == 200, allowed.text
