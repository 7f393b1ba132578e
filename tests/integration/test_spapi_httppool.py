"""splake.spapi.httppool: the lean connection pool keeps httpcore's decisions (a loopback server counts the
connections it sees): concurrency capped at max_connections with connections reused, expired keep-alive
connections replaced, idle connections beyond the keep-alive limit closed, a connection the server closed
never reused."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from splake.spapi.httppool import LeanConnectionPool, LeanTransport
from tests.support.tls import self_signed_cert


class _Server:
    def __init__(self, certfile: str | None = None, keyfile: str | None = None, keep_alive: int = 5) -> None:
        self.ports: list[int] = []
        self.active = 0
        self.max_active = 0

        async def ok(request: Request) -> Response:
            assert request.client is not None
            self.ports.append(request.client.port)
            self.active += 1
            self.max_active = max(self.max_active, self.active)
            await asyncio.sleep(0.01)
            self.active -= 1
            headers = {"connection": "close"} if request.query_params.get("close") else {}
            return Response(b'{"ok": true}', media_type="application/json", headers=headers)

        cfg = uvicorn.Config(
            Starlette(routes=[Route("/x", ok)]),
            host="127.0.0.1",
            port=0,
            log_level="warning",
            ssl_certfile=certfile,
            ssl_keyfile=keyfile,
            timeout_keep_alive=keep_alive,
        )
        self.server = uvicorn.Server(cfg)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            assert time.monotonic() < deadline
            time.sleep(0.01)
        host, port = self.server.servers[0].sockets[0].getsockname()[:2]
        return f"http://{host}:{port}/x"

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(5)


@pytest.fixture
def server() -> Iterator[tuple[_Server, str]]:
    srv = _Server()
    with srv as url:
        yield srv, url


def _client(connections: int, keepalive: int | None = None, expiry: float = 30.0) -> httpx.AsyncClient:
    limits = httpx.Limits(
        max_connections=connections,
        max_keepalive_connections=connections if keepalive is None else keepalive,
        keepalive_expiry=expiry,
    )
    return httpx.AsyncClient(transport=LeanTransport(limits=limits, trust_env=False), trust_env=False)


def _pool(client: httpx.AsyncClient) -> LeanConnectionPool:
    pool = client._transport._pool  # type: ignore[attr-defined]
    assert isinstance(pool, LeanConnectionPool)
    return pool


def test_concurrency_is_capped_and_connections_are_reused(server: tuple[_Server, str]) -> None:
    srv, url = server

    async def run() -> int:
        async with _client(4) as c:
            rs = await asyncio.gather(*(c.get(url) for _ in range(60)))
            assert all(r.status_code == 200 and r.json() == {"ok": True} for r in rs)
            return len(_pool(c).connections)

    assert asyncio.run(run()) == 4
    assert len(srv.ports) == 60
    assert srv.max_active <= 4
    assert len(set(srv.ports)) == 4  # 60 requests over the same 4 connections


def test_expired_and_server_closed_connections_are_replaced(server: tuple[_Server, str]) -> None:
    srv, url = server

    async def run() -> None:
        async with _client(2, expiry=0.2) as c:
            await c.get(url)
            await c.get(url)
            assert srv.ports[0] == srv.ports[1]  # kept alive, reused
            await asyncio.sleep(0.4)  # past the keep-alive expiry
            await c.get(url)
            assert srv.ports[2] != srv.ports[1]
            await c.get(url, params={"close": "1"})  # the server closes this one after answering
            await c.get(url)
            assert srv.ports[4] != srv.ports[3]
            assert len(_pool(c).connections) == 1

    asyncio.run(run())


def test_idle_connections_beyond_the_keepalive_limit_are_closed(server: tuple[_Server, str]) -> None:
    _, url = server

    async def run() -> int:
        async with _client(6, keepalive=2) as c:
            await asyncio.gather(*(c.get(url) for _ in range(12)))
            await c.get(url)  # the next request tidies the pool: at most 2 idle connections are kept
            return len(_pool(c).connections)

    assert asyncio.run(run()) <= 2


def test_tls_connections_are_reused_and_their_closing_is_seen(tmp_path: Path) -> None:
    """Amazon is HTTPS: the wrapped stream survives start_tls, and the idle check polls the TLS socket."""
    import ssl

    certfile, keyfile = self_signed_cert(tmp_path)
    srv = _Server(str(certfile), str(keyfile), keep_alive=1)  # idle connections closed after 1 s
    with srv as url:
        url = url.replace("http://", "https://")
        ctx = ssl.create_default_context(cafile=str(certfile))

        async def run() -> None:
            limits = httpx.Limits(max_connections=2, max_keepalive_connections=2, keepalive_expiry=30.0)
            transport = LeanTransport(limits=limits, trust_env=False)
            transport._pool._ssl_context = ctx  # (trust the test's certificate)
            async with httpx.AsyncClient(transport=transport, trust_env=False) as c:
                assert (await c.get(url)).json() == {"ok": True}
                await c.get(url)
                assert srv.ports[0] == srv.ports[1]
                await c.get(url, params={"close": "1"})
                await asyncio.sleep(0.1)
                assert (await c.get(url)).status_code == 200
                assert srv.ports[3] != srv.ports[2]
                await asyncio.sleep(1.5)  # the server closes the idle connection (no response says so)
                assert (await c.get(url)).status_code == 200  # seen closed: not reused
                assert srv.ports[4] != srv.ports[3]

        asyncio.run(run())
