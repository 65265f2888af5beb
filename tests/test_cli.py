"""The `orderflow` CLI against a real stack: orders, inboxes, completions from a JSON file,
escalations, `--json`, and the one-line errors of 401, 403, 404, 409, 422 and a dead port.

The gateway runs in the test's event loop, so the synchronous CLI runs in a thread.
"""

from __future__ import annotations

import asyncio
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from temporalio.testing import WorkflowEnvironment

from app.cli import main
from app.cli_client import API_REFUSED, NOT_ALLOWED, UNREACHABLE
from tests.conftest import Stack, free_port
from tests.helpers import (
    MARGIN,
    advance_to,
    create_order,
    parse_time,
    wait_escalation,
    wait_task,
)

REVIEW = "engineering.contract_review"
REVIEW_OK = {"ok": True, "design_days": 5, "issues": []}


# What one CLI call printed and answered.
@dataclass
class Ran:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> Ran:
    """`orderflow ARGV` with its tables on a wide console of its own, stderr from capsys."""
    buffer = io.StringIO()
    console = Console(file=buffer, width=240, color_system=None)
    code = main(list(argv), console=console)
    return Ran(code=code, out=buffer.getvalue(), err=capsys.readouterr().err)


async def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> Ran:
    """`run_cli` in a thread, leaving the event loop to the gateway and the workers."""
    return await asyncio.to_thread(run_cli, capsys, *argv)


def bearer(stack: Stack, sub: str, *roles: str) -> str:
    return stack.token(sub, *roles)["Authorization"].removeprefix("Bearer ")


def api(stack: Stack) -> str:
    return str(stack.http.base_url)


def one_line(ran: Ran) -> str:
    """The error line: exactly one, prefixed with the command's name."""
    assert ran.out == "", ran.out
    assert ran.err.count("\n") == 1 and ran.err.startswith("orderflow: "), ran.err
    return ran.err


async def test_cli_takes_an_order_from_the_inbox_to_its_timeline(
    flow: Stack,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    order_no = await create_order(flow)
    task = await wait_task(flow, REVIEW, order_no)
    task_id = task["task_id"]
    # The API and token from the environment, as a shell would export them.
    monkeypatch.setenv("ORDERFLOW_API_URL", api(flow))
    monkeypatch.setenv("ORDERFLOW_TOKEN", bearer(flow, "olga", "ops"))

    listed = await cli(capsys, "orders", "list", "--stage", "review", "--status", "active")
    assert listed.code == 0, listed.err
    assert order_no in listed.out and "Huadian Power Equipment" in listed.out

    shown = await cli(capsys, "orders", "show", order_no)
    assert shown.code == 0, shown.err
    for text in (f"order {order_no}", "review", "active", "KYN28-12", "open tasks", task_id):
        assert text in shown.out, (text, shown.out)

    inbox = await cli(
        capsys, "tasks", "list", "engineering", "--state", "open", "--order", order_no
    )
    assert inbox.code == 0, inbox.err
    assert task_id in inbox.out and REVIEW in inbox.out

    detail = await cli(capsys, "tasks", "show", "engineering", task_id)
    assert detail.code == 0, detail.err
    assert "payload fields" in detail.out and "design_days" in detail.out
    assert "[string]" in detail.out  # data is never read as rich markup
    assert "engineering" in detail.out  # who may complete it

    payload = tmp_path / "review.json"
    payload.write_text(json.dumps(REVIEW_OK))
    engineer = ("--token", bearer(flow, "erin", "engineering"))
    done = await cli(
        capsys, *engineer, "tasks", "complete", "engineering", task_id, "--json-file", str(payload)
    )
    assert done.code == 0, done.err
    assert f"completed: order {order_no} is in stage review (active)" in done.out

    closed = await cli(
        capsys, "tasks", "list", "engineering", "--state", "done", "--order", order_no
    )
    assert task_id in closed.out

    timeline = await cli(capsys, "orders", "timeline", order_no)
    assert timeline.code == 0, timeline.err
    assert "erin" in timeline.out and "sam" in timeline.out

    # A second completion of the same task: 409 with the API's error and detail.
    again = await cli(
        capsys, *engineer, "tasks", "complete", "engineering", task_id, "--json-file", str(payload)
    )
    assert again.code == API_REFUSED
    assert "409 task_not_open" in one_line(again) and task_id in again.err


async def test_cli_json_prints_what_the_api_answers(
    flow: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    order_no = await create_order(flow)
    await wait_task(flow, REVIEW, order_no)
    ops = bearer(flow, "olga", "ops")
    direct = await flow.http.get(f"/orders/{order_no}", headers=flow.token("olga", "ops"))

    shown = await cli(
        capsys, "--api", api(flow), "--token", ops, "--json", "orders", "show", order_no
    )
    assert shown.code == 0, shown.err
    view = shown.json()
    assert view["order_no"] == order_no and view["stage"] == "review"
    assert set(view) == set(direct.json())

    # The global options may follow the subcommand too.
    listed = await cli(capsys, "orders", "list", "--api", api(flow), "--token", ops, "--json")
    assert [o["order_no"] for o in listed.json()] == [order_no]

    timeline = await cli(
        capsys, "--json", "--api", api(flow), "--token", ops, "orders", "timeline", order_no
    )
    # The workflow may have added entries since: what the API had then is where it starts.
    assert timeline.json()[: len(direct.json()["timeline"])] == direct.json()["timeline"]

    inbox = await cli(
        capsys, "--json", "--api", api(flow), "--token", ops,
        "tasks", "list", "engineering", "--order", order_no,
    )  # fmt: skip
    assert [t["kind"] for t in inbox.json()] == [REVIEW]

    # Nothing picked yet: the trace has no lots, as a table and as JSON.
    quality = ("--api", api(flow), "--token", bearer(flow, "li", "quality"))
    traced = await cli(capsys, *quality, "orders", "trace", order_no)
    assert traced.code == 0, traced.err
    assert f"order {order_no}" in traced.out and "picked lots: nothing picked yet" in traced.out
    raw = await cli(capsys, *quality, "--json", "orders", "trace", order_no)
    assert raw.json()["order_no"] == order_no


async def test_cli_refusals_are_one_line_with_an_exit_code(
    flow: Stack, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("ORDERFLOW_TOKEN", raising=False)
    order_no = await create_order(flow)
    task_id = (await wait_task(flow, REVIEW, order_no))["task_id"]
    base = ("--api", api(flow))

    missing = await cli(capsys, *base, "orders", "list")
    assert missing.code == NOT_ALLOWED
    assert "no token" in one_line(missing) and "orderflow token --sub NAME" in missing.err

    forged = await cli(capsys, *base, "--token", "not-a-token", "orders", "show", order_no)
    assert forged.code == NOT_ALLOWED
    line = one_line(forged)
    assert "refused the token" in line and "export ORDERFLOW_TOKEN" in line

    sales = ("--token", bearer(flow, "sam", "sales"))
    forbidden = await cli(capsys, *base, *sales, "tasks", "list", "engineering")
    assert forbidden.code == NOT_ALLOWED
    line = one_line(forbidden)
    assert "forbidden: reading the engineering inbox needs one of the roles" in line
    assert line.rstrip().endswith("your token (sub sam) has the roles: sales")

    ops = ("--token", bearer(flow, "olga", "ops"))
    unknown = await cli(capsys, *base, *ops, "orders", "show", "SO-NO-SUCH-ORDER")
    assert unknown.code == API_REFUSED
    assert "404 not_found: order SO-NO-SUCH-ORDER does not exist" in one_line(unknown)

    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"ok": "perhaps", "design_days": -1}))
    engineer = ("--token", bearer(flow, "erin", "engineering"))
    refused = await cli(
        capsys,
        *base,
        *engineer,
        "tasks",
        "complete",
        "engineering",
        task_id,
        "--json-file",
        str(bad),
    )
    assert refused.code == API_REFUSED
    line = one_line(refused)
    assert "422 invalid_payload" in line and "ok" in line and "design_days" in line
    assert (await wait_task(flow, REVIEW, order_no))["task_id"] == task_id  # still open

    down = await cli(capsys, "--api", f"http://127.0.0.1:{free_port()}", *ops, "orders", "list")
    assert down.code == UNREACHABLE
    assert "cannot reach the orderflow API at http://127.0.0.1:" in one_line(down)
    assert "is `make run` running?" in down.err


async def test_cli_lists_and_acknowledges_an_escalation(
    flow: Stack, ts_env: WorkflowEnvironment, capsys: pytest.CaptureFixture[str]
) -> None:
    order_no = await create_order(flow)
    task = await wait_task(flow, REVIEW, order_no)
    await advance_to(ts_env, parse_time(task["due_at"]) + MARGIN)
    escalation = await wait_escalation(
        flow, order_no, lambda e: e["task_id"] == task["task_id"] and e["level"] == 1
    )
    base = ("--api", api(flow))
    ops = ("--token", bearer(flow, "olga", "ops"))

    listed = await cli(
        capsys, *base, *ops, "escalations", "list", "--state", "open", "--order", order_no
    )
    assert listed.code == 0, listed.err
    assert "task_overdue" in listed.out and "head:engineering" in listed.out
    assert str(escalation["id"]) in listed.out

    nosy = await cli(capsys, *base, *ops, "escalations", "ack", str(escalation["id"]))
    assert nosy.code == NOT_ALLOWED
    line = one_line(nosy)
    assert "raised to head:engineering" in line and "has the roles: ops" in line

    head = ("--token", bearer(flow, "hana", "head:engineering"))
    acked = await cli(capsys, *base, *head, "escalations", "ack", str(escalation["id"]))
    assert acked.code == 0, acked.err
    assert f"escalation {escalation['id']}" in acked.out and "acknowledged by hana" in acked.out

    twice = await cli(capsys, *base, *head, "escalations", "ack", str(escalation["id"]))
    assert twice.code == API_REFUSED and "409 already_acked" in one_line(twice)

    after = await cli(
        capsys,
        *base,
        *ops,
        "--json",
        "escalations",
        "list",
        "--state",
        "acked",
        "--order",
        order_no,
    )
    assert [(e["id"], e["acked_by"]) for e in after.json()] == [(escalation["id"], "hana")]


async def test_cli_shows_the_calendar_and_its_exceptions(
    plant_stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    stack = plant_stack
    base = ("--api", api(stack), "--token", bearer(stack, "ann", "sales"))
    body = {"kind": "day_off", "start": "2026-03-02", "end": "2026-03-02", "reason": "stock-take"}
    added = await stack.http.post(
        "/planning/calendar/exceptions", json=body, headers=stack.token("pat", "planning")
    )
    assert added.status_code == 201, added.text

    shown = await cli(
        capsys, *base, "calendar", "show", "--from", "2026-02-13", "--to", "2026-03-02"
    )
    assert shown.code == 0, shown.err
    lines = {line.split()[1]: line for line in shown.out.splitlines() if "│ 2026-" in line}
    assert "working" in lines["2026-02-14"] and "make-up working day" in lines["2026-02-14"]
    assert "08:00-12:00, 13:00-17:30" in lines["2026-02-14"]
    assert " off " in lines["2026-02-16"] and "Chinese New Year" in lines["2026-02-16"]
    assert " off " in lines["2026-03-02"] and "stock-take" in lines["2026-03-02"]
    assert "zone Asia/Shanghai" in shown.out

    listed = await cli(capsys, *base, "calendar", "exceptions")
    assert listed.code == 0, listed.err
    assert "day_off" in listed.out and "stock-take" in listed.out and "pat" in listed.out

    inverted = await cli(
        capsys, *base, "calendar", "show", "--from", "2026-03-02", "--to", "2026-02-13"
    )
    assert inverted.code == API_REFUSED and "query.to" in one_line(inverted)
