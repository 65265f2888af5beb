"""Error answers: `{error, detail, request_id}` JSON with an `X-Request-ID`, an unhandled error
included (no exception text); /healthz names what is down without saying why; the customer
filter matches `%`, `_` and `\\` literally."""

from __future__ import annotations

import uuid

import httpx
from fastapi import FastAPI
from temporalio.testing import WorkflowEnvironment

from app.gateway import create_app
from shared.db import create_engine
from shared.like import escape_like
from shared.settings import Settings
from tests.conftest import Stack, free_port
from tests.helpers import create_order

SECRET = "password=hunter2 in a stack trace"


def _app_with_a_broken_route(settings: Settings) -> FastAPI:
    app = create_app(settings)

    @app.get("/test-only/boom")
    async def boom() -> None:
        raise RuntimeError(SECRET)

    return app


def _client(app: FastAPI) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://orderflow")


async def test_an_unhandled_error_is_a_json_500_quoting_the_request_id(
    base_settings: Settings,
) -> None:
    async with _client(_app_with_a_broken_route(base_settings)) as http:
        response = await http.get("/test-only/boom")
        quoted = await http.get("/test-only/boom", headers={"X-Request-ID": "support-1234"})
        insane = await http.get("/test-only/boom", headers={"X-Request-ID": "a b\x7f" * 100})
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    rid = response.headers["X-Request-ID"]
    assert body == {
        "error": "internal_error",
        "detail": f"internal error; quote request id {rid}",
        "request_id": rid,
    }
    assert SECRET not in response.text and len(rid) >= 16
    assert quoted.headers["X-Request-ID"] == quoted.json()["request_id"] == "support-1234"
    assert insane.headers["X-Request-ID"] == insane.json()["request_id"] != "a b"
    assert " " not in insane.json()["request_id"]


async def test_every_error_answer_carries_its_request_id(stack: Stack) -> None:
    missing = await stack.http.get("/no/such/path", headers={"X-Request-ID": "r-1"})
    anonymous = await stack.http.get("/orders", headers={"X-Request-ID": "r-2"})
    assert missing.status_code == 404 and missing.json()["request_id"] == "r-1"
    assert missing.headers["X-Request-ID"] == "r-1"
    assert anonymous.status_code == 401 and anonymous.json()["request_id"] == "r-2"
    assert set(anonymous.json()) >= {"error", "detail", "request_id"}


async def test_healthz_names_the_database_when_it_is_down_without_its_error(
    base_settings: Settings, ts_env: WorkflowEnvironment
) -> None:
    app = create_app(base_settings)
    app.state.engine = create_engine(f"postgresql+asyncpg://nobody@127.0.0.1:{free_port()}/none")
    app.state.temporal = ts_env.client
    try:
        async with _client(app) as http:
            response = await http.get("/healthz")
    finally:
        await app.state.engine.dispose()
    assert response.status_code == 503
    body = response.json()
    assert body["error"] == "unhealthy" and body["down"] == ["database"]
    assert body["detail"] == "database unavailable"
    assert body["request_id"] == response.headers["X-Request-ID"]
    for leak in ("Error", "refused", "127.0.0.1", "nobody"):
        assert leak not in response.text, leak


async def test_the_customer_filter_takes_wildcards_literally(stack: Stack) -> None:
    sfx = uuid.uuid4().hex[:8]
    literal = await create_order(stack, customer=f"100% Power_{sfx} \\ Co")
    lookalike = await create_order(stack, customer=f"1000 PowerX{sfx} \\ Co")
    headers = stack.token("ops-bot", "ops")

    async def found(customer: str) -> set[str]:
        response = await stack.http.get("/orders", params={"customer": customer}, headers=headers)
        assert response.status_code == 200, response.text
        return {o["order_no"] for o in response.json()}

    assert await found(f"0% Power_{sfx} \\") == {literal}
    assert await found(f"power_{sfx}") == {literal}
    assert await found(f"{sfx} \\ co") == {literal, lookalike}


def test_like_escaping_covers_the_escape_character_itself() -> None:
    assert escape_like("a%b_c\\d") == "a\\%b\\_c\\\\d"
