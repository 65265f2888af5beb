"""The pool checks a connection out without a round trip, yet replaces one that died while
idle (shared/db.py: no `pool_pre_ping`, a ping only after PING_AFTER_IDLE_SECONDS)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from shared import db


async def _backend(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        pid = await conn.scalar(text("SELECT pg_backend_pid()"))
    assert isinstance(pid, int)
    return pid


async def test_a_fresh_checkout_sends_no_ping_and_an_idle_dead_connection_is_replaced(
    database_url: str, engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    pooled = db.create_engine(database_url, pool_size=1)
    dialect = pooled.sync_engine.dialect
    pings: list[object] = []
    ping = dialect.do_ping

    def counted(dbapi_connection: Any) -> bool:
        pings.append(dbapi_connection)
        return ping(dbapi_connection)

    monkeypatch.setattr(dialect, "do_ping", counted)
    try:
        first = await _backend(pooled)
        assert await _backend(pooled) == first
        assert pings == []  # back in the pool moments ago: handed out as it is

        async with engine.connect() as conn:  # the server drops the pooled connection
            await conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
        monkeypatch.setattr(db, "PING_AFTER_IDLE_SECONDS", 0.0)
        assert await _backend(pooled) != first  # pinged, found dead, replaced
        assert len(pings) == 1
    finally:
        await pooled.dispose()
