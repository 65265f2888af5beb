"""Prometheus metrics: the gateway's requests at `GET /metrics`, a worker's Temporal runtime.

The gateway counts and times every request by method, route template (`/{dept}/tasks/{task_id}`,
never the raw path, so ids do not explode the series) and status code. A worker serves the
Temporal SDK's own metrics (`temporal_*`: task slots, polls, latencies) from the SDK's runtime
on `metrics_port`. Neither asks for a token: Prometheus scrapes them.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from fastapi import FastAPI, Request, Response
from fastapi.routing import RouteContext, iter_route_contexts
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

from shared.settings import Settings

# The label of requests no route matched (404s for made-up paths share one series).
UNMATCHED = "unmatched"
LABELS = ("method", "route", "status")


class RequestMetrics:
    """One app's request counter and latency histogram, in a registry of its own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        GCCollector(registry=self.registry)
        self.requests = Counter(
            "orderflow_http_requests",
            "HTTP requests answered, by method, route template and status code.",
            LABELS,
            registry=self.registry,
        )
        self.latency = Histogram(
            "orderflow_http_request_duration_seconds",
            "Time from a request's arrival to its response, by method, route and status code.",
            LABELS,
            registry=self.registry,
        )

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        labels = (method, route, str(status))
        self.requests.labels(*labels).inc()
        self.latency.labels(*labels).observe(seconds)


class RouteTemplates:
    """The full path template (`/engineering/tasks/{task_id}`) of the route that answered.

    The router leaves the matched route in `scope["route"]`, but a route of an included router
    knows only its own part (`/tasks/{task_id}`); FastAPI's route contexts know the whole.
    """

    def __init__(self) -> None:
        self._contexts: dict[int, list[RouteContext]] | None = None

    def of(self, scope: Scope) -> str:
        route = scope.get("route")
        if route is None:
            return UNMATCHED
        if self._contexts is None:  # every router is included by the first request
            self._contexts = self._index(scope["app"].routes)
        candidates = self._contexts.get(id(route), [])
        if len(candidates) > 1:  # one router included under several prefixes
            candidates = [c for c in candidates if c.matches(scope)[0] == Match.FULL]
        path = candidates[0].path if candidates else getattr(route, "path", None)
        return path or UNMATCHED

    @staticmethod
    def _index(routes: Iterable[BaseRoute]) -> dict[int, list[RouteContext]]:
        contexts: dict[int, list[RouteContext]] = {}
        for context in iter_route_contexts(list(routes)):
            contexts.setdefault(id(context.original_route), []).append(context)
        return contexts


class MetricsMiddleware:
    """Times each HTTP request; the route template is known once the router has matched."""

    def __init__(self, app: ASGIApp, metrics: RequestMetrics) -> None:
        self.app = app
        self.metrics = metrics
        self.templates = RouteTemplates()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        # An exception no handler turned into a response becomes a 500 further out.
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            seconds = time.perf_counter() - started
            self.metrics.observe(scope["method"], self.templates.of(scope), status, seconds)


def install_request_metrics(app: FastAPI) -> RequestMetrics:
    """Count and time `app`'s requests and serve them at `GET /metrics` (no token)."""
    metrics = RequestMetrics()
    app.state.request_metrics = metrics
    app.add_middleware(MetricsMiddleware, metrics=metrics)

    # Left out of the OpenAPI document: it is for Prometheus, not for department apps.
    @app.get("/metrics", include_in_schema=False)
    async def prometheus_metrics(request: Request) -> Response:
        """This gateway's request metrics in Prometheus text format."""
        body = generate_latest(request.app.state.request_metrics.registry)
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    return metrics


def worker_runtime(settings: Settings) -> Runtime | None:
    """A Temporal runtime serving its metrics for Prometheus on `metrics_port` (0: none)."""
    if settings.metrics_port == 0:
        return None
    prometheus = PrometheusConfig(bind_address=f"0.0.0.0:{settings.metrics_port}")
    return Runtime(telemetry=TelemetryConfig(metrics=prometheus))
