"""The sandbox HTTP server: a Starlette app on uvicorn in a background thread.

with SandboxServer(SandboxConfig(seed=7, time_scale=0.01)) as sb:
    sb.url, sb.world, sb.stats, sb.configure(error_rate=0.1)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable
from types import TracebackType
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.routing import BaseRoute

from splake.errors import FatalError
from splake.sandbox import (
    apis,
    lwa,
    oauth,
    reports_api,
    reports_lifecycle,
    routes_control,
    routes_sellers,
    routes_tokens,
)
from splake.sandbox.config import SandboxConfig
from splake.sandbox.state import SandboxState
from splake.sandbox.stats import SandboxStats
from splake.sandbox.world import World

# Route providers: each takes the state and returns its routes.
RouteProvider = Callable[[SandboxState], list[Any]]
# Background tasks run while the server is up (e.g. advancing report processing and notifying).
Ticker = Callable[[SandboxState], None]


def _providers() -> list[RouteProvider]:
    return [
        lambda s: [lwa.token_route(s)],
        oauth.routes,
        routes_control.routes,
        reports_api.routes,
        routes_sellers.routes,
        routes_tokens.routes,
        apis.routes,
    ]


def _tickers() -> list[Ticker]:
    return [reports_lifecycle.tick, apis.report_schedules.tick, apis.data_kiosk.tick]


def build_app(state: SandboxState) -> Starlette:
    routes: list[BaseRoute] = []
    for provider in _providers():
        routes.extend(provider(state))
    routes.append(apis.unserved.route(state))  # last: Amazon's JSON 403 for anything not served
    tickers = _tickers()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        stop = asyncio.Event()

        async def loop() -> None:
            while not stop.is_set():
                for tick in tickers:
                    try:
                        await asyncio.to_thread(tick, state)
                    except Exception:  # pragma: no cover - a tick must never kill the server
                        logging.getLogger(__name__).exception("sandbox tick failed")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=0.05)

        task = asyncio.create_task(loop())
        try:
            yield
        finally:
            stop.set()
            await task

    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.sandbox = state
    return app


class _InjectedTruncationFilter(logging.Filter):
    """Drop uvicorn's error record for a body shorter than its Content-Length: that is the
    ``truncate_download_rate`` fault working as intended (h11 then drops the connection)."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not (exc is not None and "Too little data for declared Content-Length" in str(exc))


def _quiet_injected_faults() -> None:
    log = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, _InjectedTruncationFilter) for f in log.filters):
        log.addFilter(_InjectedTruncationFilter())


class SandboxServer:
    """Context manager running the sandbox on 127.0.0.1:<free port> in a background thread."""

    def __init__(self, config: SandboxConfig | None = None, world: World | None = None) -> None:
        self.config = config or SandboxConfig()
        self.state = SandboxState(self.config, world)
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.url = ""

    @property
    def world(self) -> World:
        return self.state.world

    @property
    def stats(self) -> SandboxStats:
        return self.state.stats

    def configure(self, **knobs: Any) -> SandboxConfig:
        """Change fault/timing knobs at runtime (``expire_tokens=True`` invalidates all access tokens)."""
        return self.state.configure(**knobs)

    def start(self) -> SandboxServer:
        self.state.doc_dir.mkdir(parents=True, exist_ok=True)  # a restarted server renders again
        app = build_app(self.state)
        _quiet_injected_faults()
        cfg = uvicorn.Config(
            app,
            host=self.config.host,
            port=self.config.port,
            log_level="warning",
            access_log=False,
            lifespan="on",
        )
        server = uvicorn.Server(cfg)
        self._server = server
        self._thread = threading.Thread(target=server.run, name="splake-sandbox", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 15
        while not server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise FatalError(
                    f"sandbox server failed to start on {self.config.host}:{self.config.port}",
                    hint="is the port in use? pass port=0 for a free port",
                )
            time.sleep(0.01)
        sock = server.servers[0].sockets[0]
        host, port = sock.getsockname()[:2]
        self.url = f"http://{host}:{port}"
        self.state.public_url = (self.config.public_url or self.url).rstrip("/")
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._server = None
        self._thread = None
        self.state.close()

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
