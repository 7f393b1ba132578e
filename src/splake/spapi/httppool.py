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
replaces an idle one. :class:`LeanTransport` is httpx's transport with that pool (proxies, when the
environment sets them, keep httpx's own transports).
"""

from __future__ import annotations

import httpcore
import httpx
from httpcore._async.interfaces import AsyncConnectionInterface


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
        )
