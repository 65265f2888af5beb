"""What every platform's sender shares: the POST itself, secret-free error sentences,
Retry-After, the answer of an HTTP POST, and a message as markdown or plain text."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import httpx

from shared.channels.model import Channel, Message, SendResult

# Path segments that are the platforms' own fixed words, not tokens: kept in error texts.
_PLAIN_SEGMENT = re.compile(r"[a-z][a-z-]{0,15}")
REDACTED = "***"
_SHORTEST_SECRET = 6
# What a POST raises when there is no answer (or the URL cannot be used): a failed send.
SEND_ERRORS: tuple[type[Exception], ...] = (
    httpx.HTTPError,
    httpx.InvalidURL,
    httpx.StreamError,
    ValueError,
    OSError,
)


JSON_HEADERS = {"Content-Type": "application/json; charset=utf-8"}


async def post(
    client: httpx.AsyncClient,
    channel: Channel,
    platform: str,
    *,
    content: bytes,
    headers: dict[str, str],
    timeout: float,  # noqa: ASYNC109  (per request: httpx applies it)
    url: str | None = None,
) -> httpx.Response | SendResult:
    """POST to the channel's URL (or `url`, e.g. one signed for this request): the answer, or
    the failed send, scrubbed, when there was none."""
    try:
        return await client.post(
            url or channel.url, content=content, headers=headers, timeout=timeout
        )
    except SEND_ERRORS as exc:
        return exception_failure(channel, platform, exc)


async def post_json(
    client: httpx.AsyncClient,
    channel: Channel,
    platform: str,
    body: object,
    *,
    timeout: float,  # noqa: ASYNC109  (per request: httpx applies it)
    url: str | None = None,
) -> httpx.Response | SendResult:
    """`post` of `body` as UTF-8 JSON (Chinese left as it is, as the chat platforms expect)."""
    content = json.dumps(body, ensure_ascii=False).encode()
    return await post(
        client, channel, platform, content=content, headers=JSON_HEADERS, timeout=timeout, url=url
    )


def secret_parts(channel: Channel) -> list[str]:
    """Everything of a channel that must not be shown, longest first: its URL, the URL's
    query values, user, password and path segments (tokens live there; the platforms' fixed
    words and bits under 6 characters are no secret), its secrets and its SMTP password."""
    parts: set[str] = {channel.url, *channel.secrets, channel.smtp_password}
    if channel.url:
        split = urlsplit(channel.url)
        found = [value for _, value in parse_qsl(split.query, keep_blank_values=True)]
        found += [split.password or "", split.username or "", split.query]
        for segment in split.path.split("/"):
            if not _PLAIN_SEGMENT.fullmatch(segment):
                found += [segment, unquote(segment)]
        parts.update(part for part in found if len(part) >= _SHORTEST_SECRET)
    return sorted((p for p in parts if p), key=len, reverse=True)


def scrub(text: str, channel: Channel) -> str:
    """`text` with every secret part of the channel replaced by `***`."""
    for part in secret_parts(channel):
        text = text.replace(part, REDACTED)
    return text


def failure(channel: Channel, sentence: str, **fields: Any) -> SendResult:
    """A failed send whose sentence has the channel's secrets scrubbed out."""
    return SendResult(ok=False, error=scrub(sentence, channel)[:500], **fields)


def exception_failure(channel: Channel, platform: str, exc: BaseException) -> SendResult:
    """A send that got no answer (connection refused, timeout, TLS): the exception's type and
    its text, without the URL (httpx puts it in some messages) or any secret."""
    detail = scrub(str(exc), channel).strip()
    sentence = f"{platform}: no answer ({type(exc).__name__}"
    sentence += f": {detail})" if detail else ")"
    return failure(channel, sentence)


def retry_after(response: httpx.Response) -> float | None:
    """The seconds a `Retry-After` header asks to wait (a number or an HTTP date)."""
    value = response.headers.get("retry-after", "").strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def short_body(response: httpx.Response, channel: Channel) -> str:
    """The start of an answer's body, on one line and scrubbed, for an error sentence."""
    text = " ".join(response.text.split())[:200]
    return scrub(text, channel)


def json_answer(response: httpx.Response) -> dict[str, Any] | None:
    """The answer's JSON object, or None when it is not one."""
    try:
        parsed = response.json()
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None


def http_failure(channel: Channel, platform: str, response: httpx.Response) -> SendResult:
    """A non-2xx answer: its status, a 429 as a rate limit (with Retry-After)."""
    status = response.status_code
    limited = status == 429
    body = short_body(response, channel)
    sentence = f"{platform} answered HTTP {status}" + (f": {body}" if body else "")
    return failure(
        channel,
        sentence,
        status=status,
        rate_limited=limited,
        retry_after=retry_after(response) if limited else None,
    )


def markdown_text(message: Message, *, heading: str = "### ", line_break: str = "\n\n") -> str:
    """The message as markdown: the title as a heading, each line, the links as links."""
    parts = [f"{heading}{message.title}" if heading else f"**{message.title}**"]
    parts.extend(message.lines)
    if message.links:
        parts.append(" | ".join(f"[{link.label}]({link.url})" for link in message.links))
    return line_break.join(parts)


def plain_text(message: Message) -> str:
    """The message as plain text: the title, each line, each link on its own line."""
    parts = [message.title, "", *message.lines]
    if message.links:
        parts.append("")
        parts.extend(f"{link.label}: {link.url}" for link in message.links)
    return "\n".join(parts) + "\n"


def truncate_utf8(text: str, limit: int, marker: str = "…") -> str:
    """`text` cut to at most `limit` UTF-8 bytes on a character boundary (with `marker`)."""
    encoded = text.encode()
    if len(encoded) <= limit:
        return text
    room = limit - len(marker.encode())
    return encoded[:room].decode("utf-8", errors="ignore") + marker


def coded_answer(
    channel: Channel,
    platform: str,
    response: httpx.Response,
    *,
    code_field: str,
    message_field: str,
    rate_limit_codes: frozenset[int],
    limit_wait: float | None = None,
) -> SendResult:
    """The answer of a platform that says HTTP 200 and puts its verdict in the body
    (`errcode`/`errmsg`, `code`/`msg`): 0 is delivered, a rate-limit code asks to wait
    `limit_wait` seconds, any other code is a failure naming it and the platform's words."""
    status = response.status_code
    answer = json_answer(response)
    if answer is None or code_field not in answer:
        if not 200 <= status < 300:
            return http_failure(channel, platform, response)
        body = short_body(response, channel)
        return failure(
            channel, f"{platform} answered without a {code_field}: {body}", status=status
        )
    code = answer[code_field]
    if code == 0 and 200 <= status < 300:
        return SendResult(ok=True, status=status, code="0")
    words = " ".join(str(answer.get(message_field, "")).split())[:200]
    sentence = f"{platform} refused the message: {code_field} {code}" + (
        f" ({words})" if words else ""
    )
    limited = isinstance(code, int) and code in rate_limit_codes
    return failure(
        channel,
        sentence,
        status=status,
        code=str(code),
        rate_limited=limited,
        retry_after=(retry_after(response) or limit_wait) if limited else None,
    )
