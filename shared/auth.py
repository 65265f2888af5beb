"""Who may call: JWT bearer tokens with a subject and roles, checked on every route."""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import jwt

from shared.errors import forbidden, unauthorized
from shared.settings import DEPARTMENTS, Settings

READ_ALL = ("ops", "admin")
# Who may read the factory's figures (`/kpis`; plan reports also to every department head).
KPI_READERS: tuple[str, ...] = ("planning", "ops", "division")
# `finance` audits orders' payment terms and books money in (issue 16); a plant without a
# finance department gives that to `head:sales` (`ORDERFLOW_FINANCE_ROLE`).
FINANCE = "finance"
KNOWN_ROLES = frozenset(
    {*DEPARTMENTS, *(f"head:{d}" for d in DEPARTMENTS), FINANCE, "division", "ops", "admin"}
)


# The caller, as its token names it.
@dataclass(frozen=True)
class Principal:
    sub: str
    roles: frozenset[str]

    def has_any(self, roles: tuple[str, ...] | frozenset[str]) -> bool:
        return bool(self.roles & set(roles))

    def require(self, roles: tuple[str, ...], action: str) -> None:
        """Refuse with 403 unless the caller holds one of `roles` (admin always may)."""
        if not self.has_any((*roles, "admin")):
            raise forbidden(f"{action} needs one of the roles {', '.join(roles)}")


class TokenVerifier:
    """Checks bearer tokens: HS256/384/512 with the configured or dev key, or the asymmetric
    `jwks_algorithms` with an identity provider's keys from `jwks_url`; `exp` always, `aud` and
    `iss` when configured."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    @cached_property
    def _jwks(self) -> jwt.PyJWKClient:
        # The key set is cached for `jwks_cache_seconds`; a token naming an unknown `kid` (a
        # rotated key) refetches it, at most once per `jwks_refetch_seconds` so that tokens
        # with made-up kids cannot make every request a fetch.
        return jwt.PyJWKClient(
            self._settings.jwks_url,
            cache_jwk_set=True,
            lifespan=self._settings.jwks_cache_seconds,
            cooldown_duration=self._settings.jwks_refetch_seconds,
            timeout=5,
        )

    @property
    def fetches_keys(self) -> bool:
        """Whether `verify` may fetch an identity provider's key set (blocking I/O)."""
        return bool(self._settings.jwks_url)

    @cached_property
    def _key(self) -> str:
        return self._settings.signing_key()

    def verify(self, authorization: str | None) -> Principal:
        """The principal of an `Authorization: Bearer …` header, or 401."""
        if not authorization:
            raise unauthorized("send Authorization: Bearer <token>; mint one with orderflow token")
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise unauthorized("the Authorization header must be 'Bearer <token>'")
        try:
            claims = self._decode(token.strip())
        except jwt.ExpiredSignatureError as exc:
            raise unauthorized("the token has expired; mint a new one") from exc
        except (jwt.PyJWTError, ValueError) as exc:
            raise unauthorized(f"the token is not valid here: {exc}") from exc
        subject_claim = self._settings.jwt_subject_claim
        sub = claims.get(subject_claim)
        if not isinstance(sub, str) or not sub:
            raise unauthorized(f"the token has no '{subject_claim}' claim")
        roles_claim = self._settings.jwt_roles_claim
        roles = _claim_at(claims, roles_claim)
        if roles is None:
            roles = []
        if isinstance(roles, str):
            roles = [r for r in roles.split(",") if r]
        if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
            raise unauthorized(f"the token's '{roles_claim}' claim must be a list of role names")
        return Principal(sub=sub, roles=frozenset(roles))

    def _decode(self, token: str) -> dict[str, Any]:
        settings = self._settings
        options: jwt.types.Options = {"require": ["exp"]}
        checks: dict[str, Any] = {
            "options": options,
            "leeway": settings.jwt_leeway_seconds,
            "audience": settings.jwt_audience or None,
            "issuer": settings.jwt_issuer or None,
        }
        if settings.jwks_url:
            # The PyJWK carries its own algorithm: a token whose header names another one
            # (HS256 with the public key as secret) is refused by PyJWT before any check.
            key = self._jwks.get_signing_key_from_jwt(token)
            return jwt.decode(token, key, algorithms=settings.jwks_algorithms, **checks)
        return jwt.decode(token, self._key, algorithms=[settings.jwt_algorithm], **checks)


def _claim_at(claims: dict[str, Any], path: str) -> object:
    """The claim named `path` itself, else the value at its dotted path (`realm_access.roles`);
    None when there is none."""
    if path in claims:
        return claims[path]
    value: object = claims
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def known_roles_required(principal: Principal) -> Principal:
    """Refuse with 403 a caller none of whose roles orderflow knows (`roles: []`, or only an
    identity provider's other roles): every route needs at least one known role."""
    if not principal.roles & KNOWN_ROLES:
        held = ", ".join(sorted(principal.roles)) or "none"
        raise forbidden(
            "orderflow needs at least one of its roles: "
            f"{', '.join(sorted(KNOWN_ROLES))}; the token has {held}"
        )
    return principal


def mint_token(
    settings: Settings, *, sub: str, roles: list[str], ttl_seconds: int = 30 * 24 * 3600
) -> str:
    """A token signed with the configured or local dev key."""
    unknown = sorted(set(roles) - KNOWN_ROLES)
    if unknown:
        raise ValueError(f"unknown role(s) {', '.join(unknown)}; known: {sorted(KNOWN_ROLES)}")
    now = int(time.time())
    claims: dict[str, Any] = {"sub": sub, "iat": now, "exp": now + ttl_seconds}
    # Where the API reads them (`jwt_subject_claim`, `jwt_roles_claim` as a dotted path).
    claims[settings.jwt_subject_claim] = sub
    *parents, leaf = settings.jwt_roles_claim.split(".")
    holder = claims
    for part in parents:
        holder = holder.setdefault(part, {})
    holder[leaf] = roles
    # Minted tokens pass the API's own checks: its audience and issuer when it has them.
    if settings.jwt_audience:
        claims["aud"] = settings.jwt_audience
    if settings.jwt_issuer:
        claims["iss"] = settings.jwt_issuer
    return jwt.encode(claims, settings.signing_key(), algorithm=settings.jwt_algorithm)
