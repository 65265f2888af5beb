"""API errors: every error a client sees is `{"error": CODE, "detail": TEXT}`."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.status import (
    HTTP_401_UNAUTHORIZED,
    HTTP_403_FORBIDDEN,
    HTTP_404_NOT_FOUND,
    HTTP_409_CONFLICT,
    HTTP_422_UNPROCESSABLE_CONTENT,
    HTTP_503_SERVICE_UNAVAILABLE,
)


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


def _body(error: str, detail: str, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"error": error, "detail": detail, **(extra or {})}


def install_error_handlers(app: FastAPI) -> None:
    """Make every error response of `app` take the `{error, detail}` shape."""

    @app.exception_handler(APIError)
    async def _api_error(_: Request, exc: APIError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == HTTP_401_UNAUTHORIZED else None
        return JSONResponse(
            _body(exc.error, exc.detail, exc.extra), status_code=exc.status, headers=headers
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        sentence, problems = describe_validation(list(exc.errors()))
        return JSONResponse(
            _body("invalid_request", sentence, {"problems": problems}),
            status_code=HTTP_422_UNPROCESSABLE_CONTENT,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return JSONResponse(_body(code, str(exc.detail)), status_code=exc.status_code)
