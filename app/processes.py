"""Child processes: start them tied to this process, wait for one to exit, stop them.

Nothing here knows what the children are; `app.runner` decides which to start and when.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import errno
import json
import os
import signal
import socket
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

# linux/prctl.h: ask for a signal when the parent process dies.
PR_SET_PDEATHSIG = 1


class StartupError(Exception):
    """The stack could not start; the message says what to do about it."""


# A process the runner started and must stop.
@dataclass
class Child:
    name: str
    process: asyncio.subprocess.Process
    log: Path | None = None

    @property
    def exited(self) -> bool:
        return self.process.returncode is not None


async def spawn(
    name: str,
    command: list[str],
    *,
    env: dict[str, str] | None = None,
    log: Path | None = None,
) -> Child:
    """Start `command` as a child owned by this process (see `_owned_by_parent`).

    Its output goes to the console, or is appended to `log` when one is given. `env`
    replaces the environment; without it the child inherits this one.
    """
    if log is None:
        process = await asyncio.create_subprocess_exec(
            *command, env=env, stdin=asyncio.subprocess.DEVNULL, **_owned_by_parent()
        )
    else:
        with log.open("ab") as out:
            process = await asyncio.create_subprocess_exec(
                *command,
                env=env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=out,
                stderr=asyncio.subprocess.STDOUT,
                **_owned_by_parent(),
            )
    return Child(name, process, log)


def _owned_by_parent() -> dict[str, Any]:
    """Spawn options under which a child hears only from the runner, and dies with it.

    A child gets its own process group, so Ctrl-C in a terminal (sent to the foreground
    group) reaches only the runner, which then stops the services before the servers they
    use. On Linux the child also gets SIGTERM when the runner dies, so a killed run leaves
    no server holding the ports.
    """
    options: dict[str, Any] = {"process_group": 0}
    if sys.platform.startswith("linux"):
        prctl = ctypes.CDLL(None, use_errno=True).prctl
        runner_pid = os.getpid()

        def die_with_runner() -> None:  # runs in the child, between fork and exec
            prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM))
            if os.getppid() != runner_pid:  # the runner died before prctl took effect
                os._exit(1)

        options["preexec_fn"] = die_with_runner
    return options


async def wait_for_first_exit(children: list[Child]) -> Child:
    """Wait until one of `children` exits, and return it."""
    waits = {asyncio.ensure_future(c.process.wait()): c for c in children}
    try:
        done, _ = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waits:
            waiter.cancel()
    return waits[next(iter(done))]


async def terminate(child: Child, grace: float) -> None:
    """Stop `child` with SIGTERM, and kill it if it has not exited after `grace` seconds."""
    if child.exited:
        return
    with contextlib.suppress(ProcessLookupError):
        child.process.terminate()
    try:
        await asyncio.wait_for(child.process.wait(), grace)
    except TimeoutError:
        say(f"{child.name} did not stop within {grace:.0f} s; killing it")
        with contextlib.suppress(ProcessLookupError):
            child.process.kill()
        await child.process.wait()


def tail(child: Child, lines: int = 20) -> None:
    """Show the end of a child's log file (children without one printed to the console)."""
    if child.log is None or not child.log.exists():
        return
    text = child.log.read_text(errors="replace").splitlines()[-lines:]
    say(f"last lines of {child.log}:\n" + "\n".join(text))


class CannotBind(OSError):
    """Binding to a port failed for another reason than a listener holding it."""


def port_free(host: str, port: int) -> bool:
    """Whether a server could listen on `host:port`; other failures to bind raise CannotBind."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        # The servers set SO_REUSEADDR too, so a port left in TIME_WAIT by the last run counts
        # as free, and only a live listener counts as taken.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return False
            raise CannotBind(exc.errno, exc.strerror) from exc
    return True


def pid_alive(pid: int) -> bool:
    """Whether a process with this id exists (one we may not signal counts as alive)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# Where /proc cannot be read, start times are compared as wall-clock times, which move with
# the boot time the kernel derives from the clock (NTP adjusts it by a second now and then).
_SAME_START = 1.5
_BOOT_ID = Path("/proc/sys/kernel/random/boot_id")


def _start_mark(process: psutil.Process) -> dict[str, Any]:
    """What tells this process apart from a later one given the same pid.

    On Linux: the boot and the clock tick since boot the process started at, exact and
    untouched by clock changes. Elsewhere: its wall-clock start time (`_SAME_START`).
    """
    try:
        stat = Path(f"/proc/{process.pid}/stat").read_bytes()
        # The fields after the command name in parentheses; the start time is field 22.
        ticks = int(stat.rpartition(b")")[2].split()[19])
        return {"boot": _BOOT_ID.read_text().strip(), "ticks": ticks}
    except (OSError, ValueError, IndexError):
        return {"started": process.create_time()}


def _same_start(record: Mapping[str, Any], process: psutil.Process) -> bool:
    mark = _start_mark(process)
    if "ticks" in mark and "ticks" in record:
        return bool(record["boot"] == mark["boot"] and int(record["ticks"]) == mark["ticks"])
    return abs(process.create_time() - float(record["started"])) <= _SAME_START


def record_pid(directory: Path, name: str, pid: int) -> None:
    """Write `<directory>/<name>.pid`: the pid, start time and command line of a live process.

    A later run reads it back (`recorded_process`) to find a process an earlier run left, and
    the start (`_start_mark`) and command line tell it apart from an unrelated process with
    the same pid.
    """
    process = psutil.Process(pid)
    record = {
        "pid": pid,
        "started": process.create_time(),
        **_start_mark(process),
        "command": process.cmdline(),
    }
    directory.mkdir(parents=True, exist_ok=True)
    draft = directory / f".{name}.pid.{os.getpid()}"
    draft.write_text(json.dumps(record))
    draft.replace(directory / f"{name}.pid")


def forget_pid(directory: Path, name: str) -> None:
    """Remove `<directory>/<name>.pid` (the process it names has been stopped)."""
    (directory / f"{name}.pid").unlink(missing_ok=True)


def recorded_process(directory: Path, name: str) -> psutil.Process | None:
    """The live process `<directory>/<name>.pid` names, if it is still that very process.

    None when there is no file, it cannot be read, the pid is gone, or the pid now belongs to
    a process with another start time or command line (pids are reused).
    """
    try:
        record = json.loads((directory / f"{name}.pid").read_text())
        process = psutil.Process(int(record["pid"]))
        if not _same_start(record, process) or process.cmdline() != record["command"]:
            return None
        if process.status() == psutil.STATUS_ZOMBIE:
            return None
        return process
    except (OSError, ValueError, TypeError, KeyError, psutil.Error):
        return None


async def stop_recorded(directory: Path, stages: Sequence[Mapping[str, float]]) -> list[str]:
    """Stop the processes an earlier run recorded in `directory`, and remove its pid files.

    `stages` are stopped one after the other; the processes of one stage together, each with
    SIGTERM and, if it has not exited after its grace (seconds, by name), SIGKILL. Only a
    process that is still the one recorded is signalled (`recorded_process`). Returns
    "name (pid N)" for each process stopped.
    """
    stopped: list[str] = []
    for stage in stages:
        found = {name: recorded_process(directory, name) for name in stage}
        live = {name: process for name, process in found.items() if process is not None}
        await asyncio.gather(
            *(asyncio.to_thread(_stop_process, p, stage[name]) for name, p in live.items())
        )
        stopped += [f"{name} (pid {process.pid})" for name, process in live.items()]
        for name in stage:
            forget_pid(directory, name)
    return stopped


def _stop_process(process: psutil.Process, grace: float) -> None:
    with contextlib.suppress(psutil.Error):
        process.terminate()
        # A stopped process (SIGSTOP, a debugger let go) would hold SIGTERM until continued.
        process.resume()
    if _wait_gone(process, grace):
        return
    with contextlib.suppress(psutil.Error):
        say(f"{process.name()} (pid {process.pid}) did not stop within {grace:.0f} s; killing it")
        process.kill()
    _wait_gone(process, grace)


def _wait_gone(process: psutil.Process, timeout: float) -> bool:
    """Whether `process` exits within `timeout` (polled: psutil's wait would reap a child)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            # Not our child: nobody may reap it soon, so a zombie counts as exited.
            if process.status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.1)


def say(message: str) -> None:
    """Print a status line to stderr, as every `orderflow` command does."""
    print(f"orderflow: {message}", file=sys.stderr, flush=True)
