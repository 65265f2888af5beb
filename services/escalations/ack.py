"""One-click acknowledge links (`/escalations/ack/{token}`): the link a bot message carries.

The signed token in the path is the credential (shared/channels/links.py); these routes take
no bearer token. `GET` only shows the escalation and a button, and changes nothing (chat apps
fetch links for their previews); the button `POST`s to the same URL, which acknowledges the
escalation as the link's role, once. Browsers get HTML pages in Chinese or English; a client
whose `Accept` prefers JSON gets `EscalationPublic` and the API's `{error, detail}` errors,
with the same codes. The token is kept out of logs and spans.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from opentelemetry import trace

from services.escalations.ack_text import TEXT, refusal_sentence
from shared.channels.links import (
    ACK_LINK_EXPIRED,
    ACK_PATH,
    AckClaim,
    AckLinkError,
    order_url,
    read_ack_token,
)
from shared.channels.model import Lang
from shared.channels.texts import escalation_kind_text, role_text
from shared.deps import SessionDep
from shared.errors import APIError
from shared.escalations.ack_links import (
    ACK_LINK_USED,
    ALREADY_ACKED,
    WRONG_ROLE,
    acknowledge_by_link,
    check_open,
    use_of,
    used_error,
)
from shared.escalations.models import Escalation
from shared.escalations.schemas import EscalationPublic
from shared.settings import Settings

log = logging.getLogger("orderflow.api")

router = APIRouter(prefix=ACK_PATH, include_in_schema=False)

_PAGES = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
)
# Whatever follows the ack path up to a query or a space: the token, in any logged text.
_TOKEN_IN_TEXT = re.compile(re.escape(ACK_PATH) + r"/[^\s?\"']+")
_REDACTED = f"{ACK_PATH}/***"
_PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
}


def page_language(request: Request, lang: str | None) -> str:
    """`lang` when it is zh or en, else the best of zh and en in Accept-Language, else zh."""
    if lang in ("zh", "en"):
        return lang
    best, best_q = "zh", 0.0
    for item in request.headers.get("accept-language", "").split(","):
        tag, _, params = item.strip().partition(";")
        primary = tag.strip().lower().split("-", 1)[0]
        if primary not in ("zh", "en"):
            continue
        q = _quality(params)
        if q > best_q:
            best, best_q = primary, q
    return best


def _quality(params: str) -> float:
    for param in params.split(";"):
        name, _, value = param.strip().partition("=")
        if name.strip() == "q":
            try:
                return float(value)
            except ValueError:
                return 0.0
    return 1.0


def wants_json(request: Request) -> bool:
    """Whether the request's Accept prefers application/json over text/html."""

    def quality(kind: str, accepted: list[tuple[str, float]]) -> float:
        major = kind.split("/", 1)[0]
        for pattern in (kind, f"{major}/*", "*/*"):  # the most specific match decides
            found = [q for media, q in accepted if media == pattern]
            if found:
                return max(found)
        return 0.0

    accepted = []
    for item in request.headers.get("accept", "").split(","):
        media, _, params = item.strip().partition(";")
        if media.strip():
            accepted.append((media.strip().lower(), _quality(params)))
    return quality("application/json", accepted) > quality("text/html", accepted)


def _settings(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


def _hide_token(request: Request) -> None:
    """Put the path without its token in the request's span (the instrumentation recorded
    the raw path): the token must not reach the trace backend."""
    span = trace.get_current_span()
    recorded = getattr(span, "attributes", None) or {}
    for name in ("http.target", "http.url", "url.path", "url.full"):
        value = recorded.get(name)
        if isinstance(value, str):
            span.set_attribute(name, _TOKEN_IN_TEXT.sub(_REDACTED, value))


def _client(request: Request) -> str:
    """Who used a link, as far as the gateway can tell: the client's address."""
    host = request.client.host if request.client else "unknown"
    return f"client {host}"


def _local(instant: datetime | None, zone: str) -> str:
    if instant is None:
        return "—"
    return f"{instant.astimezone(ZoneInfo(zone)):%Y-%m-%d %H:%M} ({zone})"


def _lang(lang: str) -> Lang:
    return "en" if lang == "en" else "zh"


def _facts(
    settings: Settings, escalation: Escalation, t: dict[str, str], lang: Lang
) -> list[tuple[str, str, str | None]]:
    """The escalation's facts as rows of (label, value, link), the message first; its kind
    and role in words, as the chat message said them."""
    zone = settings.timezone
    rows: list[tuple[str, str, str | None]] = [
        (t["message"], escalation.message, None),
        (t["order"], escalation.order_no, order_url(settings, escalation.order_no)),
        (t["kind"], escalation_kind_text(escalation.kind, lang), None),
        (t["level"], str(escalation.level), None),
        (t["role"], role_text(escalation.role, lang), None),
        (t["due"], _local(escalation.due_at, zone), None),
        (t["breached"], _local(escalation.breached_at, zone), None),
    ]
    if escalation.task_id:
        rows.insert(3, (t["task"], escalation.task_id, None))
    if escalation.acked_at is not None:
        rows.append((t["acked_by"], escalation.acked_by or "—", None))
        rows.append((t["acked_at"], _local(escalation.acked_at, zone), None))
    return rows


def _page(
    request: Request,
    lang: str,
    *,
    status: int = 200,
    escalation: Escalation | None = None,
    notice: str | None = None,
    error: str | None = None,
    claim: AckClaim | None = None,
) -> HTMLResponse:
    """The page: the escalation's facts, a notice or an error, and the button when `claim`
    may still acknowledge it."""
    settings = _settings(request)
    t = TEXT[lang]
    html = _PAGES.get_template("ack.html").render(
        lang=lang,
        t=t,
        notice=notice,
        error=error,
        facts=_facts(settings, escalation, t, _lang(lang)) if escalation is not None else [],
        confirm=t["confirm"].format(role=role_text(claim.role, _lang(lang)))
        if claim is not None
        else None,
        expires=_local(claim.expires_at, settings.timezone) if claim is not None else "",
    )
    return HTMLResponse(html, status_code=status, headers=_PAGE_HEADERS)


def _refused(
    request: Request, lang: str, exc: APIError, escalation: Escalation | None = None
) -> Response:
    """A refusal: the API's JSON error for a JSON client, else the page saying it plainly."""
    if wants_json(request):
        raise exc  # the app's handler gives it the {error, detail, request_id} shape
    sentence = refusal_sentence(lang, exc, _settings(request).timezone)
    return _page(request, lang, status=exc.status, escalation=escalation, error=sentence)


def _link_refusal(exc: AckLinkError) -> APIError:
    status = 410 if exc.code == ACK_LINK_EXPIRED else 403
    extra: dict[str, Any] = {}
    if exc.expires_at is not None:
        extra["expires_at"] = exc.expires_at.isoformat()
    return APIError(status, exc.code, exc.message, extra=extra)


def _public(escalation: Escalation) -> JSONResponse:
    body = EscalationPublic.model_validate(escalation, from_attributes=True)
    return JSONResponse(body.model_dump(mode="json"), headers={"Cache-Control": "no-store"})


@router.get("/{token}")
async def ack_page(
    token: str, request: Request, session: SessionDep, lang: str | None = None
) -> Response:
    """The escalation and a button acknowledging it as the link's role; changes nothing."""
    _hide_token(request)
    lang = page_language(request, lang)
    try:
        claim = read_ack_token(_settings(request), token, now=datetime.now(UTC))
    except AckLinkError as exc:
        return _refused(request, lang, _link_refusal(exc))
    escalation = await session.get(Escalation, claim.escalation_id)
    use = await use_of(session, claim.nonce)
    if use is not None:
        return _refused(request, lang, used_error(use), escalation)
    try:
        open_one = check_open(claim, escalation)
    except APIError as exc:
        return _refused(request, lang, exc, escalation)
    if wants_json(request):
        return _public(open_one)
    return _page(request, lang, escalation=open_one, claim=claim)


@router.post("/{token}")
async def ack_by_link(
    token: str, request: Request, session: SessionDep, lang: str | None = None
) -> Response:
    """Acknowledge the escalation as the link's role, once; the link is used only when the
    acknowledgement is made."""
    _hide_token(request)
    lang = page_language(request, lang)
    try:
        claim = read_ack_token(_settings(request), token, now=datetime.now(UTC))
    except AckLinkError as exc:
        return _refused(request, lang, _link_refusal(exc))
    try:
        acked = await acknowledge_by_link(
            session, claim, used_by=_client(request), at=datetime.now(UTC)
        )
    except APIError as exc:
        if exc.error in (ACK_LINK_USED, WRONG_ROLE, ALREADY_ACKED):
            escalation = await session.get(Escalation, claim.escalation_id)
            return _refused(request, lang, exc, escalation)
        return _refused(request, lang, exc)
    log.info(
        "escalation %s acknowledged as %s by a one-click link in %s",
        acked.id,
        claim.role,
        claim.channel,
    )
    if wants_json(request):
        return _public(acked)
    notice = TEXT[lang]["done"].format(role=role_text(claim.role, _lang(lang)))
    return _page(request, lang, escalation=acked, notice=notice)


class _HideAckTokens(logging.Filter):
    """Replaces an acknowledge link's token in a log record (uvicorn's access log writes the
    request's path) with `***`."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str) and ACK_PATH in record.msg:
            record.msg = _TOKEN_IN_TEXT.sub(_REDACTED, record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(
                _TOKEN_IN_TEXT.sub(_REDACTED, arg) if isinstance(arg, str) else arg
                for arg in record.args
            )
        return True


def hide_ack_tokens_in_logs() -> None:
    """Filter acknowledge tokens out of the access log and the API's own log (safe to call
    again: the filter is added once per logger)."""
    for name in ("uvicorn.access", "uvicorn.error", "orderflow.api"):
        logger = logging.getLogger(name)
        if not any(isinstance(existing, _HideAckTokens) for existing in logger.filters):
            logger.addFilter(_HideAckTokens())
