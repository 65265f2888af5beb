"""Tracing: one OpenTelemetry trace from the HTTP call through Temporal to the database row.

`setup_tracing(settings)` installs the process's TracerProvider once (the gateway's
`create_app` and the worker's `serve` call it) and instruments httpx, so webhooks carry the
trace on. The FastAPI app and every database engine are instrumented where they are made
(`instrument_app`, `instrument_engine`); Temporal carries the trace in headers through
`tracing_interceptor()` on the client, which the client's workers inherit.

Spans go to `ORDERFLOW_OTLP_ENDPOINT` over OTLP/HTTP when it is set, and nowhere otherwise.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from typing import Any

import httpx
import opentelemetry.context
from fastapi import FastAPI
from opentelemetry import metrics, trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.sampling import Decision, Sampler, SamplingResult
from opentelemetry.util.types import Attributes
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio import worker
from temporalio.client import Client
from temporalio.contrib.opentelemetry import TracingInterceptor, TracingWorkflowInboundInterceptor

from shared.settings import Settings

TRACES_PATH = "/v1/traces"
# Probes and scrapes would drown the traces people open.
UNTRACED_URLS = "/healthz,/metrics"

_lock = threading.Lock()
_provider: TracerProvider | None = None
_added: list[SpanProcessor] = []


def otlp_exporter(settings: Settings) -> OTLPSpanExporter | None:
    """The OTLP/HTTP exporter for `otlp_endpoint` (a collector's base URL), None when unset."""
    endpoint = settings.otlp_endpoint.strip().rstrip("/")
    if not endpoint:
        return None
    if not endpoint.endswith(TRACES_PATH):
        endpoint += TRACES_PATH
    return OTLPSpanExporter(endpoint=endpoint)


class WhileExported(Sampler):
    """Records spans only once something takes them: an OTLP exporter, or a processor added
    by `setup_tracing` (a test's in-memory exporter).

    With neither, a span is still made and carries its trace and span ids through HTTP,
    Temporal headers and webhooks, but records nothing: filling the attributes and events of
    every request, statement and activity for no one cost about a tenth of the gateway's and
    workers' CPU (bench/bench_review.py)."""

    def __init__(self) -> None:
        self.exported = False

    def should_sample(
        self,
        parent_context: opentelemetry.context.Context | None,
        trace_id: int,
        name: str,
        kind: trace.SpanKind | None = None,
        attributes: Attributes = None,
        links: Sequence[trace.Link] | None = None,
        trace_state: trace.TraceState | None = None,
    ) -> SamplingResult:
        if self.exported:
            return SamplingResult(Decision.RECORD_AND_SAMPLE, attributes, trace_state)
        return SamplingResult(Decision.DROP, None, trace_state)

    def get_description(self) -> str:
        return "WhileExported"


class QuietTracerProvider(TracerProvider):
    """A TracerProvider whose spans record once it has a span processor (`WhileExported`)."""

    def __init__(self, resource: Resource) -> None:
        self._while_exported = WhileExported()
        super().__init__(resource=resource, sampler=self._while_exported)

    def add_span_processor(self, span_processor: SpanProcessor) -> None:
        super().add_span_processor(span_processor)
        self._while_exported.exported = True


def build_tracer_provider(settings: Settings) -> TracerProvider:
    """A provider naming this service, batching to the OTLP endpoint if one is configured;
    without one its spans record nothing until a processor is added (`WhileExported`)."""
    provider = QuietTracerProvider(Resource.create({SERVICE_NAME: settings.service_name}))
    exporter = otlp_exporter(settings)
    if exporter is not None:
        provider.add_span_processor(BatchSpanProcessor(exporter))
    return provider


def setup_tracing(
    settings: Settings, *, processors: Sequence[SpanProcessor] = ()
) -> TracerProvider:
    """Install this process's tracer provider on first call; later calls return it.

    `processors` (a test's in-memory exporter) are added to the provider on any call.
    """
    global _provider
    with _lock:
        if _provider is None:
            quiet_http_logs()
            _provider = build_tracer_provider(settings)
            trace.set_tracer_provider(_provider)
            HTTPXClientInstrumentor().instrument(
                tracer_provider=_provider,
                request_hook=_scrub_url,
                async_request_hook=_async_scrub_url,
            )
        for processor in processors:
            if processor not in _added:
                _provider.add_span_processor(processor)
                _added.append(processor)
        return _provider


# A chat robot's URL holds its token in the query (DingTalk, WeCom) or the path (Slack,
# Feishu): a client span shows the scheme and host only.
_URL_ATTRIBUTES = ("http.url", "url.full")


def safe_url(url: Any) -> str:
    """A URL's scheme, host and port, nothing that may be a token."""
    parsed = httpx.URL(url) if not isinstance(url, httpx.URL) else url
    port = f":{parsed.port}" if parsed.port else ""
    return f"{parsed.scheme}://{parsed.host}{port}/***"


def _scrub_url(span: trace.Span, request: Any) -> None:
    if not span.is_recording():
        return
    url = request.url if hasattr(request, "url") else request[1]
    if isinstance(url, tuple):  # httpcore's (scheme, host, port, target)
        scheme, host, port, _ = url
        url = httpx.URL(scheme=scheme.decode(), host=host.decode(), port=port)
    attributes = getattr(span, "attributes", None) or {}
    for key in _URL_ATTRIBUTES:
        if key in attributes:
            span.set_attribute(key, safe_url(url))


async def _async_scrub_url(span: trace.Span, request: Any) -> None:
    _scrub_url(span, request)


def quiet_http_logs() -> None:
    """httpx logs every request's full URL at INFO, a chat robot's token with it: only its
    warnings are logged."""
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)


def flush_tracing(timeout_millis: int = 5000) -> None:
    """Send the spans still batched (a process about to exit would lose them)."""
    if _provider is not None:
        _provider.force_flush(timeout_millis)


def instrument_app(app: FastAPI) -> None:
    """Open a server span per request, continuing a caller's `traceparent`."""
    FastAPIInstrumentor.instrument_app(
        app, excluded_urls=UNTRACED_URLS, exclude_spans=["receive", "send"]
    )


def instrument_engine(engine: AsyncEngine) -> None:
    """A span per SQL statement on `engine`, a child of whatever span runs it.

    One EngineTracer per engine (what `SQLAlchemyInstrumentor().instrument(engine=...)` builds,
    which only works for the first engine of a process); it uses the global provider, so it
    may be made before `setup_tracing` runs.
    """
    scope = "opentelemetry.instrumentation.sqlalchemy"
    connections = metrics.get_meter(scope).create_up_down_counter(
        "db.client.connections.usage", unit="connections"
    )
    EngineTracer(trace.get_tracer(scope), engine.sync_engine, connections)


class _UpdateTracing(TracingWorkflowInboundInterceptor):
    """Puts what an update handler does (its activities) in the trace of the update's caller.

    The stock interceptor parents it on the workflow's start and only links the caller, so a
    task completed over HTTP would not show the inbox write it caused in the request's trace.
    It reuses the stock class's span helpers (`_completed_span`, `_set_on_context`: temporalio
    1.35 internals); tests/test_telemetry.py fails if an SDK upgrade changes them.
    """

    def handle_update_validator(self, input: worker.HandleUpdateInput) -> None:
        with self._caller_context(input):
            self._completed_span(f"ValidateUpdate:{input.update}", kind=trace.SpanKind.SERVER)
            self.next.handle_update_validator(input)

    async def handle_update_handler(self, input: worker.HandleUpdateInput) -> Any:
        with self._caller_context(input):
            self._completed_span(f"HandleUpdate:{input.update}", kind=trace.SpanKind.SERVER)
            return await self.next.handle_update_handler(input)

    @contextmanager
    def _caller_context(self, input: worker.HandleUpdateInput) -> Iterator[None]:
        header = input.headers.get(self.header_key)
        carrier = self.payload_converter.from_payloads([header])[0] if header else None
        if carrier:
            context = self.text_map_propagator.extract(carrier)
        else:  # a caller without tracing: the workflow's own trace, as the stock one does
            workflow_carrier = self._load_workflow_context_carrier()
            context = (
                self.text_map_propagator.extract(workflow_carrier)
                if workflow_carrier
                else opentelemetry.context.Context()
            )
        token = opentelemetry.context.attach(self._set_on_context(context))
        try:
            yield
        finally:
            # A handler abandoned by an evicted workflow is finalised in another contextvars
            # context, where the token is not valid and there is nothing to detach.
            with suppress(ValueError):
                token.var.reset(token)


class OrderflowTracing(TracingInterceptor):
    """Temporal's tracing interceptor, with updates traced from their caller."""

    def workflow_interceptor_class(
        self, input: worker.WorkflowInterceptorClassInput
    ) -> type[TracingWorkflowInboundInterceptor]:
        super().workflow_interceptor_class(input)  # registers the span extern function
        return _UpdateTracing


def tracing_interceptor() -> OrderflowTracing:
    """The interceptor for clients (and the workers they build)."""
    return OrderflowTracing()


def worker_interceptors(client: Client) -> list[worker.Interceptor]:
    """What a Worker on `client` must add to trace: nothing when the client already traces
    (a Worker inherits its client's interceptors; twice would double every span)."""
    if any(isinstance(i, TracingInterceptor) for i in client.config()["interceptors"]):
        return []
    return [tracing_interceptor()]
