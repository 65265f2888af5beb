"""`orderflow kpis` and the CLI's own checks, against a stub HTTP server started here: the
KPI tables (plan achievement per period, every other section key by key, fields the API adds
included), the query it sends, a trace with picked lots, the payload file (`-` reads stdin),
usage errors, and answers that are not the API's `{error, detail}`.

`GET /kpis` is being built alongside; a stub with its agreed shape keeps these tests apart
from its timing and from the whole stack.
"""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from app.cli_client import API_REFUSED
from app.cli_commands import USAGE_ERROR
from tests.test_cli import run_cli

KPIS: dict[str, Any] = {
    "week": "2026-W48",
    "month": "2026-11",
    "plan_achievement": {
        "week": [
            {"department": "engineering", "due": 8, "met": 7, "rate": 0.875},
            {"department": "procurement", "due": 0, "met": 0, "rate": None},
        ],
        "month": [{"department": "engineering", "due": 30, "met": 24, "rate": 0.8}],
    },
    "on_time_delivery": {"shipped": 5, "on_time": 4, "rate": 0.8},
    "incoming_inspection": {
        "inspected": 12,
        "within_sla": 11,
        "compliance": 0.9167,
        "median_hours": 3.5,
    },
    "design_change": {"issued": 2, "within_sla": 2, "median_hours": 1.25, "p90_hours": None},
    "shortages": {"orders": 1, "total": 2, "per_order": 2.0, "by_cause": {"late_supply": 2}},
    "first_pass_yield": {"inspected": 6, "passed_first": 5, "rate": 0.8333},
    "open_escalations": {
        "as_of": "2026-11-25T17:00:00Z",
        "total": 3,
        "by_age": {"<1d": 2, "1-3d": 1},
        "by_level": {"1": 2, "2": 1},
    },
    # Beyond the agreed shape: a section and a field the API may add later.
    "warranty_claims": {"open": 4, "oldest": [{"claim": "WC-1", "days": 12}]},
}

TRACE = {
    "order_no": "SO-1",
    "complete_traceability": False,
    "items": [
        {
            "item": "VCB-12",
            "required": "6",
            "reserved": "6",
            "picked": "6",
            "untraced": "1",
            "lots": [
                {
                    "lot_no": "L-2026-0007",
                    "qty": "5",
                    "source": "receipt",
                    "supplier": "Xiamen Breakers",
                    "supplier_lot": "XB-88[a]",
                    "po_no": "PO-41",
                    "receipt_no": "R-9",
                    "delivery_note_no": "DN-1",
                    "received_at": "2026-11-20T09:30:00Z",
                    "inspected_by": "li",
                    "inspected_at": "2026-11-20T12:00:00Z",
                    "traceable": True,
                }
            ],
        }
    ],
}

TASK = {
    "task_id": "inspection-L-1-t1",
    "kind": "quality.incoming_inspection",
    "department": "quality",
    "order_no": "",
    "title": "Inspect lot L-1",
    "state": "done",
    "created_at": "2026-11-25T08:00:00Z",
    "due_at": "2026-11-25T16:00:00Z",
    "overdue": False,
    "escalation_level": 0,
    "context": {"lot_no": "L-1"},
    "payload_schema": {},
    "completer_roles": ["quality"],
}


# What the stub was asked, and how it answers each path.
@dataclass
class Stub:
    url: str
    requests: list[dict[str, Any]] = field(default_factory=list)


@pytest.fixture
def stub() -> Iterator[Stub]:
    """An HTTP server on a free port answering GET /kpis and a task completion."""
    recorded: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def _answer(self, status: int, body: bytes, kind: str = "application/json") -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            recorded.append(
                {
                    "method": "GET",
                    "path": parts.path,
                    "query": parse_qs(parts.query),
                    "auth": self.headers.get("Authorization"),
                }
            )
            if parts.path == "/kpis":
                self._answer(200, json.dumps(KPIS).encode())
            elif parts.path == "/orders/SO-1/trace":
                self._answer(200, json.dumps(TRACE).encode())
            elif parts.path.startswith("/broken/"):
                self._answer(502, b"<html>bad gateway</html>", "text/html")
            else:
                self._answer(404, b'{"error": "not_found", "detail": "no such path"}')

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            body = json.loads(self.rfile.read(length) or b"null")
            recorded.append({"method": "POST", "path": self.path, "body": body})
            self._answer(200, json.dumps(TASK | {"payload": body}).encode())

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Stub(url=f"http://127.0.0.1:{server.server_address[1]}", requests=recorded)
    finally:
        server.shutdown()
        server.server_close()


def test_kpis_render_plan_achievement_per_period_and_every_other_section(
    stub: Stub, capsys: pytest.CaptureFixture[str]
) -> None:
    ran = run_cli(capsys, "--api", stub.url, "--token", "t0k", "kpis")
    assert ran.code == 0, ran.err
    assert "KPIs: week 2026-W48, month 2026-11" in ran.out
    assert "plan achievement (week)" in ran.out and "plan achievement (month)" in ran.out
    for share in ("87.5%", "80.0%", "91.7%", "83.3%"):
        assert share in ran.out, share
    for section in (
        "on time delivery",
        "incoming inspection",
        "design change",
        "shortages",
        "first pass yield",
        "open escalations",
        "warranty claims",
    ):
        assert section in ran.out, section
    # Fields and sections the stub adds beyond the agreed shape show up too.
    for text in ("median_hours", "3.5", "late_supply", "<1d", "2026-11-25 17:00", "WC-1"):
        assert text in ran.out, text
    assert stub.requests[-1]["path"] == "/kpis" and stub.requests[-1]["query"] == {}
    assert stub.requests[-1]["auth"] == "Bearer t0k"


def test_kpis_asks_for_the_week_and_month_given(
    stub: Stub, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ORDERFLOW_API_URL", stub.url + "/")
    monkeypatch.setenv("ORDERFLOW_TOKEN", "from-env")
    ran = run_cli(capsys, "kpis", "--week", "2026-W47", "--month", "2026-10", "--json")
    assert ran.code == 0, ran.err
    assert ran.json() == KPIS
    request = stub.requests[-1]
    assert request["query"] == {"week": ["2026-W47"], "month": ["2026-10"]}
    assert request["auth"] == "Bearer from-env"


def test_kpis_refuses_a_malformed_week_before_asking(
    stub: Stub, capsys: pytest.CaptureFixture[str]
) -> None:
    ran = run_cli(capsys, "--api", stub.url, "kpis", "--week", "48")
    assert ran.code == USAGE_ERROR
    assert "write it like 2026-W48" in ran.err
    assert stub.requests == []


def test_orders_trace_lists_each_picked_lot_and_flags_untraced_quantity(
    stub: Stub, capsys: pytest.CaptureFixture[str]
) -> None:
    ran = run_cli(capsys, "--api", stub.url, "--token", "t", "orders", "trace", "SO-1")
    assert ran.code == 0, ran.err
    assert "order SO-1: some picked quantity traces to no lot" in ran.out
    for text in ("VCB-12", "L-2026-0007", "Xiamen Breakers", "XB-88[a]", "PO-41", "R-9", "li"):
        assert text in ran.out, text


def test_tasks_complete_reads_the_payload_from_stdin(
    stub: Stub, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    payload = {"lines": [{"item": "KYN28-12", "qualified_qty": 2, "rejected_qty": 0}]}
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps(payload)))
    argv = ("--api", stub.url, "--token", "t", "tasks", "complete", "quality", "inspection-L-1-t1")
    ran = run_cli(capsys, *argv, "--json-file", "-")
    assert ran.code == 0, ran.err
    assert stub.requests[-1] == {
        "method": "POST",
        "path": "/quality/tasks/inspection-L-1-t1/complete",
        "body": payload,
    }
    # A task of no order answers the task itself.
    assert "completed" in ran.out and "task inspection-L-1-t1" in ran.out


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (None, "cannot read the payload file"),
        ("{not json", "is not JSON"),
        ("[1, 2]", "must be a JSON object, not list"),
    ],
)
def test_tasks_complete_refuses_a_payload_file_it_cannot_use(
    stub: Stub,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    content: str | None,
    problem: str,
) -> None:
    path = tmp_path / "payload.json"
    if content is not None:
        path.write_text(content)
    argv = ("--api", stub.url, "--token", "t", "tasks", "complete", "quality", "T-1")
    ran = run_cli(capsys, *argv, "--json-file", str(path))
    assert ran.code == USAGE_ERROR
    assert problem in ran.err and ran.err.count("\n") == 1
    assert stub.requests == []


def test_an_answer_that_is_not_the_apis_error_shape_is_still_one_line(
    stub: Stub, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A proxy in front of the API answering 502 with a page of HTML.
    ran = run_cli(capsys, "--api", f"{stub.url}/broken", "--token", "t", "orders", "list")
    assert ran.code == API_REFUSED
    assert ran.err == "orderflow: the API failed (502 bad gateway): <html>bad gateway</html>\n"

    monkeypatch.setenv("ORDERFLOW_API_URL", "ftp://example.invalid")
    unusable = run_cli(capsys, "--token", "t", "orders", "list")
    assert unusable.code == USAGE_ERROR
    assert "'ftp://example.invalid' is not an http(s) URL" in unusable.err
