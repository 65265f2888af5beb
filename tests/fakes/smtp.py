"""A real SMTP server for the e-mail channel's tests: aiosmtpd on 127.0.0.1 at a free port,
collecting each letter; it can require a login (AUTH over plain text, as tests have no TLS)
and be told to refuse the next letters with a reply code (4xx: try later, 5xx: refused).
"""

from __future__ import annotations

import asyncio
import email
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import default
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from shared.channels.model import Channel, Lang
from tests.conftest import free_port


@dataclass(frozen=True)
class Letter:
    """One letter the server took: the envelope and the parsed message."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    message: EmailMessage
    login: str | None


class SmtpFake:
    """Collects letters in `letters`; `fail_next(n, code, text)` refuses the next n."""

    def __init__(self, *, username: str | None = None, password: str | None = None) -> None:
        self.username, self.password = username, password
        self.letters: list[Letter] = []
        self.failed_logins = 0
        self._failures: deque[tuple[int, str]] = deque()
        self.host, self.port = "127.0.0.1", 0

    def fail_next(
        self, count: int = 1, code: int = 451, text: str = "4.3.0 try again later"
    ) -> None:
        self._failures.extend([(code, text)] * count)

    def channel(
        self, *, name: str = "mail", lang: Lang = "zh", password: str | None = None, **kw: Any
    ) -> Channel:
        """The e-mail channel sending here (with this server's login, or `password`)."""
        return Channel(
            name,
            "email",
            lang,
            smtp_host=self.host,
            smtp_port=self.port,
            smtp_security="none",
            smtp_username=self.username or "",
            smtp_password=password if password is not None else self.password or "",
            mail_from=kw.pop("mail_from", "orderflow@plant.example"),
            mail_to=kw.pop("mail_to", ("quality-head@plant.example",)),
            **kw,
        )

    # aiosmtpd's hooks (run in the controller's thread).

    def authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        if isinstance(data, LoginPassword) and (
            data.login.decode() == self.username and data.password.decode() == self.password
        ):
            return AuthResult(success=True, auth_data=data.login.decode())
        self.failed_logins += 1
        return AuthResult(success=False, handled=False)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self._failures:
            code, text = self._failures.popleft()
            return f"{code} {text}"
        content = envelope.content
        raw = content if isinstance(content, bytes) else str(content).encode()
        message = email.message_from_bytes(raw, policy=default)
        assert isinstance(message, EmailMessage)
        login = session.auth_data if isinstance(session.auth_data, str) else None
        self.letters.append(
            Letter(str(envelope.mail_from), tuple(envelope.rcpt_tos), message, login)
        )
        return "250 Message accepted for delivery"


@asynccontextmanager
async def smtp_server(
    *, username: str | None = None, password: str | None = None
) -> AsyncIterator[SmtpFake]:
    """An SMTP server on 127.0.0.1 (requiring that login when given) for one test."""
    fake = SmtpFake(username=username, password=password)
    fake.port = free_port()
    controller = Controller(
        fake,
        hostname=fake.host,
        port=fake.port,
        authenticator=fake.authenticate if username else None,
        auth_required=bool(username),
        auth_require_tls=False,
    )
    await asyncio.to_thread(controller.start)
    try:
        yield fake
    finally:
        await asyncio.to_thread(controller.stop)
