"""API errors: every error a client sees is `{"error": CODE, "detail": TEXT, "request_id": ID}`
JSON, an unhandled one included; every answer carries its `X-Request-ID`."""

from __future__ import annotations

import logging
import re
import uuid
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.status import (
    HTTP_401_UNAUTHORIZED,
    HTTP_403_FORBIDDEN,
    HTTP_404_NOT_FOUND,
    HTTP_409_CONFLICT,
    HTTP_422_UNPROCESSABLE_CONTENT,
    HTTP_500_INTERNAL_SERVER_ERROR,
    HTTP_503_SERVICE_UNAVAILABLE,
)
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUEST_ID_HEADER = "X-Request-ID"
# A caller's id is taken when it is short and plain (it lands in logs and headers).
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")

log = logging.getLogger("orderflow.api")


# An error the API reports on purpose, with a code clients can branch on.
class APIError(Exception):
    def __init__(
        self, status: int, error: str, detail: str, *, extra: dict[str, Any] | None = None
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.error = error
        self.detail = detail
        self.extra = extra or {}


def unauthorized(detail: str) -> APIError:
    return APIError(HTTP_401_UNAUTHORIZED, "unauthorized", detail)


def forbidden(detail: str) -> APIError:
    return APIError(HTTP_403_FORBIDDEN, "forbidden", detail)


def not_found(what: str) -> APIError:
    return APIError(HTTP_404_NOT_FOUND, "not_found", f"{what} does not exist")


def conflict(error: str, detail: str) -> APIError:
    return APIError(HTTP_409_CONFLICT, error, detail)


def invalid(error: str, detail: str, **extra: Any) -> APIError:
    return APIError(HTTP_422_UNPROCESSABLE_CONTENT, error, detail, extra=extra)


def unavailable(detail: str) -> APIError:
    return APIError(HTTP_503_SERVICE_UNAVAILABLE, "unavailable", detail)


def describe_validation(errors: list[Any]) -> tuple[str, list[dict[str, Any]]]:
    """One readable sentence and the field-level problems of a pydantic validation error."""
    problems = []
    for err in errors:
        loc = ".".join(str(part) for part in err.get("loc", ()) if part not in ("body",))
        message = str(err.get("msg", "invalid")).removeprefix("Value error, ")
        problems.append({"field": loc or "body", "problem": message})
    sentence = "; ".join(f"{p['field']}: {p['problem']}" for p in problems[:5])
    return sentence or "the request is invalid", problems


def request_id(request: Request) -> str:
    """The id of this request (the caller's `X-Request-ID` if sane, else a new one)."""
    return str(getattr(request.state, "request_id", None) or uuid.uuid4().hex)


def _body(
    request: Request, error: str, detail: str, extra: dict[str, Any] | None = None
) -> dict[str, Any]:
    return {"error": error, "detail": detail, **(extra or {}), "request_id": request_id(request)}


class RequestIdMiddleware:
    """Give each request an id (`request.state.request_id`) and answer with it in the
    `X-Request-ID` header, so a client can quote it and the logs can be searched for it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = Headers(scope=scope).get(REQUEST_ID_HEADER, "")
        rid = incoming if _SANE_REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = rid

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if REQUEST_ID_HEADER not in headers:
                    headers.append(REQUEST_ID_HEADER, rid)
            await send(message)

        await self.app(scope, receive, send_with_id)


def install_error_handlers(app: FastAPI) -> None:
    """Make every error response of `app` take the `{error, detail, request_id}` shape."""
    app.add_middleware(RequestIdMiddleware)

    @app.exception_handler(APIError)
    async def _api_error(request: Request, exc: APIError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == HTTP_401_UNAUTHORIZED else None
        return JSONResponse(
            _body(request, exc.error, exc.detail, exc.extra),
            status_code=exc.status,
            headers=headers,
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        sentence, problems = describe_validation(list(exc.errors()))
        return JSONResponse(
            _body(request, "invalid_request", sentence, {"problems": problems}),
            status_code=HTTP_422_UNPROCESSABLE_CONTENT,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return JSONResponse(_body(request, code, str(exc.detail)), status_code=exc.status_code)

    @app.exception_handler(Exception)
    async def _unhandled(request: Request, exc: Exception) -> JSONResponse:
        # Runs outside the middlewares (Starlette's outermost layer): the header is set here.
        rid = request_id(request)
        log.error(
            "unhandled error in %s %s [request %s]",
            request.method,
            request.url.path,
            rid,
            exc_info=exc,
        )
        return JSONResponse(
            _body(request, "internal_error", f"internal error; quote request id {rid}"),
            status_code=HTTP_500_INTERNAL_SERVER_ERROR,
            headers={REQUEST_ID_HEADER: rid},
        )
