"""The whole system as `make run` starts it, driven over HTTP only: intake to engineering.

`orderflow run` starts the Temporal dev server, embedded PostgreSQL, the gateway and the
worker on free ports under a fresh ORDERFLOW_HOME; the test plays every department through
review and planning, checks the Temporal UI and visibility, stops the stack with Ctrl-C and
finds the order where it was after a restart.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from shared.auth import mint_token
from shared.settings import Settings

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
# A first start runs initdb and creates Temporal's database; a restart is quicker.
START_TIMEOUT = 180.0
TASK_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Ports:
    http: int
    temporal: int
    ui: int


# The `orderflow run` processes of one test, all killed at teardown whatever happened.
@dataclass
class Runner:
    home: Path
    ports: Ports
    env: dict[str, str]
    runs: list[tuple[subprocess.Popen[bytes], Path]] = field(default_factory=list)

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.ports.http}"

    def start(self) -> subprocess.Popen[bytes]:
        """Start `orderflow run` in its own process group and wait until /healthz is 200."""
        log = self.home.parent / f"run-{len(self.runs) + 1}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [str(BIN / "orderflow"), "run"],
                cwd=REPO,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                # Its own group, like a terminal's foreground job, so Ctrl-C can be sent as
                # a terminal sends it; the runner's children die with it (see app/runner).
                start_new_session=True,
            )
        self.runs.append((process, log))
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail(f"orderflow run exited with {process.returncode}:\n{self.tail(log)}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.api}/healthz", timeout=2).status_code == 200:
                    return process
            time.sleep(0.1)
        pytest.fail(f"/healthz did not answer 200 in {START_TIMEOUT:.0f} s:\n{self.tail(log)}")

    def interrupt(self, process: subprocess.Popen[bytes]) -> int:
        """Press Ctrl-C: SIGINT to the whole group, as a terminal sends it."""
        os.killpg(process.pid, signal.SIGINT)
        try:
            return process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            log = next(log for p, log in self.runs if p is process)
            pytest.fail(
                f"orderflow run still running {STOP_TIMEOUT:.0f} s after Ctrl-C:\n{self.tail(log)}"
            )

    def kill_all(self) -> None:
        """Kill every process group this test started, and a PostgreSQL a killed run left."""
        for process, _ in self.runs:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        _stop_orphan_postgres(self.home / "pgdata")

    @staticmethod
    def tail(log: Path, lines: int = 60) -> str:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


def _stop_orphan_postgres(pgdata: Path) -> None:
    # The postmaster runs in its own session (pg_ctl detaches it), so killing the run's
    # group misses it; a run that stopped cleanly has already stopped it and removed the file.
    pid_file = pgdata / "postmaster.pid"
    with contextlib.suppress(OSError, ValueError, IndexError):
        pid = int(pid_file.read_text().splitlines()[0])
        if b"postgres" in Path(f"/proc/{pid}/cmdline").read_bytes():
            os.kill(pid, signal.SIGINT)  # fast shutdown
            deadline = time.monotonic() + 10
            while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
                time.sleep(0.1)


@pytest.fixture
def runner(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runner]:
    """A fresh ORDERFLOW_HOME, free ports and a unique queue prefix; everything killed after."""
    home = tmp_path_factory.mktemp("e2e") / "home"
    ports = Ports(http=_free_port(), temporal=_free_port(), ui=_free_port())
    # Nothing from the caller's ORDERFLOW_* may leak in: the stack must be the embedded one.
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORDERFLOW_")}
    env.update(
        ORDERFLOW_HOME=str(home),
        ORDERFLOW_HTTP_PORT=str(ports.http),
        ORDERFLOW_TEMPORAL_PORT=str(ports.temporal),
        ORDERFLOW_TEMPORAL_UI_PORT=str(ports.ui),
        # The worker's Prometheus port: two stacks at once must not both want 9464.
        ORDERFLOW_METRICS_PORT=str(_free_port()),
        ORDERFLOW_TASK_QUEUE_PREFIX=f"e2e-{uuid.uuid4().hex[:8]}",
        # The e2e walks play no finance role: the order audit (issue 16) is off for them.
        ORDERFLOW_ORDER_AUDIT="false",
    )
    stack = Runner(home=home, ports=ports, env=env)
    try:
        yield stack
    finally:
        stack.kill_all()


# One department's view of the API: its token and a way to find and complete its tasks.
@dataclass
class Desk:
    http: httpx.Client
    department: str
    headers: dict[str, str]

    def open_tasks(self, order_no: str) -> list[dict[str, Any]]:
        response = self.http.get(
            f"/{self.department}/tasks",
            params={"state": "open", "order_no": order_no},
            headers=self.headers,
        )
        assert response.status_code == 200, response.text
        return [task for task in response.json() if task["order_no"] == order_no]

    def wait_for(
        self, kind: str, order_no: str, *, not_ids: Collection[str] = ()
    ) -> dict[str, Any]:
        """The open task of `kind` for the order, waiting for the workflow to open it."""
        deadline = time.monotonic() + TASK_TIMEOUT
        while time.monotonic() < deadline:
            for task in self.open_tasks(order_no):
                if task["kind"] == kind and task["task_id"] not in not_ids:
                    return task
            time.sleep(0.05)
        view = self.http.get(f"/orders/{order_no}", headers=self.headers).json()
        pytest.fail(f"no open {kind} for {order_no} in {TASK_TIMEOUT:.0f} s; order: {view}")

    def complete(self, task: dict[str, Any], payload: dict[str, Any]) -> dict[str, Any]:
        """Complete a task; the answer is the order view."""
        response = self.http.post(
            f"/{self.department}/tasks/{task['task_id']}/complete",
            json=payload,
            headers=self.headers,
        )
        assert response.status_code == 200, f"{task['kind']}: {response.text}"
        return response.json()


def _desks(http: httpx.Client, settings: Settings) -> Callable[[str], Desk]:
    def desk(department: str) -> Desk:
        token = mint_token(settings, sub=f"e2e-{department}", roles=[department])
        return Desk(http, department, {"Authorization": f"Bearer {token}"})

    return desk


def _intake(order_no: str) -> dict[str, Any]:
    return {
        "order_no": order_no,
        "customer": "Hangzhou Boiler Works",
        "project_name": "Coal feeder retrofit",
        "contract_no": f"HT-{order_no}",
        "technical_agreement_ref": f"TA-{order_no}",
        "drawing_refs": ["DWG-100", "DWG-101"],
        "lines": [
            {"item": "FEEDER-900", "description": "gravimetric feeder", "qty": 2, "unit": "set"}
        ],
        "requested_date": (date.today() + timedelta(days=180)).isoformat(),
        # Below the default approval threshold (1,000,000): no management approval.
        "amount": 250000,
        "currency": "CNY",
        "priority": "normal",
    }


def _drive_to_engineering(desk: Callable[[str], Desk], order_no: str) -> dict[str, Any]:
    """Review (with one round of technical issues), delivery date, confirmation, plan."""
    plan = _drive_to_master_plan(desk, order_no)
    return desk("planning").complete(plan, {"accept_proposal": True})


def _drive_to_master_plan(desk: Callable[[str], Desk], order_no: str) -> dict[str, Any]:
    """Review (with one round of technical issues), delivery date, confirmation; returns the
    open master-plan task."""
    sales, engineering = desk("sales"), desk("engineering")
    procurement, planning = desk("procurement"), desk("planning")
    created = sales.http.post("/sales/orders", json=_intake(order_no), headers=sales.headers)
    assert created.status_code == 201, created.text
    assert created.json()["order_no"] == order_no

    first = engineering.wait_for("engineering.contract_review", order_no)
    engineering.complete(
        first, {"ok": False, "design_days": 0, "issues": ["confirm the feeder's belt width"]}
    )
    lead = procurement.wait_for("procurement.lead_time_review", order_no)
    procurement.complete(lead, {"lead_days": 20, "critical_items": ["load cell"]})
    second = engineering.wait_for(
        "engineering.contract_review", order_no, not_ids={first["task_id"]}
    )
    engineering.complete(second, {"ok": True, "design_days": 10, "issues": []})

    review = planning.wait_for("planning.delivery_review", order_no)
    # The later of planning's proposal and the customer's date, so the plan can meet it.
    proposed = review.get("context", {}).get("proposed_date")
    requested = _intake(order_no)["requested_date"]
    planning.complete(review, {"delivery_date": max(filter(None, [proposed, requested]))})
    confirm = sales.wait_for("sales.confirm_delivery", order_no)
    sales.complete(confirm, {"accepted": True})
    return planning.wait_for("planning.master_plan", order_no)


def _wait_for_stage(desk: Desk, order_no: str, stage: str) -> dict[str, Any]:
    deadline = time.monotonic() + TASK_TIMEOUT
    view: dict[str, Any] = {}
    while time.monotonic() < deadline:
        view = desk.http.get(f"/orders/{order_no}", headers=desk.headers).json()
        kinds = {task["kind"] for task in view.get("open_tasks", [])}
        if (
            view.get("stage") == stage
            and {
                "engineering.release_bom",
                "engineering.release_drawings",
            }
            <= kinds
        ):
            return view
        time.sleep(0.05)
    pytest.fail(f"{order_no} did not reach {stage} with its release tasks open: {view}")


def _temporal_lists(runner: Runner, order_no: str) -> str:
    """`temporal workflow list` filtered by OrderNo, retried while visibility catches up."""
    command = [
        str(BIN / "temporal"),
        "workflow",
        "list",
        "--address",
        f"127.0.0.1:{runner.ports.temporal}",
        "--namespace",
        "default",
        "--query",
        f"OrderNo='{order_no}'",
    ]
    out = ""
    for _ in range(30):
        result = subprocess.run(command, capture_output=True, text=True, timeout=30)
        out = result.stdout + result.stderr
        if result.returncode == 0 and f"order-{order_no}" in result.stdout:
            break
        time.sleep(0.5)
    return out


def test_make_run_takes_an_order_to_engineering_and_keeps_it(runner: Runner) -> None:
    order_no = f"E2E-{uuid.uuid4().hex[:8].upper()}"
    process = runner.start()
    settings = Settings(home=runner.home, jwt_key="", jwks_url="")

    with httpx.Client(base_url=runner.api, timeout=30) as http:
        desk = _desks(http, settings)
        _drive_to_engineering(desk, order_no)
        view = _wait_for_stage(desk("sales"), order_no, "engineering")
        assert view["status"] == "active"
        assert view["timeline"], "the timeline records every step"

    ui = httpx.get(f"http://127.0.0.1:{runner.ports.ui}/", timeout=10)
    assert ui.status_code == 200
    listed = _temporal_lists(runner, order_no)
    assert f"order-{order_no}" in listed, listed

    assert runner.interrupt(process) == 0

    restarted = runner.start()
    with httpx.Client(base_url=runner.api, timeout=30) as http:
        view = _wait_for_stage(_desks(http, settings)("sales"), order_no, "engineering")
    assert view["stage"] == "engineering"
    assert runner.interrupt(restarted) == 0
