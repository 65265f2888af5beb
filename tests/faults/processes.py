"""The gateway as a process of its own (as `orderflow run` starts it), for the drills that kill
it: started, waited for, killed with SIGKILL, started again on the same port."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from shared.settings import Settings
from tests.conftest import free_port

REPO = Path(__file__).resolve().parents[2]
START_TIMEOUT = 60.0
# The gateway as `orderflow run` starts it (app/runner.py).
GATEWAY = [sys.executable, "-m", "uvicorn", "app.gateway:create_app", "--factory"]


class Gateway:
    """A gateway process of its own on the drill's database, Temporal server and queues."""

    def __init__(self, settings: Settings, temporal_target: str, logs: Path) -> None:
        self.settings = settings
        self.port = free_port()
        self.logs = logs
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("ORDERFLOW_")}
        self.env.update(
            ORDERFLOW_ENV=settings.env,
            ORDERFLOW_HOME=str(settings.home),
            ORDERFLOW_DATABASE_URL=settings.database_url,
            ORDERFLOW_TEMPORAL_ADDRESS=temporal_target,
            ORDERFLOW_TASK_QUEUE_PREFIX=settings.task_queue_prefix,
            ORDERFLOW_JWT_KEY=settings.jwt_key.get_secret_value(),
            ORDERFLOW_WEBHOOK_SECRET=settings.webhook_secret.get_secret_value(),
            ORDERFLOW_METRICS_PORT="0",
            ORDERFLOW_ORDER_AUDIT=str(settings.order_audit).lower(),
            PYTHONPATH=str(REPO),
            PYTHONUNBUFFERED="1",
        )
        self.processes: list[subprocess.Popen[bytes]] = []
        self.kills = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log(self, process: subprocess.Popen[bytes]) -> Path:
        return self.logs / f"gateway-{self.processes.index(process) + 1}.log"

    def spawn(self) -> subprocess.Popen[bytes]:
        """Start a gateway process without waiting for it to answer."""
        log = self.logs / f"gateway-{len(self.processes) + 1}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [*GATEWAY, "--host", "127.0.0.1", "--port", str(self.port)],
                cwd=REPO,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        self.processes.append(process)
        return process

    def start(self) -> subprocess.Popen[bytes]:
        """Start a gateway process and wait until /healthz answers 200."""
        process = self.spawn()
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if process.poll() is not None:
                log = self.log(process).read_text()
                pytest.fail(f"the gateway exited with {process.returncode}:\n{log}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return process
            time.sleep(0.2)
        log = self.log(process).read_text()
        pytest.fail(f"the gateway did not answer in {START_TIMEOUT:.0f} s:\n{log}")

    def kill(self, process: subprocess.Popen[bytes]) -> None:
        """SIGKILL one gateway process: whatever it was doing stops where it was."""
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        self.kills += 1

    def kill_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.kill()
            process.wait()
