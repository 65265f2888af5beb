"""Schemathesis against the live app (issue 11, item 6): every operation of the OpenAPI document
fuzzed over real HTTP with an admin token, and the stateful links it declares (intake → the
order's views and inbox, an inbox → its tasks) followed. No answer may be a 5xx, and every
answer must be one the document describes: its status, content type and body schema.

The budget is bounded and the run reproducible: a fixed seed, deterministic generation and a
few examples per operation. Schemathesis calls the API synchronously (requests), so it runs in a
thread while the gateway keeps serving on the test's event loop.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import schemathesis
from schemathesis.core import NotSet
from schemathesis.engine import events

from app.gateway import create_app
from app.openapi import PAYLOAD_PREFIX
from shared.settings import DEPARTMENTS, Settings
from shared.tasks.kinds import TASK_KINDS
from tests.conftest import Stack
from tests.helpers import create_order, wait_task

# Every check of "the answer is one the document describes", and no server errors.
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
)


def run_schemathesis(base_url: str, authorization: str) -> tuple[list[str], set[str]]:
    """Run every phase against `base_url`: one line per distinct failure (empty: none), and
    the phases that ran."""
    config = schemathesis.Config.from_dict(
        {
            "seed": 11,
            "continue-on-failure": True,
            "workers": 1,
            "headers": {"Authorization": authorization},
            # A request the app never answers (a completion retrying forever) is a failure.
            "request-timeout": 10,
            "generation": {"max-examples": 10, "deterministic": True, "no-shrink": True},
            "checks": {
                "enabled": False,
                **{name: {"enabled": True} for name in CHECKS},
            },
            # The coverage phase's boundary cases are not bounded by max-examples; the
            # fuzzing and stateful phases are what the issue asks for.
            "phases": {"coverage": {"enabled": False}, "stateful": {"max-steps": 6}},
        }
    )
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json", config=config)
    failures: set[str] = set()
    ran: set[str] = set()
    for event in schemathesis.engine.from_schema(schema).execute():
        if isinstance(event, events.PhaseFinished) and event.phase.is_enabled:
            ran.add(event.phase.name.value)
        if isinstance(event, events.FatalError):
            raise event.exception
        if isinstance(event, events.NonFatalError):
            failures.add(f"error in {event.label}: {event.info.message}")
        if not isinstance(event, events.ScenarioFinished):
            continue
        recorder = event.recorder
        for case_id, checks in recorder.checks.items():
            for check in checks:
                if check.failure_info is None:
                    continue
                failure = check.failure_info.failure
                case = recorder.cases[case_id].value if case_id in recorder.cases else None
                response = recorder.find_response(case_id=case_id)
                failures.add(
                    f"{check.name} {failure.operation}: {failure.title}"
                    f" | request {_request(case)}"
                    f" | answer {_answer(response)}"
                )
    return sorted(failures), ran


def _request(case: schemathesis.Case | None) -> str:
    if case is None:
        return "?"
    body = "" if isinstance(case.body, NotSet) else f" body={case.body!r}"
    return f"path={case.path_parameters} query={case.query}{body}"[:400]


def _answer(response: schemathesis.Response | None) -> str:
    if response is None:
        return "none"
    return f"{response.status_code} {response.text[:200]!r}"


async def test_schemathesis_finds_no_server_error_and_no_undocumented_answer(
    stack: Stack,
) -> None:
    # An order with an open task, so the inbox links lead schemathesis to a real task to show
    # and complete (its generated intakes are refused: the schema lacks the unit list).
    order_no = await create_order(stack)
    await wait_task(stack, "engineering.contract_review", order_no)
    base_url = str(stack.http.base_url).rstrip("/")
    authorization = stack.token("schemathesis", "admin")["Authorization"]
    started = time.monotonic()
    failures, ran = await asyncio.to_thread(run_schemathesis, base_url, authorization)
    elapsed = time.monotonic() - started
    # The stateful phase runs only when the document declares links: it must not be skipped.
    assert {"fuzzing", "stateful"} <= ran, ran
    assert not failures, f"{len(failures)} failures in {elapsed:.0f} s:\n" + "\n".join(failures)


def _document() -> dict[str, Any]:
    settings = Settings(env="test", jwt_key="k" * 40, webhook_secret="test-webhook-secret")
    return create_app(settings).openapi()


def test_the_document_gives_every_error_answer_the_error_shape() -> None:
    doc = _document()
    assert "HTTPValidationError" not in doc["components"]["schemas"]
    for path, operations in doc["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            if operation.get("security"):
                assert {"401", "403", "422"} <= responses.keys(), (method, path)
            if "{" in path:
                assert "404" in responses, (method, path)
            if "requestBody" in operation:
                assert {"400", "413"} <= responses.keys(), (method, path)
            for status, response in responses.items():
                if int(status) < 400:
                    continue
                ref = response["content"]["application/json"]["schema"]["$ref"]
                expected = "InvalidRequestError" if status == "422" else "Error"
                assert ref == f"#/components/schemas/{expected}", (method, path, status)


def test_the_completion_body_is_one_of_the_departments_payloads() -> None:
    paths = _document()["paths"]
    for department in DEPARTMENTS:
        body = paths[f"/{department}/tasks/{{task_id}}/complete"]["post"]["requestBody"]
        choices = body["content"]["application/json"]["schema"]["anyOf"]
        documented = {choice["$ref"].rsplit("/", 1)[1] for choice in choices}
        expected = {
            PAYLOAD_PREFIX + kind.payload.__name__
            for kind in TASK_KINDS.values()
            if kind.department == department
        }
        assert documented == expected, department
