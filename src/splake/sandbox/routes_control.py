"""Sandbox-only control endpoints: ``POST /_sandbox/config`` (change knobs), ``GET /_sandbox/stats``."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from splake.errors import ConfigError
from splake.sandbox.state import SandboxState


def routes(state: SandboxState) -> list[Route]:
    async def config(request: Request) -> Response:
        if request.method == "GET":
            return JSONResponse(state.config.knobs())
        try:
            knobs: Any = json.loads(await request.body() or b"{}")
        except ValueError:
            return JSONResponse({"error": "body must be a JSON object of knob -> value"}, status_code=400)
        if not isinstance(knobs, dict):
            return JSONResponse({"error": "body must be a JSON object of knob -> value"}, status_code=400)
        try:
            cfg = state.configure(**knobs)
        except ConfigError as exc:
            return JSONResponse({"error": exc.message, "hint": exc.hint}, status_code=400)
        return JSONResponse(cfg.knobs())

    async def stats(request: Request) -> Response:
        return JSONResponse(state.stats.snapshot())

    return [
        Route("/_sandbox/config", config, methods=["GET", "POST"]),
        Route("/_sandbox/stats", stats, methods=["GET"]),
    ]
