"""HTTP transport whose connection pool does linear, not quadratic, work per request.

httpcore's :class:`~httpcore.AsyncConnectionPool` re-examines its connections whenever a request starts or
ends. For each idle connection it builds a list of every connection (to count them against the keep-alive
limit), so a pool of ``n`` mostly idle connections costs ``n²`` checks per request: with the sync's pool of
20 connections, landing 300 documents made ~450,000 ``is_idle`` calls and the pool bookkeeping was the
largest single cost of the sync's event loop after the requests themselves.

:class:`LeanConnectionPool` makes the same decisions with one pass over the connections: closed ones are
dropped, expired ones (keep-alive timed out, or the server closed them — the readable-socket check is kept)
are closed, idle ones beyond ``max_keepalive_connections`` are closed, then each queued request gets the
first available connection for its origin, else a new connection while below ``max_connections``, else
replaces an idle one. Its connections' streams (:class:`_Stream`) keep their socket: the check whether
the server closed an idle connection polls it directly (anyio rebuilt a table of a stream's attributes to
find it, for every idle connection at every request). :class:`LeanTransport` is httpx's transport with
that pool (proxies, when the environment sets them, keep httpx's own transports).
"""

# ruff: noqa: ASYNC109 -- the streams and backend implement httpcore's interfaces, timeouts included

from __future__ import annotations

import ssl
from collections.abc import Iterable
from typing import Any

import httpcore
import httpx
from httpcore._async.interfaces import AsyncConnectionInterface
from httpcore._backends.base import SOCKET_OPTION
from httpcore._utils import is_socket_readable


class _Stream(httpcore.AsyncNetworkStream):
    """A network stream that looks its socket up once (see the module's docstring)."""

    def __init__(self, inner: httpcore.AsyncNetworkStream) -> None:
        self._inner = inner
        self._sock = inner.get_extra_info("socket")

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return await self._inner.read(max_bytes, timeout)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        await self._inner.write(buffer, timeout)

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.AsyncNetworkStream:
        return _Stream(await self._inner.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable" and self._sock is not None:  # (a TLS stream shares its socket)
            return is_socket_readable(self._sock)
        return self._inner.get_extra_info(info)


class _Backend(httpcore.AsyncNetworkBackend):
    """httpcore's anyio backend (asyncio), its streams wrapped in :class:`_Stream`."""

    def __init__(self) -> None:
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        return _Stream(await self._inner.connect_tcp(host, port, timeout, local_address, socket_options))

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[SOCKET_OPTION] | None = None
    ) -> httpcore.AsyncNetworkStream:
        return _Stream(await self._inner.connect_unix_socket(path, timeout, socket_options))

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class LeanConnectionPool(httpcore.AsyncConnectionPool):
    """:class:`httpcore.AsyncConnectionPool` with an O(connections + queued requests) assignment."""

    def _assign_requests_to_connections(self) -> list[AsyncConnectionInterface]:
        closing: list[AsyncConnectionInterface] = []
        live: list[AsyncConnectionInterface] = []
        for connection in self._connections:
            if connection.is_closed():
                continue
            if connection.has_expired():
                closing.append(connection)
            else:
                live.append(connection)
        surplus = len(live) - self._max_keepalive_connections
        if surplus > 0:  # idle connections beyond the keep-alive limit are closed
            kept = []
            for connection in live:
                if surplus > 0 and connection.is_idle():
                    closing.append(connection)
                    surplus -= 1
                else:
                    kept.append(connection)
            live = kept
        self._connections[:] = live
        live = self._connections

        for pool_request in self._requests:
            if not pool_request.is_queued():
                continue
            origin = pool_request.request.url.origin
            chosen = next((c for c in live if c.can_handle_request(origin) and c.is_available()), None)
            if chosen is None:
                if len(live) < self._max_connections:
                    chosen = self.create_connection(origin)
                    live.append(chosen)
                else:
                    idle = next((c for c in live if c.is_idle()), None)
                    if idle is None:
                        continue  # stays queued until a connection frees up
                    live.remove(idle)
                    closing.append(idle)
                    chosen = self.create_connection(origin)
                    live.append(chosen)
            pool_request.assign_to_connection(chosen)
        return closing


class LeanTransport(httpx.AsyncHTTPTransport):
    """httpx's HTTP/1.1 transport (certificate verification on) over a :class:`LeanConnectionPool`."""

    def __init__(self, *, limits: httpx.Limits, trust_env: bool) -> None:
        super().__init__(verify=True, http1=True, http2=False, limits=limits, trust_env=trust_env)
        self._pool = LeanConnectionPool(
            ssl_context=httpx.create_ssl_context(verify=True, trust_env=trust_env),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            http1=True,
            http2=False,
            network_backend=_Backend(),
        )
