"""Drill: `kill -9` the whole `make run` tree (runner, Temporal dev server, gateway, worker and
the embedded PostgreSQL) twice while an order moves, then `make run` again in the same
ORDERFLOW_HOME. The order must be found exactly where it was each time and go on to its
materials stage: no task, timeline entry or requisition lost or doubled.
"""

from __future__ import annotations

import os
import signal
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest

from shared.settings import Settings
from tests.e2e.test_stack import TASK_TIMEOUT, Desk, Runner, _desks, _drive_to_master_plan

pytestmark = pytest.mark.e2e

BOM = [
    {"item": "FEEDER-900", "qty_per": 1, "make_or_buy": "make"},
    {
        "item": "LOADCELL-50K",
        "parent": "FEEDER-900",
        "qty_per": 2,
        "make_or_buy": "buy",
        "supplier": "HBM",
        "lead_days": 40,
    },
    {
        "item": "PLATE-8MM",
        "parent": "FEEDER-900",
        "qty_per": 4,
        "make_or_buy": "buy",
        "supplier": "Baosteel",
        "lead_days": 10,
    },
]


def _kill_tree(runner: Runner, process: Any) -> None:
    """SIGKILL the run's process group and the PostgreSQL it detached, as a power cut would
    end them (nothing gets to shut down)."""
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    pid_file = runner.home / "pgdata" / "postmaster.pid"
    if pid_file.exists():
        pid = int(pid_file.read_text().splitlines()[0])
        if b"postgres" in Path(f"/proc/{pid}/cmdline").read_bytes():
            os.kill(pid, signal.SIGKILL)
            deadline = time.monotonic() + 10
            while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
                time.sleep(0.1)


def _view(desk: Desk, order_no: str) -> dict[str, Any]:
    response = desk.http.get(f"/orders/{order_no}", headers=desk.headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


def _shape(view: dict[str, Any]) -> dict[str, Any]:
    """What must survive a kill unchanged: stage, due date, plan revision, open tasks by kind,
    the timeline by kind, and the material lines."""
    return {
        "stage": view["stage"],
        "due_date": view["due_date"],
        "plan": (view.get("plan") or {}).get("revision"),
        "open": Counter(t["kind"] for t in view["open_tasks"]),
        "timeline": Counter(e["kind"] for e in view["timeline"]),
        "materials": sorted((m["item"], str(m["required"])) for m in view.get("materials") or []),
    }


def _settled(desk: Desk, order_no: str, ready: Any) -> dict[str, Any]:
    """The order view once `ready(view)` holds and it is unchanged for a second (the workflow
    has finished what the last step started)."""
    deadline, last = time.monotonic() + TASK_TIMEOUT, None
    while time.monotonic() < deadline:
        view = _view(desk, order_no)
        if ready(view) and view == last:
            return view
        last = view if ready(view) else None
        time.sleep(1.0)
    pytest.fail(f"{order_no} did not settle: {last}")


def test_killing_the_whole_tree_twice_loses_and_doubles_nothing(runner: Runner) -> None:
    order_no = f"KILL-{uuid.uuid4().hex[:8].upper()}"
    settings = Settings(home=runner.home, jwt_key="", jwks_url="")
    process = runner.start()
    with httpx.Client(base_url=runner.api, timeout=60) as http:
        desk = _desks(http, settings)
        plan = _drive_to_master_plan(desk, order_no)
        before = _settled(desk("sales"), order_no, lambda v: v["stage"] == "planning")
    _kill_tree(runner, process)
    print(f"tree drill: killed the whole tree of {order_no} in planning")

    process = runner.start()
    with httpx.Client(base_url=runner.api, timeout=60) as http:
        desk = _desks(http, settings)
        after = _settled(desk("sales"), order_no, lambda v: v["stage"] == "planning")
        assert _shape(after) == _shape(before)
        desk("planning").complete(plan, {"accept_proposal": True})
        engineering = desk("engineering")
        bom = engineering.wait_for("engineering.release_bom", order_no)
        engineering.complete(bom, {"lines": BOM})
        before = _settled(
            desk("sales"),
            order_no,
            lambda v: len([t for t in v["open_tasks"] if t["kind"] == "procurement.place_po"]) == 2,
        )
    _kill_tree(runner, process)
    print(f"tree drill: killed it again after the BOM release, {dict(_shape(before)['open'])}")

    process = runner.start()
    with httpx.Client(base_url=runner.api, timeout=60) as http:
        desk = _desks(http, settings)
        after = _settled(desk("sales"), order_no, lambda v: len(v["open_tasks"]) >= 2)
        assert _shape(after) == _shape(before)
        drawings = desk("engineering").wait_for("engineering.release_drawings", order_no)
        desk("engineering").complete(
            drawings, {"drawings": [{"number": "DWG-900", "title": "feeder", "rev": "A"}]}
        )
        view = _settled(desk("sales"), order_no, lambda v: v["stage"] == "materials")
    shape = _shape(view)
    print(f"tree drill: {order_no} in {shape['stage']}, open {dict(shape['open'])}")
    assert shape["open"]["procurement.place_po"] == 2
    assert shape["timeline"]["order_received"] == 1
    assert runner.interrupt(process) == 0
