"""The OpenAPI document as the API really answers: every error as `{error, detail}`, the
task-completion body per department's kinds, and links from an order's intake to its views.

FastAPI documents only a 2xx and its own `HTTPValidationError` 422, which this app never sends
(shared/errors.py turns every error into `{error, detail}`). `install_openapi` post-processes
the generated document once, centrally, so no route has to repeat the error answers.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, get_args

from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic.json_schema import models_json_schema

from shared.deps import TemporalDep
from shared.payloads import Payload
from shared.tasks.kinds import TASK_KINDS

REF = "#/components/schemas/"
PAYLOAD_PREFIX = "TaskPayload."

# Every error answer; other fields (the request id, a 422's problems) may come with it.
ERROR_SCHEMA: dict[str, Any] = {
    "title": "Error",
    "type": "object",
    "required": ["error", "detail"],
    "properties": {
        "error": {"type": "string", "description": "a code clients can branch on"},
        "detail": {"type": "string", "description": "a sentence for people"},
    },
    "additionalProperties": True,
}

# A 422: FastAPI's own validation errors and the payload checks list their field problems.
INVALID_SCHEMA: dict[str, Any] = {
    "title": "InvalidRequestError",
    "type": "object",
    "required": ["error", "detail"],
    "properties": {
        **ERROR_SCHEMA["properties"],
        "problems": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "problem"],
                "properties": {"field": {"type": "string"}, "problem": {"type": "string"}},
            },
            "description": "each invalid field (dotted path) and what is wrong with it",
        },
    },
    "additionalProperties": True,
}

DESCRIPTIONS: dict[str, str] = {
    "400": "`http_error`: the body is not JSON.",
    "401": "`unauthorized`: no bearer token, or one that is not valid here.",
    "403": "`forbidden`: the token's roles may not do this.",
    "404": "`not_found` (or `report_not_found`): what the request names does not exist.",
    "409": "A conflict with the current state, e.g. `task_not_open`, `duplicate_order`, "
    "`order_not_cancellable`, `change_refused`, `issue_refused`, `delay_warning_refused`, "
    "`workflow_closed`, `exception_overlaps`, `four_eyes`, `duplicate_payment`, "
    "`order_not_payable`, `bom_not_open`, `draft_released`.",
    "413": "`body_too_large`: the request body is over the size limit.",
    "422": "`invalid_request` (with `problems`), `invalid_payload` or a route's own code: the "
    "request is not valid.",
    "502": "`channel_refused`: the chat platform (or mail server) did not take the message; "
    "`detail` says what it answered.",
    "503": "`unavailable`: Temporal did not take the request; try again.",
}

# Operations that answer 404 without naming a resource in their path.
NOT_FOUND_EXTRA = {
    ("get", "/warehouse/trace"),
    ("get", "/planning/reports"),
    ("post", "/warehouse/returns"),
    ("post", "/aftersales/cases"),
    ("get", "/aftersales/cases"),
    ("get", "/sales/receivables"),
}

# Operations that pass on a third party's refusal.
BAD_GATEWAY = {("post", "/escalations/channels/{name}/test")}

# Operations that can conflict with the state (anything sending a workflow update can find
# its workflow closed); paths are regular expressions, `[^/]+` standing for a department.
CONFLICTS = [
    ("post", r"/[^/]+/tasks/\{task_id\}/complete"),
    ("post", r"/sales/orders"),
    ("post", r"/sales/orders/\{order_no\}/cancel"),
    ("post", r"/sales/orders/\{order_no\}/changes"),
    ("post", r"/production/orders/\{order_no\}/issues"),
    ("post", r"/planning/orders/\{order_no\}/delay-warnings"),
    ("post", r"/warehouse/receipts"),
    ("post", r"/escalations/\{escalation_id\}/ack"),
    ("post", r"/escalations/\{escalation_id\}/resolve"),
    ("post", r"/planning/calendar/exceptions"),
    # After-sales: a case on an undelivered or out-of-warranty order, parts for a resolved
    # case, a return naming a case of another order.
    ("post", r"/aftersales/cases"),
    ("post", r"/aftersales/cases/\{case_id\}/parts"),
    ("post", r"/warehouse/returns"),
    ("post", r"/sales/orders/\{order_no\}/payments"),
    # Issue 16, procurement: a line that owes nothing (`po_line_closed`), a watch that ended.
    ("post", r"/procurement/purchase-orders/\{po_no\}/promise"),
    # Issue 17: a BOM draft for an order whose BOM is released or no longer to be released.
    ("post", r"/engineering/orders/\{order_no\}/bom-drafts"),
]

_COMPLETE = re.compile(r"^/(?P<department>[^/]+)/tasks/\{task_id\}/complete$")
_TEMPORAL = get_args(TemporalDep)[1].dependency


def install_openapi(app: FastAPI) -> None:
    """Serve `describe(app)` as the app's OpenAPI document (built once, on first use)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            # FastAPI's own document (with every option the app was made with), then ours.
            app.openapi_schema = describe(app, FastAPI.openapi(app))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def describe(app: FastAPI, doc: dict[str, Any]) -> dict[str, Any]:
    """FastAPI's document `doc` of `app`, given the real error answers, bodies and links."""
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    schemas["Error"] = ERROR_SCHEMA
    schemas["InvalidRequestError"] = INVALID_SCHEMA
    temporal_ops = _operations_using(app, _TEMPORAL)
    for path, operations in doc["paths"].items():
        for method, operation in operations.items():
            _add_errors(method, path, operation, uses_temporal=(method, path) in temporal_ops)
            match = _COMPLETE.match(path)
            if match and method == "post":
                _document_payloads(operation, match["department"], schemas)
    # Nothing refers to FastAPI's validation error shape any more: the app never sends it.
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    _add_links(doc)
    return doc


def _operations_using(app: FastAPI, dependency: Callable[..., Any]) -> set[tuple[str, str]]:
    """(method, path) of every operation whose dependencies include `dependency`."""
    found: set[tuple[str, str]] = set()
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if not isinstance(route, APIRoute) or context.path is None:
            continue
        pending, calls = [route.dependant], set()
        while pending:
            dependant = pending.pop()
            calls.add(dependant.call)
            pending.extend(dependant.dependencies)
        if dependency in calls:
            found.update((method.lower(), context.path) for method in context.methods or ())
    return found


def _error(status: str, schema: str = "Error") -> dict[str, Any]:
    return {
        "description": DESCRIPTIONS[status],
        "content": {"application/json": {"schema": {"$ref": REF + schema}}},
    }


def _add_errors(method: str, path: str, operation: dict[str, Any], *, uses_temporal: bool) -> None:
    responses = operation.setdefault("responses", {})
    statuses = ["400"] if "requestBody" in operation else []
    if operation.get("security"):
        statuses += ["401", "403"]
    if "{" in path or (method, path) in NOT_FOUND_EXTRA:
        statuses.append("404")
    if any(m == method and re.fullmatch(p, path) for m, p in CONFLICTS):
        statuses.append("409")
    if "requestBody" in operation:
        statuses.append("413")
    if (method, path) in BAD_GATEWAY:
        statuses.append("502")
    if uses_temporal:
        statuses.append("503")
    for status in statuses:
        responses.setdefault(status, _error(status))
    # FastAPI lists its 422 wherever a parameter or body is validated; give it the real shape.
    if "422" in responses:
        responses["422"] = _error("422", "InvalidRequestError")
    if path == "/healthz":
        responses["503"] = {
            "description": "`unhealthy`: the detail names the dependency that does not answer.",
            "content": {"application/json": {"schema": {"$ref": REF + "Error"}}},
        }


def _document_payloads(operation: dict[str, Any], department: str, schemas: dict[str, Any]) -> None:
    """The completion body: one of the payloads of the department's task kinds. The route
    still takes any JSON object and checks it against the task's own kind."""
    kinds: dict[type[Payload], list[str]] = {}
    for kind in TASK_KINDS.values():
        if kind.department == department:
            kinds.setdefault(kind.payload, []).append(kind.name)
    if not kinds:
        return
    # Prefixed: some payload parts share a name with an API model of another shape.
    names, defs = models_json_schema(
        [(model, "validation") for model in kinds],
        ref_template=REF + PAYLOAD_PREFIX + "{model}",
    )
    for name, schema in defs.get("$defs", {}).items():
        schemas[PAYLOAD_PREFIX + name] = schema
    choices = [names[(model, "validation")] for model in kinds]
    which = "; ".join(f"{', '.join(k)}: {m.__name__}" for m, k in kinds.items())
    operation["requestBody"] = {
        "required": True,
        "description": f"The payload of the task's kind ({which}). Extra fields are kept.",
        "content": {"application/json": {"schema": {"anyOf": choices}}},
    }


# Links from an order's intake (201 with its `order_no`) to what can be done with it, and from
# an inbox listing to its first task: schemathesis follows them in its stateful phase.
_ORDER_LINKS = [
    ("get", "/orders/{order_no}", "path"),
    ("get", "/orders/{order_no}/trace", "path"),
    ("get", "/planning/orders/{order_no}/plan", "path"),
    ("get", "/sales/tasks", "query"),
    ("get", "/engineering/tasks", "query"),
    ("post", "/sales/orders/{order_no}/changes", "path"),
    ("post", "/sales/orders/{order_no}/cancel", "path"),
    ("post", "/production/orders/{order_no}/issues", "path"),
    ("post", "/planning/orders/{order_no}/delay-warnings", "path"),
    ("post", "/sales/orders/{order_no}/payments", "path"),
]


def _add_links(doc: dict[str, Any]) -> None:
    paths = doc["paths"]

    def op_id(method: str, path: str) -> str | None:
        return paths.get(path, {}).get(method, {}).get("operationId")  # type: ignore[no-any-return]

    created = paths.get("/sales/orders", {}).get("post", {}).get("responses", {}).get("201")
    if created is not None:
        links = created.setdefault("links", {})
        for method, path, where in _ORDER_LINKS:
            target = op_id(method, path)
            if target:
                parameter = "order_no" if where == "path" else f"{where}.order_no"
                links[target] = {
                    "operationId": target,
                    "parameters": {parameter: "$response.body#/order_no"},
                }
    for path, operations in paths.items():
        match = re.fullmatch(r"/(?P<department>[^/]+)/tasks", path)
        listing = operations.get("get", {}).get("responses", {}).get("200")
        if not match or listing is None:
            continue
        links = listing.setdefault("links", {})
        for method, target_path in (
            ("get", f"{path}/{{task_id}}"),
            ("post", f"{path}/{{task_id}}/complete"),
        ):
            target = op_id(method, target_path)
            if target:
                links[target] = {
                    "operationId": target,
                    "parameters": {"task_id": "$response.body#/0/task_id"},
                }
