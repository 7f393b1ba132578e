"""A recording reverse proxy for third-party client tests: clients talk to the proxy, the proxy forwards
every request unchanged to the upstream (the sandbox) and keeps (method, path, status, headers, body) of
each exchange, so tests can validate every response any client received against the official models
without hooking into the client's internals.

    with RecordingProxy(upstream_url) as proxy:
        client pointed at proxy.url ...
        for ex in proxy.take(): ...
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import urlsplit

import httpx

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding"}


@dataclass(frozen=True)
class Exchange:
    method: str
    path: str
    query: str
    status: int
    headers: dict[str, str]
    body: bytes


class RecordingProxy:
    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.exchanges: list[Exchange] = []
        self._lock = threading.Lock()
        self._client = httpx.Client(timeout=60)
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:  # quiet
                pass

            def _forward(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {
                    k: v for k, v in self.headers.items() if k.lower() not in {"host", "content-length"}
                }
                r = proxy._client.request(
                    self.command, proxy.upstream + self.path, headers=headers, content=body
                )
                parts = urlsplit(self.path)
                with proxy._lock:
                    proxy.exchanges.append(
                        Exchange(
                            self.command, parts.path, parts.query, r.status_code, dict(r.headers), r.content
                        )
                    )
                self.send_response(r.status_code)
                for k, v in r.headers.items():
                    if k.lower() not in HOP_BY_HOP:
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(r.content)))
                self.end_headers()
                self.wfile.write(r.content)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _forward

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def take(self) -> list[Exchange]:
        with self._lock:
            out, self.exchanges = self.exchanges, []
        return out

    def __enter__(self) -> RecordingProxy:
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._client.close()
