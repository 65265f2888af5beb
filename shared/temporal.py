"""Temporal client setup, search attributes and task-queue names."""

from __future__ import annotations

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import (
    AddSearchAttributesRequest,
    ListSearchAttributesRequest,
)
from temporalio.client import Client
from temporalio.common import SearchAttributeKey
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.runtime import Runtime
from temporalio.service import RPCError, RPCStatusCode, TLSConfig

from shared.settings import DEPARTMENTS, Settings
from shared.telemetry import tracing_interceptor

ORDER_NO = SearchAttributeKey.for_keyword("OrderNo")
CUSTOMER = SearchAttributeKey.for_keyword("Customer")
STAGE = SearchAttributeKey.for_keyword("Stage")
DUE_DATE = SearchAttributeKey.for_datetime("DueDate")
ESCALATED = SearchAttributeKey.for_bool("Escalated")
SEARCH_ATTRIBUTES = (ORDER_NO, CUSTOMER, STAGE, DUE_DATE, ESCALATED)

# `temporal server start-dev --search-attribute NAME=TYPE` arguments for the embedded server.
SEARCH_ATTRIBUTE_ARGS: tuple[str, ...] = (
    "OrderNo=Keyword",
    "Customer=Keyword",
    "Stage=Keyword",
    "DueDate=Datetime",
    "Escalated=Bool",
)


def workflow_queue(prefix: str) -> str:
    """The task queue every orderflow workflow runs on."""
    return f"{prefix}-workflows"


def department_queue(prefix: str, department: str) -> str:
    """The task queue of one department's activities."""
    return f"{prefix}-{department}"


def all_queues(prefix: str) -> list[str]:
    return [workflow_queue(prefix), *(department_queue(prefix, d) for d in DEPARTMENTS)]


async def connect(settings: Settings, *, runtime: Runtime | None = None) -> Client:
    """A client on the configured (or embedded) Temporal server, with the pydantic converter.

    It carries the OpenTelemetry trace in Temporal headers (its workers inherit that);
    `runtime` is the worker's, which serves the SDK's metrics.
    """
    return await Client.connect(
        settings.temporal_target,
        namespace=settings.temporal_namespace,
        api_key=settings.temporal_api_key.get_secret_value() or None,
        tls=tls_config(settings),
        data_converter=pydantic_data_converter,
        interceptors=[tracing_interceptor()],
        runtime=runtime,
    )


def tls_config(settings: Settings) -> bool | TLSConfig:
    """TLS towards Temporal: mTLS with the configured client certificate, the frontend checked
    against the private CA when one is given (else the system's trust store), plain TLS with an
    API key (Temporal Cloud) or when asked for, none for a local server."""
    ca = settings.temporal_tls_ca.read_bytes() if settings.temporal_tls_ca is not None else None
    if settings.temporal_tls_cert is not None and settings.temporal_tls_key is not None:
        return TLSConfig(
            server_root_ca_cert=ca,
            client_cert=settings.temporal_tls_cert.read_bytes(),
            client_private_key=settings.temporal_tls_key.read_bytes(),
        )
    if ca is not None:
        return TLSConfig(server_root_ca_cert=ca)
    return bool(settings.temporal_api_key.get_secret_value()) or settings.temporal_tls


_INDEXED_TYPES = {
    "Keyword": IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
    "Datetime": IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
    "Bool": IndexedValueType.INDEXED_VALUE_TYPE_BOOL,
}


async def ensure_search_attributes(client: Client) -> None:
    """Register orderflow's search attributes on a server that lacks them (safe to repeat)."""
    try:
        listed = await client.operator_service.list_search_attributes(
            ListSearchAttributesRequest(namespace=client.namespace)
        )
        known = set(listed.custom_attributes) | set(listed.system_attributes)
    except RPCError as exc:  # the time-skipping test server only implements adding them
        if exc.status != RPCStatusCode.UNIMPLEMENTED:
            raise
        known = set()
    missing = {
        name: _INDEXED_TYPES[kind]
        for name, kind in (arg.split("=") for arg in SEARCH_ATTRIBUTE_ARGS)
        if name not in known
    }
    if missing:
        await client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(namespace=client.namespace, search_attributes=missing)
        )
