"""The department desk (issue 14): server-rendered pages over the API at `/desk`, in Chinese and
English, with its own assets served from `/desk/static` (no CDN)."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

from app.desk.actions import router as actions_router
from app.desk.inbox import router as inbox_router
from app.desk.oidc import router as oidc_router
from app.desk.orders import router as orders_router
from app.desk.pages import sign_in_redirect
from app.desk.routes import router
from app.desk.session import SignInNeeded
from app.desk.task_form import router as task_form_router

STATIC = Path(__file__).parent / "static"


def install_desk(app: FastAPI) -> None:
    """Mount the desk, its static files, and Swagger UI at /docs from the same files."""
    app.mount("/desk/static", StaticFiles(directory=STATIC, check_dir=False), name="desk-static")
    app.include_router(router)
    app.include_router(oidc_router)
    app.include_router(orders_router)
    app.include_router(inbox_router)
    app.include_router(task_form_router)
    app.include_router(actions_router)

    @app.exception_handler(SignInNeeded)
    async def _sign_in(request: Request, _: SignInNeeded) -> Response:
        return sign_in_redirect(request)

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        """Swagger UI from the desk's vendored files: it loads with no network."""
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="orderflow API",
            swagger_js_url="/desk/static/vendor/swagger-ui-bundle.js",
            swagger_css_url="/desk/static/vendor/swagger-ui.css",
            swagger_favicon_url="/desk/static/vendor/favicon-32x32.png",
        )
