"""FastAPI dependencies as typed aliases: the session, the Temporal client, the caller."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from temporalio.client import Client

from shared.auth import Principal, TokenVerifier, known_roles_required
from shared.db import session_factory
from shared.errors import invalid
from shared.periods import InvalidPeriod, Period, PeriodKind, parse_period
from shared.settings import Settings
from shared.working_time.store import CalendarSource


async def _settings(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


async def _engine(request: Request) -> AsyncEngine:
    return request.app.state.engine  # type: ignore[no-any-return]


async def _calendar(request: Request) -> CalendarSource:
    return request.app.state.calendar  # type: ignore[no-any-return]


async def _temporal(request: Request) -> Client:
    return request.app.state.temporal  # type: ignore[no-any-return]


async def _session(engine: Annotated[AsyncEngine, Depends(_engine)]) -> AsyncIterator[AsyncSession]:
    async with session_factory(engine)() as session:
        yield session


# Declares the bearer scheme in the OpenAPI document (the Authorize button of /docs); it does
# not refuse by itself, so a missing or malformed header gets the verifier's own 401 sentence.
_bearer = HTTPBearer(auto_error=False, description="a JWT: `orderflow token` or the IdP's")


async def _principal(
    request: Request,
    _: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    verifier: TokenVerifier = request.app.state.verifier
    header = request.headers.get("authorization")
    # An identity provider's key set may have to be fetched (PyJWT's client is blocking): in a
    # worker thread then. A token checked with the plant's own key is a little CPU, done here
    # (FastAPI would run a plain function in a thread for every request).
    if verifier.fetches_keys:
        principal = await run_in_threadpool(verifier.verify, header)
    else:
        principal = verifier.verify(header)
    return known_roles_required(principal)


SettingsDep = Annotated[Settings, Depends(_settings)]
EngineDep = Annotated[AsyncEngine, Depends(_engine)]
SessionDep = Annotated[AsyncSession, Depends(_session)]
TemporalDep = Annotated[Client, Depends(_temporal)]
CalendarDep = Annotated[CalendarSource, Depends(_calendar)]
CurrentUser = Annotated[Principal, Depends(_principal)]
WeekQuery = Annotated[str | None, Query(description="ISO week, e.g. 2026-W48")]
MonthQuery = Annotated[str | None, Query(description="month, e.g. 2026-11")]


def period_of(kind: PeriodKind, text: str, zone: str) -> Period:
    """A `?week=` or `?month=` label as a Period cut at local midnights in `zone` (the plant's
    `settings.timezone`); 422 `invalid_period` when it is not one."""
    try:
        return parse_period(kind, text, zone)
    except InvalidPeriod as exc:
        raise invalid("invalid_period", str(exc)) from None
