"""E-mail: one letter per delivery through the channel's SMTP server (aiosmtplib).

Subject is the title; the body is plain text with an HTML alternative. The Message-ID is made
from the delivery id, the same on every attempt, so a letter sent again is recognisable as the
same one. An SMTP 4xx reply (421 busy, 450/451/452 try later) asks to wait and send again; a
5xx reply is a refusal; both name the reply code. The password is never part of an error.
"""

from __future__ import annotations

import re
from email.message import EmailMessage
from email.utils import formatdate
from html import escape

import aiosmtplib
import httpx

from shared.channels.model import Channel, Message, SendResult
from shared.channels.platforms.common import exception_failure, failure, plain_text

PLATFORM = "e-mail"
_ID_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


def message_id(delivery_id: str, mail_from: str) -> str:
    """The letter's Message-ID: the delivery id at the sender's domain."""
    domain = mail_from.rpartition("@")[2].strip(" >") or "orderflow"
    return f"<{_ID_UNSAFE.sub('-', delivery_id)}@{_ID_UNSAFE.sub('-', domain)}>"


def html_of(message: Message) -> str:
    """The HTML alternative: the title as a heading, the lines as paragraphs, the links."""
    lang = "zh-CN" if message.lang == "zh" else "en"
    parts = [f'<html lang="{lang}"><body>', f"<h2>{escape(message.title)}</h2>"]
    parts.extend(f"<p>{escape(line)}</p>" for line in message.lines)
    if message.links:
        links = " | ".join(
            f'<a href="{escape(link.url, quote=True)}">{escape(link.label)}</a>'
            for link in message.links
        )
        parts.append(f"<p>{links}</p>")
    parts.append("</body></html>")
    return "\n".join(parts)


def letter(channel: Channel, message: Message, *, delivery_id: str, attempt: int) -> EmailMessage:
    """The letter of one attempt."""
    mail = EmailMessage()
    mail["Subject"] = message.title
    mail["From"] = channel.mail_from
    mail["To"] = ", ".join(channel.mail_to)
    mail["Date"] = formatdate(usegmt=True)
    mail["Message-ID"] = message_id(delivery_id, channel.mail_from)
    mail["X-Orderflow-Delivery"] = str(attempt)
    if message.event:
        mail["X-Orderflow-Event"] = message.event
    mail.set_content(plain_text(message))
    mail.add_alternative(html_of(message), subtype="html")
    return mail


def reply_failure(channel: Channel, exc: aiosmtplib.SMTPResponseException) -> SendResult:
    """An SMTP reply that refused the letter: 4xx is transient (wait and send again)."""
    words = " ".join(str(exc.message).split())[:200]
    transient = 400 <= exc.code < 500
    kind = "deferred" if transient else "refused"
    return failure(
        channel,
        f"the SMTP server {kind} the letter: {exc.code} {words}".rstrip(),
        code=str(exc.code),
        rate_limited=transient,
    )


async def send(
    channel: Channel,
    message: Message,
    *,
    delivery_id: str,
    attempt: int,
    client: httpx.AsyncClient,
    timeout: float,  # noqa: ASYNC109  (per request: httpx or SMTP applies it)
) -> SendResult:
    """Send the letter to every recipient (the HTTP client is not used)."""
    mail = letter(channel, message, delivery_id=delivery_id, attempt=attempt)
    try:
        await aiosmtplib.send(
            mail,
            hostname=channel.smtp_host,
            port=channel.smtp_port,
            username=channel.smtp_username or None,
            password=channel.smtp_password or None,
            use_tls=channel.smtp_security == "tls",
            start_tls=channel.smtp_security == "starttls",
            timeout=timeout,
        )
    except aiosmtplib.SMTPRecipientsRefused as exc:
        if exc.recipients:
            return reply_failure(channel, exc.recipients[0])
        return exception_failure(channel, PLATFORM, exc)
    except aiosmtplib.SMTPResponseException as exc:
        return reply_failure(channel, exc)
    except (aiosmtplib.SMTPException, OSError, ValueError) as exc:
        return exception_failure(channel, PLATFORM, exc)
    return SendResult(ok=True)
