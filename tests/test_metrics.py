"""Prometheus metrics (shared/metrics.py): the gateway's `/metrics` and a worker's runtime."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from app.runner import Stack as RunStack
from app.runner import StartupError, _check_ports, _print_banner
from app.worker import serve
from shared.metrics import install_request_metrics, worker_runtime
from shared.settings import Settings
from tests.conftest import Stack, free_port, run_stack, settings_for
from tests.helpers import create_order, wait_task

TASK_ROUTE = "/engineering/tasks/{task_id}"


def _samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of a Prometheus text page, keyed by name and labels."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def _labels(**labels: str) -> frozenset[tuple[str, str]]:
    return frozenset(labels.items())


async def test_gateway_metrics_count_and_time_requests_by_route_template(stack: Stack) -> None:
    ops = stack.token("o", "ops")
    for task_id in ("order-x-t1", "order-y-t2"):  # two raw paths, one route
        response = await stack.http.get(f"/engineering/tasks/{task_id}", headers=ops)
        assert response.status_code == 404, response.text
    assert (await stack.http.get("/engineering/tasks")).status_code == 401
    assert (await stack.http.get("/no/such/path")).status_code == 404

    response = await stack.http.get("/metrics")  # no token: Prometheus scrapes it
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    samples = _samples(response.text)

    missing = _labels(method="GET", route=TASK_ROUTE, status="404")
    assert samples[("orderflow_http_requests_total", missing)] == 2
    assert samples[("orderflow_http_request_duration_seconds_count", missing)] == 2
    assert (
        samples[("orderflow_http_request_duration_seconds_bucket", missing | {("le", "+Inf")})] == 2
    )
    assert (
        samples[("orderflow_http_request_duration_seconds_bucket", missing | {("le", "10.0")})] == 2
    )
    refused = _labels(method="GET", route="/engineering/tasks", status="401")
    assert samples[("orderflow_http_requests_total", refused)] == 1
    unmatched = _labels(method="GET", route="unmatched", status="404")
    assert samples[("orderflow_http_requests_total", unmatched)] == 1
    assert "order-x-t1" not in response.text and "/no/such/path" not in response.text
    assert any(name == "process_cpu_seconds_total" for name, _ in samples)


async def test_metrics_is_not_in_the_openapi_document(stack: Stack) -> None:
    # Every documented route but /healthz takes a token (test_api_auth); /metrics is for
    # Prometheus, so it stays out of the contract.
    paths = (await stack.http.get("/openapi.json")).json()["paths"]
    assert "/metrics" not in paths


async def test_worker_runtime_serves_temporal_metrics_for_prometheus(
    base_settings: Settings, ts_env: WorkflowEnvironment
) -> None:
    settings = settings_for(base_settings, metrics_port=free_port())
    runtime = worker_runtime(settings)
    assert runtime is not None
    # The worker's client on the test server, through the runtime that serves the metrics.
    client = await Client.connect(
        ts_env.client.service_client.config.target_host,
        namespace=ts_env.client.namespace,
        data_converter=pydantic_data_converter,
        runtime=runtime,
    )
    async with run_stack(settings, client) as stack:
        order_no = await create_order(stack)  # a workflow and its activities run
        await wait_task(stack, "engineering.contract_review", order_no)
        url = f"http://127.0.0.1:{settings.metrics_port}/metrics"
        async with httpx.AsyncClient(timeout=5) as http:
            for _ in range(50):
                text = (await http.get(url)).text
                if "temporal_activity_execution_latency" in text:
                    break
                await asyncio.sleep(0.1)
    names = {name for name, _ in _samples(text)}
    assert {n for n in names if n.startswith("temporal_")}, sorted(names)[:20]
    assert any(n.startswith("temporal_workflow_task_execution_latency") for n in names), names
    assert any(n.startswith("temporal_activity_execution_latency") for n in names), names


def test_no_metrics_port_means_no_runtime_of_our_own(base_settings: Settings) -> None:
    assert worker_runtime(base_settings.model_copy(update={"metrics_port": 0})) is None


async def test_one_router_under_two_prefixes_keeps_two_route_labels() -> None:
    shared_router = APIRouter()

    @shared_router.get("/tasks/{task_id}")
    async def show(task_id: str) -> dict[str, str]:
        return {"task_id": task_id}

    app = FastAPI()
    metrics = install_request_metrics(app)
    app.include_router(shared_router, prefix="/quality")
    app.include_router(shared_router, prefix="/sales")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gw") as http:
        for path in ("/quality/tasks/a", "/quality/tasks/b", "/sales/tasks/c"):
            assert (await http.get(path)).status_code == 200
    samples = _samples(generate_latest(metrics.registry).decode())
    for route, count in (("/quality/tasks/{task_id}", 2), ("/sales/tasks/{task_id}", 1)):
        labels = _labels(method="GET", route=route, status="200")
        assert samples[("orderflow_http_requests_total", labels)] == count


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A port something already listens on, on every interface."""
    with socket.socket() as sock:
        sock.bind(("0.0.0.0", 0))
        sock.listen()
        yield int(sock.getsockname()[1])


def test_make_run_names_the_setting_when_the_worker_metrics_port_is_taken(
    base_settings: Settings, busy_port: int
) -> None:
    settings = base_settings.model_copy(
        update={"metrics_port": busy_port, "http_port": free_port(), "temporal_address": "x:1"}
    )
    with pytest.raises(StartupError, match=f"port {busy_port} .*ORDERFLOW_METRICS_PORT"):
        _check_ports(settings)


async def test_a_worker_names_the_setting_when_its_metrics_port_is_taken(
    base_settings: Settings, busy_port: int
) -> None:
    with pytest.raises(SystemExit, match="ORDERFLOW_METRICS_PORT"):
        await serve(base_settings.model_copy(update={"metrics_port": busy_port}))


def test_the_make_run_banner_shows_both_metrics_urls(
    base_settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = base_settings.model_copy(update={"http_port": 8123, "metrics_port": 9123})
    _print_banner(RunStack(settings=settings, home=settings.home))
    out = capsys.readouterr().out
    assert "http://127.0.0.1:8123/metrics (gateway)" in out
    assert "http://127.0.0.1:9123/metrics (worker)" in out
