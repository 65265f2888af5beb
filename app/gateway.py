"""The HTTP gateway: one FastAPI app mounting every department under its prefix.

`create_app()` serves all eight (what `make run` starts); `create_app(departments=[...])` or
`ORDERFLOW_DEPARTMENTS=quality` serves some, which is how one department runs as its own
Deployment.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text
from temporalio.client import Client

from app.desk import install_desk
from app.limits import install_input_limits
from app.openapi import install_openapi
from services.escalations.ack import hide_ack_tokens_in_logs
from services.escalations.ack import router as ack_router
from services.escalations.api import router as escalations_router
from services.escalations.channels_api import router as channels_router
from services.orders.api import router as orders_router
from services.planning.api import reports_router
from shared.actor import signing_client
from shared.auth import TokenVerifier
from shared.db import create_engine
from shared.errors import install_error_handlers, request_id
from shared.metrics import install_request_metrics
from shared.settings import DEPARTMENTS, Settings, get_settings
from shared.telemetry import flush_tracing, instrument_app, setup_tracing
from shared.temporal import connect
from shared.working_time.store import CalendarSource

log = logging.getLogger("orderflow.api")


def create_app(
    settings: Settings | None = None,
    *,
    departments: Sequence[str] | None = None,
    temporal: Client | None = None,
) -> FastAPI:
    """The orderflow API for `departments` (else `ORDERFLOW_DEPARTMENTS`, else all eight),
    with its engine and Temporal client in app.state."""
    settings = settings or get_settings()
    if departments is None:
        departments = settings.departments or DEPARTMENTS

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if not settings.database_url:
            raise RuntimeError("ORDERFLOW_DATABASE_URL is not set: start the API with make run")
        app.state.engine = create_engine(settings.database_url)
        app.state.calendar = CalendarSource(app.state.engine, settings)
        # Every update the gateway sends carries its signed actor assertion (shared/actor.py).
        app.state.temporal = signing_client(
            temporal or await connect(settings), settings.actor_signing_key()
        )
        try:
            yield
        finally:
            await app.state.engine.dispose()
            await asyncio.to_thread(flush_tracing)

    app = FastAPI(
        title="orderflow",
        version="0.1.0",
        description="Order-to-delivery orchestration: every department's inbox, the order "
        "views, and escalations. Errors are `{error, detail}`.",
        lifespan=lifespan,
        # Swagger UI is served by the desk from vendored files (no CDN): see install_desk.
        docs_url=None,
    )
    app.state.settings = settings
    app.state.verifier = TokenVerifier(settings)
    install_error_handlers(app)
    # Size, credential and clean parameters checked before any route reads the body.
    install_input_limits(app, settings)
    install_openapi(app)
    # Telemetry: a span per request (Temporal and SQL spans nest under it), and /metrics.
    setup_tracing(settings)
    instrument_app(app)
    install_request_metrics(app)
    for dept in departments:
        app.include_router(importlib.import_module(f"services.{dept}.api").router)
    app.include_router(orders_router)
    app.include_router(reports_router)
    # One-click acknowledge links: the signed token in the path is the credential.
    app.include_router(ack_router)
    hide_ack_tokens_in_logs()
    app.include_router(channels_router)
    app.include_router(escalations_router)
    install_desk(app)

    @app.get("/healthz", tags=["health"])
    async def healthz(request: Request) -> JSONResponse:
        """200 when Temporal and the database answer; 503 naming what does not."""
        down = []  # named, never explained: exception text stays in the log
        try:
            async with app.state.engine.connect() as conn:
                await asyncio.wait_for(conn.execute(text("SELECT 1")), timeout=3)
        except Exception:
            log.warning("healthz: the database does not answer", exc_info=True)
            down.append("database")
        try:
            await asyncio.wait_for(app.state.temporal.service_client.check_health(), timeout=3)
        except Exception:
            log.warning("healthz: Temporal does not answer", exc_info=True)
            down.append("temporal")
        if down:
            detail = f"{' and '.join(down)} unavailable"
            return JSONResponse(
                {
                    "error": "unhealthy",
                    "detail": detail,
                    "down": down,
                    "request_id": request_id(request),
                },
                status_code=503,
            )
        return JSONResponse({"status": "ok", "departments": list(departments)})

    return app
