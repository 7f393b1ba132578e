"""The Starlette app behind `splake serve`: two pages (pipeline health, business overview), JSON
endpoints the pages chart from, and mart downloads. Static assets (incl. the vendored Chart.js) are
served from the package; nothing is fetched from a CDN."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from splake.errors import BadDataError, SplakeError
from splake.insights.export import FORMATS, export_table
from splake.insights.runner import Filters, MartUnavailableError
from splake.insights.security import TokenMiddleware
from splake.insights.service import Insights

STATIC_DIR = Path(__file__).parent / "static"
_MEDIA = {"csv": "text/csv", "parquet": "application/vnd.apache.parquet", "json": "application/x-ndjson"}


def _error(exc: SplakeError, status: int) -> JSONResponse:
    return JSONResponse({"error": exc.message, "hint": exc.hint, "code": exc.code}, status_code=status)


def create_app(
    insights: Insights, *, token: str | None = None, allowed_hosts: list[str] | None = None
) -> Starlette:
    """Build the ASGI app. With ``token`` every request must present it; ``allowed_hosts`` guards
    loopback-only serving against DNS rebinding."""

    async def page_health(request: Request) -> Response:
        return FileResponse(STATIC_DIR / "health.html", media_type="text/html")

    async def page_overview(request: Request) -> Response:
        return FileResponse(STATIC_DIR / "overview.html", media_type="text/html")

    def api_marts(request: Request) -> Response:
        return JSONResponse({"marts": insights.statuses()})

    def filters_of(request: Request) -> Filters:
        keys = ("account", "marketplace", "start", "end")
        return Filters.parse({k: request.query_params.getlist(k) for k in keys})

    def api_mart(request: Request) -> Response:
        try:
            filters = filters_of(request)
            return JSONResponse(insights.chart(request.path_params["name"], filters))
        except BadDataError as exc:
            return _error(exc, 400)

    def api_mart_rows(request: Request) -> Response:
        name = request.path_params["name"]
        fmt = request.query_params.get("format", "csv")
        try:
            if fmt not in FORMATS:
                raise BadDataError(f"unknown format {fmt!r}", hint="format=csv|parquet|json")
            table = insights.rows(name, filters_of(request))
        except MartUnavailableError as exc:
            return _error(exc, 409)
        except BadDataError as exc:
            return _error(exc, 400)
        buf = io.BytesIO()
        export_table(table, fmt, buf)
        headers = {
            "content-disposition": f'attachment; filename="{name}.{"jsonl" if fmt == "json" else fmt}"'
        }
        return Response(buf.getvalue(), media_type=_MEDIA[fmt], headers=headers)

    def api_filters(request: Request) -> Response:
        return JSONResponse(insights.filter_options())

    def api_health(request: Request) -> Response:
        return JSONResponse(insights.health())

    async def healthz(request: Request) -> Response:
        return JSONResponse({"ok": True})

    routes: list[Any] = [
        Route("/", page_health),
        Route("/health", page_health),
        Route("/overview", page_overview),
        Route("/api/marts", api_marts),
        Route("/api/marts/{name}", api_mart),
        Route("/api/marts/{name}/rows", api_mart_rows),
        Route("/api/filters", api_filters),
        Route("/api/health", api_health),
        Route("/healthz", healthz),
        Mount("/static", app=StaticFiles(directory=str(STATIC_DIR)), name="static"),
    ]
    middleware: list[Middleware] = []
    if allowed_hosts:
        middleware.append(Middleware(TrustedHostMiddleware, allowed_hosts=allowed_hosts))
    if token:
        middleware.append(Middleware(TokenMiddleware, token=token))
    return Starlette(routes=routes, middleware=middleware)
