"""Every benchmark runs once on its tiny size, so none can rot unnoticed (bench/README.md).

Not a timed test: it asserts that `measure("tiny")` returns figures under the benchmark's own
name with finite values and no judged target. The benchmarks run in this process on the
session's PostgreSQL (a fresh migrated database each) and one shared dev server, lent to
bench/stack.py through its environment variables (bench_history still starts its own);
bench/run.py's own test runs the cheapest benchmark in its child process instead. The whole
file takes about 30 s here: keep each benchmark's tiny size to a second or two of its work.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import AsyncIterator

import pytest
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from app.temporal_dev import temporal_binary
from bench.figures import Figure
from bench.run import discover, main, run_one
from bench.stack import DATABASE_VARIABLE, TEMPORAL_VARIABLE
from shared.temporal import SEARCH_ATTRIBUTES

# The benchmark the runner's test drives through bench/run.py (the cheapest: no database).
THROUGH_RUNNER = "sqlite_sync"


def check(name: str, figures: list[Figure]) -> None:
    """Figures under the benchmark's own name, finite, and no target judged on tiny."""
    assert figures, f"bench_{name} measured nothing"
    for figure in figures:
        assert figure.bench == name, figure
        assert math.isfinite(figure.value), figure
        assert figure.floor is None or math.isfinite(figure.floor), figure
        assert figure.ok is None, f"a tiny run judges no target: {figure}"


@pytest.fixture(scope="module")
async def dev_server() -> AsyncIterator[str]:
    """One Temporal dev server (in memory) for this file's benchmarks; its address."""
    env = await WorkflowEnvironment.start_local(
        data_converter=pydantic_data_converter,
        search_attributes=SEARCH_ATTRIBUTES,
        dev_server_existing_path=str(temporal_binary()),
        dev_server_log_level="error",
    )
    yield env.client.service_client.config.target_host
    await env.shutdown()


@pytest.mark.parametrize("name", [name for name in discover() if name != THROUGH_RUNNER])
async def test_benchmark_runs_on_tiny_size(
    name: str, dev_server: str, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(DATABASE_VARIABLE, database_url)
    monkeypatch.setenv(TEMPORAL_VARIABLE, dev_server)
    module = importlib.import_module(f"bench.bench_{name}")
    check(name, await module.measure("tiny"))


def test_runner_hands_figures_back_and_reports_crashes() -> None:
    """bench/run.py's child process on the cheapest benchmark (two dev servers, no database):
    its figures come back as JSON; a benchmark that crashes is reported, not raised."""
    check(THROUGH_RUNNER, run_one(THROUGH_RUNNER, "tiny"))
    with pytest.raises(RuntimeError, match="no_such_bench crashed"):
        run_one("no_such_bench", "tiny")
    with pytest.raises(SystemExit) as unknown:
        main(["--only", "no_such_bench"])
    assert unknown.value.code == 2
