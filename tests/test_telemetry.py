"""Tracing (shared/telemetry.py): one trace from the HTTP call through Temporal to the SQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer

import shared.telemetry as telemetry
from app.worker import WORKFLOWS
from shared.settings import Settings
from shared.telemetry import setup_tracing, tracing_interceptor
from tests.conftest import Stack, run_stack, settings_for
from tests.helpers import create_order, recorded_histories, wait_task
from tests.span_capture import SpanCapture

REVIEW = "engineering.contract_review"
COMPLETE_ROUTE = "POST /engineering/tasks/{task_id}/complete"


@pytest.fixture
def spans(base_settings: Settings) -> Iterator[InMemorySpanExporter]:
    """Every span this process finishes during the test, kept in memory."""
    processor = SpanCapture()
    setup_tracing(base_settings, processors=[processor])
    yield processor.exporter
    processor.shutdown()  # the provider lives on for the process; the capture stops keeping


@pytest.fixture
async def traced(
    base_settings: Settings, ts_env: WorkflowEnvironment, spans: InMemorySpanExporter
) -> AsyncIterator[Stack]:
    """A stack whose Temporal client traces, as `connect()` builds it."""
    client = Client(**{**ts_env.client.config(), "interceptors": [tracing_interceptor()]})
    async with run_stack(settings_for(base_settings), client) as stack:
        yield stack


async def _trace_of(spans: InMemorySpanExporter, name: str) -> list[ReadableSpan]:
    """The spans of the trace whose server span is `name` (it ends just after the response)."""
    for _ in range(100):
        roots = [s for s in spans.get_finished_spans() if s.name == name]
        if roots:
            assert len(roots) == 1, [s.name for s in roots]
            trace_id = roots[0].context.trace_id
            return [s for s in spans.get_finished_spans() if s.context.trace_id == trace_id]
        await asyncio.sleep(0.05)
    raise AssertionError(f"no {name} span among {[s.name for s in spans.get_finished_spans()]}")


def _ancestors(span: ReadableSpan, by_id: dict[int, ReadableSpan]) -> list[str]:
    names = []
    while span.parent is not None and span.parent.span_id in by_id:
        span = by_id[span.parent.span_id]
        names.append(span.name)
    return names


def _sql(span: ReadableSpan) -> str:
    attributes = span.attributes or {}
    return str(attributes.get("db.statement") or attributes.get("db.query.text") or "")


async def test_completing_a_task_is_one_trace_from_http_to_the_inbox_row(
    traced: Stack, spans: InMemorySpanExporter
) -> None:
    order_no = await create_order(traced)
    task = await wait_task(traced, REVIEW, order_no)
    response = await traced.http.post(
        f"/engineering/tasks/{task['task_id']}/complete",
        json={"ok": True, "design_days": 3},
        headers=traced.token("erin", "engineering"),
    )
    assert response.status_code == 200, response.text

    in_trace = await _trace_of(spans, COMPLETE_ROUTE)
    by_id = {s.context.span_id: s for s in in_trace}
    names = [s.name for s in in_trace]
    (server,) = [s for s in in_trace if s.name == COMPLETE_ROUTE]
    assert server.kind == trace.SpanKind.SERVER
    # The test's own httpx call is the parent: outgoing httpx calls (webhooks) are traced.
    assert server.parent is not None and by_id[server.parent.span_id].kind == trace.SpanKind.CLIENT
    for expected in (
        "StartWorkflowUpdate:complete_task",
        "HandleUpdate:complete_task",
        "RunActivity:close_task",
    ):
        assert expected in names, names
    (close,) = [s for s in in_trace if s.name == "RunActivity:close_task"]
    assert COMPLETE_ROUTE in _ancestors(close, by_id)
    assert "StartWorkflowUpdate:complete_task" in _ancestors(close, by_id)
    writes = [s for s in in_trace if "RunActivity:close_task" in _ancestors(s, by_id)]
    statements = [_sql(s) for s in writes]
    assert any(sql.startswith("UPDATE engineering.") for sql in statements), statements
    assert all(s.kind == trace.SpanKind.CLIENT for s in writes), [s.name for s in writes]


async def test_the_order_workflow_replays_with_tracing_headers_in_its_history(
    traced: Stack,
) -> None:
    order_no = await create_order(traced)
    await wait_task(traced, REVIEW, order_no)
    history = await traced.client.get_workflow_handle(f"order-{order_no}").fetch_history()
    assert any(
        "_tracer-data" in event.workflow_execution_started_event_attributes.header.fields
        for event in history.events
        if event.HasField("workflow_execution_started_event_attributes")
    )
    recorded = recorded_histories()
    replayer = Replayer(
        workflows=WORKFLOWS,
        interceptors=[tracing_interceptor()],
        data_converter=pydantic_data_converter,
    )
    for each in [history, *recorded]:
        await replayer.replay_workflow(each)


class _Spy:
    """Records how a class was constructed, and constructs it."""

    def __init__(self, cls: type) -> None:
        self.cls = cls
        self.calls: list[dict[str, Any]] = []

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.calls.append(kwargs)
        return self.cls(*args, **kwargs)


def test_without_an_otlp_endpoint_no_exporter_is_made(
    base_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    exporter, batch = _Spy(telemetry.OTLPSpanExporter), _Spy(telemetry.BatchSpanProcessor)
    monkeypatch.setattr(telemetry, "OTLPSpanExporter", exporter)
    monkeypatch.setattr(telemetry, "BatchSpanProcessor", batch)
    provider = telemetry.build_tracer_provider(
        base_settings.model_copy(update={"otlp_endpoint": ""})
    )
    provider.get_tracer(__name__).start_span("nowhere").end()
    provider.shutdown()
    assert exporter.calls == [] and batch.calls == []


def test_without_an_exporter_spans_carry_their_ids_and_record_nothing_until_one_is_added(
    base_settings: Settings,
) -> None:
    provider = telemetry.build_tracer_provider(
        base_settings.model_copy(update={"otlp_endpoint": ""})
    )
    tracer = provider.get_tracer(__name__)
    with tracer.start_as_current_span("unseen") as parent:
        assert not parent.is_recording()
        assert parent.get_span_context().is_valid  # ids still travel in headers and logs
        child = tracer.start_span("unseen child")
        assert child.get_span_context().trace_id == parent.get_span_context().trace_id
        child.end()
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    with tracer.start_as_current_span("seen", attributes={"k": "v"}) as span:
        assert span.is_recording()
    assert [(s.name, dict(s.attributes or {})) for s in exporter.get_finished_spans()] == [
        ("seen", {"k": "v"})
    ]
    provider.shutdown()


def test_an_otlp_endpoint_gets_a_batching_otlp_http_exporter(
    base_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    exporter, batch = _Spy(telemetry.OTLPSpanExporter), _Spy(telemetry.BatchSpanProcessor)
    monkeypatch.setattr(telemetry, "OTLPSpanExporter", exporter)
    monkeypatch.setattr(telemetry, "BatchSpanProcessor", batch)
    settings = base_settings.model_copy(
        update={"otlp_endpoint": "http://collector.invalid:4318/", "service_name": "gw-test"}
    )
    provider = telemetry.build_tracer_provider(settings)
    assert exporter.calls == [{"endpoint": "http://collector.invalid:4318/v1/traces"}]
    assert len(batch.calls) == 1
    assert provider.resource.attributes["service.name"] == "gw-test"
    provider.shutdown()  # no span was made, so nothing is sent


def test_setup_tracing_installs_one_provider_per_process(base_settings: Settings) -> None:
    first = setup_tracing(base_settings)
    assert setup_tracing(base_settings.model_copy(update={"service_name": "other"})) is first
    assert trace.get_tracer_provider() is first
