"""Spans a test collects from the process's one tracer provider, quietly let go afterwards.

`setup_tracing` installs one provider per process, and a processor added to it stays for the
rest of the session. A `SimpleSpanProcessor` shut down at the end of its test then logs "Processor
is already shutdown" for every span the later tests finish (thousands in a `make test` run).
`SpanCapture` forwards finished spans to its in-memory exporter while the test runs and drops
them without a word once closed.
"""

from __future__ import annotations

from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter


class SpanCapture(SpanProcessor):
    def __init__(self) -> None:
        self.exporter = InMemorySpanExporter()
        self.open = True

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        return None

    def on_end(self, span: ReadableSpan) -> None:
        if self.open:
            self.exporter.export((span,))

    def shutdown(self) -> None:
        self.open = False
        self.exporter.clear()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True
