"""The links a message carries: the order page and the one-click acknowledge link.

An acknowledge link is `<base>/escalations/ack/<token>`. The token is
`base64url(claims JSON) "." base64url(HMAC-SHA256(claims part))`: the claims name the
escalation (`e`), the role it may be acknowledged as (`r`), the channel the message went to
(`c`), the expiry in unix seconds (`x`) and a random nonce (`n`, 16 bytes hex) that makes the
link single-use (shared/escalations/ack_links.py records it when used). The MAC key is derived
from the actor key with HMAC(actor key, "orderflow ack link v1"), so the actor key itself signs
nothing but actor assertions. The token is the credential: it is never logged.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import quote, urlencode

from shared.bounds import PARAM_LEN
from shared.settings import Settings

ACK_PATH = "/escalations/ack"
ACK_LINK_INVALID, ACK_LINK_EXPIRED = "ack_link_invalid", "ack_link_expired"
_KEY_LABEL = b"orderflow ack link v1"
_B64 = re.compile(r"[A-Za-z0-9_-]+")
_NONCE = re.compile(r"[A-Za-z0-9_-]{16}")


class AckLinkError(Exception):
    """A token that is not a valid acknowledge link: `code` is `ack_link_invalid` (malformed,
    bad signature) or `ack_link_expired`; `message` a sentence without the token in it."""

    def __init__(self, code: str, message: str, *, expires_at: datetime | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        # When an expired link expired (None for an invalid one).
        self.expires_at = expires_at


@dataclass(frozen=True)
class AckClaim:
    """What a verified acknowledge link says."""

    escalation_id: int
    role: str
    channel: str
    expires_at: datetime
    nonce: str


def base_url(settings: Settings) -> str:
    """Where people open orderflow: `public_url` without its trailing slash, else this
    machine's gateway."""
    public = settings.public_url.strip().rstrip("/")
    return public or f"http://127.0.0.1:{settings.http_port}"


def order_url(settings: Settings, order_no: str) -> str:
    """The order's page: the desk's (`<desk_url>/orders/<order_no>`) when a desk URL is set,
    else the API's order view (`<base>/orders/<order_no>`)."""
    quoted = quote(order_no, safe="")
    desk = settings.desk_url.strip().rstrip("/")
    if desk:
        return f"{desk}/orders/{quoted}"
    return f"{base_url(settings)}/orders/{quoted}"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    if not _B64.fullmatch(text):
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _key(settings: Settings) -> bytes:
    return hmac.new(settings.actor_signing_key(), _KEY_LABEL, hashlib.sha256).digest()


def _mac(settings: Settings, claims_part: str) -> bytes:
    # 128 bits of HMAC-SHA256 (RFC 2104 §5 allows truncating to half): a short link that a
    # channel name and a role of 48 characters each still fit in one path segment.
    return hmac.new(_key(settings), claims_part.encode("ascii"), hashlib.sha256).digest()[:16]


def sign_claims(settings: Settings, claims: dict[str, object]) -> str:
    """A token carrying exactly `claims`, signed: what `ack_token` makes (tests sign their
    own claims with it to check what the reader refuses)."""
    body = json.dumps(claims, separators=(",", ":"), ensure_ascii=False).encode()
    part = _b64(body)
    return f"{part}.{_b64(_mac(settings, part))}"


def ack_token(
    settings: Settings, *, escalation_id: int, role: str, channel: str, now: datetime
) -> str:
    """A new single-use token acknowledging `escalation_id` as `role`, valid `ack_link_hours`
    from `now`. Raises ValueError when role and channel names are too long for a URL path
    segment (the gateway refuses segments over PARAM_LEN characters)."""
    expires = now + timedelta(hours=settings.ack_link_hours)
    claims: dict[str, object] = {
        "e": escalation_id,
        "r": role,
        "c": channel,
        "x": int(expires.timestamp()),
        "n": secrets.token_urlsafe(12),
    }
    token = sign_claims(settings, claims)
    if len(token) > PARAM_LEN:
        raise ValueError(
            f"an acknowledge link for role {role!r} in channel {channel!r} would be "
            f"{len(token)} characters long, over the {PARAM_LEN} a path segment may have: "
            "give the channel a shorter name"
        )
    return token


def ack_url(
    settings: Settings,
    *,
    escalation_id: int,
    role: str,
    channel: str,
    now: datetime,
    lang: str = "zh",
) -> str:
    """The one-click acknowledge link of an escalation for a message in `channel`, its page
    in `lang`: `<base>/escalations/ack/<token>?lang=<lang>`."""
    token = ack_token(settings, escalation_id=escalation_id, role=role, channel=channel, now=now)
    return f"{base_url(settings)}{ACK_PATH}/{token}?{urlencode({'lang': lang})}"


def _invalid(why: str) -> AckLinkError:
    return AckLinkError(ACK_LINK_INVALID, f"this acknowledge link is not valid: {why}")


def read_ack_token(settings: Settings, token: str, *, now: datetime) -> AckClaim:
    """The claims of a token this deployment signed, verified; AckLinkError when it is
    malformed, its signature does not match (compared in constant time) or it has expired."""
    claims_part, dot, mac_part = token.partition(".")
    if not dot or not claims_part or not mac_part:
        raise _invalid("it is not a link orderflow made (copy the whole link)")
    try:
        given = _unb64(mac_part)
    except (ValueError, binascii.Error):
        raise _invalid("it is not a link orderflow made (copy the whole link)") from None
    if not hmac.compare_digest(given, _mac(settings, claims_part)):
        raise _invalid("its signature does not match (changed or cut short)")
    try:
        claims = json.loads(_unb64(claims_part))
    except (ValueError, binascii.Error):
        raise _invalid("its content cannot be read") from None
    claim = _claim(claims)
    if claim is None:
        raise _invalid("its content is incomplete")
    if now >= claim.expires_at:
        raise AckLinkError(
            ACK_LINK_EXPIRED,
            f"this acknowledge link expired at {claim.expires_at:%Y-%m-%d %H:%M}Z; "
            "acknowledge the escalation in the desk or the API instead",
            expires_at=claim.expires_at,
        )
    return claim


def _claim(claims: object) -> AckClaim | None:
    """The claim of well-typed claims, None when a field is missing or of the wrong type."""
    if not isinstance(claims, dict):
        return None
    esc, role, channel = claims.get("e"), claims.get("r"), claims.get("c")
    expiry, nonce = claims.get("x"), claims.get("n")
    if not (isinstance(esc, int) and not isinstance(esc, bool) and esc > 0):
        return None
    if not (isinstance(role, str) and role and isinstance(channel, str)):
        return None
    if not (isinstance(expiry, int) and not isinstance(expiry, bool) and expiry > 0):
        return None
    if not (isinstance(nonce, str) and _NONCE.fullmatch(nonce)):
        return None
    try:
        expires_at = datetime.fromtimestamp(expiry, UTC)
    except (OverflowError, OSError, ValueError):
        return None
    return AckClaim(
        escalation_id=esc, role=role, channel=channel, expires_at=expires_at, nonce=nonce
    )
