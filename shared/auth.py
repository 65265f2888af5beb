"""Who may call: JWT bearer tokens with `sub` and `roles`, checked on every route."""

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
KNOWN_ROLES = frozenset(
    {*DEPARTMENTS, *(f"head:{d}" for d in DEPARTMENTS), "division", "ops", "admin"}
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
    """Checks bearer tokens: HS256 with the configured or dev key, or RS256 from a JWKS URL."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    @cached_property
    def _jwks(self) -> jwt.PyJWKClient:
        return jwt.PyJWKClient(self._settings.jwks_url, cache_keys=True)

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
        sub, roles = claims.get("sub"), claims.get("roles", [])
        if not isinstance(sub, str) or not sub:
            raise unauthorized("the token has no 'sub' claim")
        if isinstance(roles, str):
            roles = [r for r in roles.split(",") if r]
        if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
            raise unauthorized("the token's 'roles' claim must be a list of role names")
        return Principal(sub=sub, roles=frozenset(roles))

    def _decode(self, token: str) -> dict[str, Any]:
        options: jwt.types.Options = {"require": ["sub"]}
        if self._settings.jwks_url:
            key = self._jwks.get_signing_key_from_jwt(token).key
            return jwt.decode(token, key, algorithms=["RS256", "ES256"], options=options)
        return jwt.decode(
            token, self._key, algorithms=[self._settings.jwt_algorithm], options=options
        )


def mint_token(
    settings: Settings, *, sub: str, roles: list[str], ttl_seconds: int = 30 * 24 * 3600
) -> str:
    """A token signed with the configured or local dev key."""
    unknown = sorted(set(roles) - KNOWN_ROLES)
    if unknown:
        raise ValueError(f"unknown role(s) {', '.join(unknown)}; known: {sorted(KNOWN_ROLES)}")
    now = int(time.time())
    claims = {"sub": sub, "roles": roles, "iat": now, "exp": now + ttl_seconds}
    return jwt.encode(claims, settings.signing_key(), algorithm=settings.jwt_algorithm)
