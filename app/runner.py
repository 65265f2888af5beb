"""`orderflow run` (what `make run` does): the whole system on one machine until Ctrl-C.

It starts, in this order: the Temporal dev server and the embedded PostgreSQL (each only when
no real server is configured), the schema migrations, then the gateway and one worker as child
processes that reach both through their environment. It prints the URLs once `/healthz`
answers, stops everything on SIGINT/SIGTERM, and stops everything with an error naming the
culprit if any process dies on its own. State stays under ORDERFLOW_HOME between runs.

Each child's pid (with its start time and command line) is kept in ORDERFLOW_HOME/run, so a
run that starts after a crash stops what the crashed run left holding the ports, and never a
process that merely reuses one of those pids.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
import warnings
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import httpx

from app import migrate
from app.postgres_handles import forget_dead_handles, stop_postgres
from app.processes import (
    CannotBind,
    Child,
    StartupError,
    forget_pid,
    port_free,
    record_pid,
    recorded_process,
    say,
    spawn,
    stop_recorded,
    tail,
    terminate,
    wait_for_first_exit,
)
from app.temporal_dev import spawn_temporal, wait_for_temporal
from shared.db import RUNTIME_ROLE, ensure_login_role, start_embedded_postgres, with_user
from shared.settings import Settings, get_settings

# How long each piece may take to answer before the run gives up with a message.
GATEWAY_START_TIMEOUT = 90.0
# How long a process may take to stop after SIGTERM before it is killed.
STOP_TIMEOUT = 10.0
# The worker gets its own drain time (ORDERFLOW_WORKER_SHUTDOWN_SECONDS) and exits by itself
# 5 s after it (app.worker.HARD_STOP_MARGIN); it is killed if still there this long after that.
WORKER_STOP_MARGIN = 10.0
POLL_INTERVAL = 0.25


@dataclass
class Stack:
    """Everything one `orderflow run` started, so that it can all be stopped in order."""

    settings: Settings
    home: Path
    temporal: Child | None = None
    postgres_data: Path | None = None
    children: list[Child] = field(default_factory=list)
    # The pid-file name of each child this run started and has not stopped yet.
    recorded: dict[str, Child] = field(default_factory=dict)
    # Whether this run wrote run/runner.pid (a run refused for a live one must not remove it).
    holds_home: bool = False

    @property
    def processes(self) -> list[Child]:
        return [c for c in (self.temporal, *self.children) if c is not None]

    @property
    def pid_dir(self) -> Path:
        """Where the pid files of this run and its children are (see `app.processes`)."""
        return self.home / "run"

    def record(self, name: str, child: Child) -> Child:
        """Write `child`'s pid file, so that a run after a crash of this one can stop it."""
        record_pid(self.pid_dir, name, child.process.pid)
        self.recorded[name] = child
        return child


def run(settings: Settings | None = None) -> int:
    """Run the whole system until SIGINT/SIGTERM; 0 after a requested stop, 1 on failure."""
    settings = settings or get_settings()
    # embedded-postgres asks platformdirs for a runtime dir, which warns on machines (CI,
    # containers) without a login session; it falls back to /tmp and works, so stay quiet.
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR")
    return asyncio.run(_run(settings))


async def _run(settings: Settings) -> int:
    home = settings.home.expanduser().resolve()
    stack = Stack(settings=settings.model_copy(update={"home": home}), home=home)
    main = asyncio.current_task()
    assert main is not None
    stop_requested = False

    def request_stop(signum: int) -> None:
        nonlocal stop_requested
        if stop_requested:
            # A second Ctrl-C: the worker stops draining its activities (Temporal retries
            # them on the next start), and every process is asked again to exit now.
            say(f"{signal.Signals(signum).name} again: telling every process to exit at once")
            for child in stack.processes:
                if not child.exited:
                    with contextlib.suppress(ProcessLookupError):
                        child.process.send_signal(signal.SIGTERM)
            return
        stop_requested = True
        say(f"{signal.Signals(signum).name} received: stopping")
        main.cancel()

    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, request_stop, signum)
    try:
        await _start(stack)
        culprit = await wait_for_first_exit(stack.processes)
        say(f"{culprit.name} exited on its own (code {culprit.process.returncode}); stopping")
        tail(culprit)
        return 1
    except asyncio.CancelledError:
        if not stop_requested:
            raise
        main.uncancel()
        return 0
    except StartupError as exc:
        say(f"cannot start: {exc}")
        return 1
    finally:
        await _stop(stack)
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)


async def _start(stack: Stack) -> None:
    settings, home = stack.settings, stack.home
    home.mkdir(parents=True, exist_ok=True)
    await _stop_stale(stack)
    _check_ports(settings)
    # Create the dev secrets before the children start: two processes creating them at
    # once could each write a different key, and tokens would then fail in one of them.
    settings.signing_key()
    settings.actor_signing_key()
    settings.webhook_signing_secret()

    if settings.embedded_temporal:
        stack.temporal = stack.record("temporal", await spawn_temporal(settings, home))
    database_url = settings.database_url
    if settings.embedded_database:
        # PostgreSQL boots while the Temporal server does; both take a few seconds.
        pgdata = home / "pgdata"
        say(f"starting embedded PostgreSQL in {pgdata}")
        forget_dead_handles(pgdata)
        try:
            database_url = await asyncio.to_thread(start_embedded_postgres, home)
        except (subprocess.SubprocessError, OSError) as exc:
            raise StartupError(
                f"embedded PostgreSQL did not start ({exc}); its log is {pgdata / 'log'}"
            ) from exc
        # Only a server this run holds is stopped by it (see stop_postgres).
        stack.postgres_data = pgdata
    # Migrations run as the schemas' owner; the gateway and the worker get a role with DML
    # only (on the embedded server: RUNTIME_ROLE, its password kept under ORDERFLOW_HOME).
    owner_url = settings.migration_database_url or database_url
    if settings.embedded_database:
        owner_url, password = database_url, settings.database_runtime_password()
        await ensure_login_role(owner_url, RUNTIME_ROLE, password)
        database_url = with_user(database_url, RUNTIME_ROLE, password)
    say("applying database migrations")
    # Alembic's env runs its own event loop, so it cannot run on this one.
    await asyncio.to_thread(
        partial(
            migrate.upgrade,
            owner_url,
            runtime_role=migrate.runtime_role_of(database_url, owner_url),
        )
    )
    await wait_for_temporal(stack.settings, stack.temporal)

    stack.settings = settings.model_copy(update={"database_url": database_url})
    env = _child_env(stack.settings)
    gateway = await _spawn("gateway", _gateway_command(stack.settings), env)
    stack.children.append(stack.record("gateway", gateway))
    worker = await _spawn("worker", [sys.executable, "-m", "app.worker"], env)
    stack.children.append(stack.record("worker", worker))
    await _wait_for_gateway(stack)
    _print_banner(stack)


def _worker_stop_timeout(settings: Settings) -> float:
    return settings.worker_shutdown_seconds + WORKER_STOP_MARGIN


async def _stop_stale(stack: Stack) -> None:
    """Stop the children a crashed run in this ORDERFLOW_HOME left, then claim the home.

    A run still alive in this home is not touched: this start fails instead.
    """
    other = recorded_process(stack.pid_dir, "runner")
    if other is not None and other.pid != os.getpid():
        raise StartupError(
            f"another `orderflow run` (pid {other.pid}) is running in {stack.home}; "
            "stop it (Ctrl-C) or set ORDERFLOW_HOME to another directory"
        )
    # The services before the Temporal server they use, as a normal stop does.
    stages = [
        {"gateway": STOP_TIMEOUT, "worker": _worker_stop_timeout(stack.settings)},
        {"temporal": STOP_TIMEOUT},
    ]
    stopped = await stop_recorded(stack.pid_dir, stages)
    if stopped:
        say("stopped what an earlier run left running: " + ", ".join(stopped))
    record_pid(stack.pid_dir, "runner", os.getpid())
    stack.holds_home = True


def _check_ports(settings: Settings) -> None:
    """Fail early, naming the setting to change, when a port we must listen on is taken."""
    wanted = [(settings.http_host, settings.http_port, "ORDERFLOW_HTTP_PORT")]
    if settings.embedded_temporal:
        wanted += [
            ("127.0.0.1", settings.temporal_port, "ORDERFLOW_TEMPORAL_PORT"),
            ("127.0.0.1", settings.temporal_ui_port, "ORDERFLOW_TEMPORAL_UI_PORT"),
        ]
    if settings.metrics_port:  # the worker's Prometheus endpoint, on every interface
        wanted.append(("0.0.0.0", settings.metrics_port, "ORDERFLOW_METRICS_PORT"))
    seen: dict[int, str] = {}
    for host, port, name in wanted:
        if port in seen:
            raise StartupError(f"{name} and {seen[port]} are both {port}; give each its own port")
        seen[port] = name
        try:
            free = port_free(host, port)
        except CannotBind as exc:
            raise StartupError(f"cannot listen on {host}:{port}: {exc.strerror}") from exc
        if not free:
            raise StartupError(
                f"port {port} on {host} is already in use; stop what holds it "
                f"(another `make run`?) or set {name} to a free port"
            )


def _child_env(settings: Settings) -> dict[str, str]:
    """The environment of the gateway and the worker: the servers this run started."""
    env = dict(os.environ)
    # The owner's (DDL) URL is for migrations, which this run applied itself.
    env.pop("ORDERFLOW_MIGRATION_DATABASE_URL", None)
    env.update(
        ORDERFLOW_HOME=str(settings.home),
        ORDERFLOW_DATABASE_URL=settings.database_url,
        ORDERFLOW_TEMPORAL_ADDRESS=settings.temporal_target,
        ORDERFLOW_TEMPORAL_NAMESPACE=settings.temporal_namespace,
        ORDERFLOW_TASK_QUEUE_PREFIX=settings.task_queue_prefix,
        ORDERFLOW_HTTP_HOST=settings.http_host,
        ORDERFLOW_HTTP_PORT=str(settings.http_port),
        ORDERFLOW_TEMPORAL_PORT=str(settings.temporal_port),
        ORDERFLOW_TEMPORAL_UI_PORT=str(settings.temporal_ui_port),
        ORDERFLOW_METRICS_PORT=str(settings.metrics_port),
        # Children print as they go, so a crash shows its last words before we stop.
        PYTHONUNBUFFERED="1",
    )
    return env


def _gateway_command(settings: Settings) -> list[str]:
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "app.gateway:create_app",
        "--factory",
        "--host",
        settings.http_host,
        "--port",
        str(settings.http_port),
    ]


async def _spawn(name: str, command: list[str], env: dict[str, str]) -> Child:
    say(f"starting the {name}")
    return await spawn(f"the {name}", command, env=env)


def _local_host(settings: Settings) -> str:
    # A server bound to every interface is still reached (and printed) as loopback.
    return "127.0.0.1" if settings.http_host in ("0.0.0.0", "::", "") else settings.http_host


def api_url(settings: Settings) -> str:
    """Where the gateway answers."""
    return f"http://{_local_host(settings)}:{settings.http_port}"


async def _wait_for_gateway(stack: Stack) -> None:
    url = f"{api_url(stack.settings)}/healthz"
    deadline = time.monotonic() + GATEWAY_START_TIMEOUT
    last = "no answer"
    async with httpx.AsyncClient(timeout=5) as client:
        while time.monotonic() < deadline:
            for child in stack.processes:
                if child.exited:
                    tail(child)
                    raise StartupError(
                        f"{child.name} exited with code {child.process.returncode} during start"
                    )
            try:
                response = await client.get(url)
                if response.status_code == 200:
                    return
                last = f"{response.status_code} {response.text[:200]}"
            except httpx.HTTPError as exc:
                last = str(exc) or type(exc).__name__
            await asyncio.sleep(POLL_INTERVAL * 2)
    raise StartupError(
        f"{url} did not answer 200 within {GATEWAY_START_TIMEOUT:.0f} s (last: {last})"
    )


def _print_banner(stack: Stack) -> None:
    settings = stack.settings
    lines = [
        "",
        "orderflow is running; Ctrl-C stops it.",
        f"  API docs     {api_url(settings)}/docs",
        f"  Metrics      {api_url(settings)}/metrics (gateway)",
    ]
    if settings.metrics_port:
        lines.append(f"               http://127.0.0.1:{settings.metrics_port}/metrics (worker)")
    if stack.temporal is not None:
        lines.append(f"  Temporal UI  http://127.0.0.1:{settings.temporal_ui_port}")
    lines.append(
        f"  Temporal     {settings.temporal_target} (namespace {settings.temporal_namespace})"
    )
    if stack.postgres_data is not None:
        lines.append(f"  PostgreSQL   embedded, data in {stack.postgres_data}")
    else:
        lines.append("  PostgreSQL   ORDERFLOW_DATABASE_URL")
    lines += [
        f"  State        {stack.home}",
        "  Token        .venv/bin/orderflow token --sub alice --roles sales",
        "",
    ]
    print("\n".join(lines), flush=True)


async def _stop(stack: Stack) -> None:
    """Stop the services first, then the servers they use: Temporal, then PostgreSQL."""
    if not stack.processes and stack.postgres_data is None:
        _release_home(stack)
        return
    worker_timeout = _worker_stop_timeout(stack.settings)
    worker = stack.recorded.get("worker")
    await asyncio.gather(
        *(
            terminate(child, worker_timeout if child is worker else STOP_TIMEOUT)
            for child in stack.children
        )
    )
    if stack.temporal is not None:
        await terminate(stack.temporal, STOP_TIMEOUT)
    for name in list(stack.recorded):
        forget_pid(stack.pid_dir, name)
        del stack.recorded[name]
    if stack.postgres_data is not None:
        say("stopping embedded PostgreSQL")
        await asyncio.to_thread(stop_postgres, stack.postgres_data)
    _release_home(stack)
    say("stopped")


def _release_home(stack: Stack) -> None:
    if stack.holds_home:
        forget_pid(stack.pid_dir, "runner")
        stack.holds_home = False
