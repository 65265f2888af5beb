"""CPU time spent by the processes a benchmark runs on: this Python process (driver, gateway,
workers), the Temporal dev server and PostgreSQL (the postmaster and all its backends).

Read around a round: `sample = await cpu_sample(stack)` before and after, `spent(a, b)` the
CPU-seconds of each in between. CPU time is moved far less than wall time by other work on
the machine (though still some: caches and shared cores), so it says what one order costs
each process.

The dev server is found among this process's children (`real_stack` starts it; the tests'
lent one is started in the same process too); PostgreSQL through a backend of the engine: the
backend's parent is the postmaster. A part not found (a dev server or database run by another
process or machine) is left out of the sample rather than guessed.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping
from dataclasses import dataclass

import psutil
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client

PYTHON, TEMPORAL, POSTGRES = "python", "temporal", "postgres"


@dataclass(frozen=True)
class Processes:
    """The processes sampled; None where a part runs outside this machine's reach."""

    python: psutil.Process
    temporal: psutil.Process | None
    postmaster: psutil.Process | None


async def find_processes(temporal: Client, engine: AsyncEngine) -> Processes:
    """This process, the dev server `temporal` is connected to, and `engine`'s postmaster."""
    return Processes(
        python=psutil.Process(os.getpid()),
        temporal=_dev_server(temporal),
        postmaster=await _postmaster(engine),
    )


def _dev_server(client: Client) -> psutil.Process | None:
    """The `temporal server start-dev` child of this process listening on the client's port."""
    port = client.service_client.config.target_host.rpartition(":")[2]
    for child in psutil.Process(os.getpid()).children(recursive=True):
        try:
            line = child.cmdline()
        except psutil.Error:
            continue
        if "start-dev" in line and "--port" in line and port in line:
            return child
    return None


async def _postmaster(engine: AsyncEngine) -> psutil.Process | None:
    """The postmaster of `engine`'s database: the parent of one of its backends, when that
    backend runs on this machine (the pid PostgreSQL names is a process of ours)."""
    async with engine.connect() as connection:
        pid = await connection.scalar(text("SELECT pg_backend_pid()"))
    try:
        parent = psutil.Process(int(pid)).parent()
    except (psutil.Error, TypeError, ValueError):
        return None
    if parent is None or not parent.name().startswith("postgres"):
        return None
    return parent


def _own(process: psutil.Process) -> float:
    times = process.cpu_times()
    return float(times.user + times.system)


def _postgres(postmaster: psutil.Process) -> float:
    """The postmaster's CPU, its live backends' and that of the backends it has reaped
    (its children times), so a backend that ends between two samples still counts."""
    times = postmaster.cpu_times()
    total = times.user + times.system + times.children_user + times.children_system
    for child in postmaster.children():
        # One that ended since the listing is in the postmaster's children times next time.
        with contextlib.suppress(psutil.Error):
            total += _own(child)
    return float(total)


def cpu_sample(processes: Processes) -> dict[str, float]:
    """CPU-seconds (user + system) each part has used so far."""
    sample = {PYTHON: _own(processes.python)}
    if processes.temporal is not None:
        sample[TEMPORAL] = _own(processes.temporal)
    if processes.postmaster is not None:
        sample[POSTGRES] = _postgres(processes.postmaster)
    return sample


def spent(before: Mapping[str, float], after: Mapping[str, float]) -> dict[str, float]:
    """The CPU-seconds each part used between two samples."""
    return {part: after[part] - before[part] for part in before if part in after}
