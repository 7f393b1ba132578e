"""A one-shot redirect listener on loopback for the website authorization workflow.

It serves the redirect URI's path on the redirect URI's host and port, answers Amazon's redirect with a
short page (``Referrer-Policy: no-referrer``, as Amazon recommends), checks ``state`` and hands the
callback to the waiting command, then stops. A redirect with a foreign ``state`` is refused and the
listener keeps waiting for the real one. Only loopback addresses are served (a name such as
``localhost``, or one mapped to 127.0.0.1 in the hosts file, must resolve to loopback).

Amazon only registers ``https`` redirect URIs: for a real app, map a name to 127.0.0.1 and pass a
certificate for it (``certfile``/``keyfile``), or use the paste mode / the AWS redirect endpoint.
"""

from __future__ import annotations

import html
import ipaddress
import queue
import socket
import ssl
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

from splake.accounts.oauth import Callback, parse_callback
from splake.errors import AuthError, ConfigError, SplakeError
from splake.logs import get_logger, log_event

log = get_logger(__name__)


def loopback_address(host: str) -> str:
    """The loopback address ``host`` names, or ConfigError (pure apart from name resolution)."""
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except socket.gaierror:
        infos = []
    for info in infos:
        addr = str(info[4][0])
        if ipaddress.ip_address(addr).is_loopback:
            return addr
    raise ConfigError(
        f"the redirect URI host {host!r} is not a loopback address; the listener only serves this machine",
        hint="use a redirect URI on 127.0.0.1/localhost (or a name mapped to 127.0.0.1 in /etc/hosts), or "
        "omit --listen and paste the address the browser lands on",
    )


def _page(title: str, text: str) -> bytes:
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>splake</title></head><body><h1>"
        + html.escape(title)
        + "</h1><p>"
        + html.escape(text)
        + "</p></body></html>"
    ).encode()


class RedirectListener:
    """``with RedirectListener(redirect_uri, state) as l: …; callback = l.wait(timeout)``."""

    def __init__(
        self,
        redirect_uri: str,
        expected_state: str,
        *,
        certfile: str | None = None,
        keyfile: str | None = None,
    ) -> None:
        parts = urlsplit(redirect_uri)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(f"redirect URI {redirect_uri!r} is not an http(s) URL")
        if parts.scheme == "https" and not certfile:
            raise ConfigError(
                f"redirect URI {redirect_uri} is https: the listener needs a certificate for "
                f"{parts.hostname}",
                hint="pass --tls-cert/--tls-key (e.g. made with mkcert), or paste the landing address",
            )
        self.redirect_uri = redirect_uri
        self.path = parts.path or "/"
        self.host = loopback_address(parts.hostname)
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        self._state = expected_state
        self._results: queue.Queue[Callback | SplakeError] = queue.Queue()
        self._server: HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._ssl: ssl.SSLContext | None = None
        if certfile:
            self._ssl = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            self._ssl.load_cert_chain(certfile, keyfile)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        listener = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # never log the query (code)
                return

            def _send(self, status: int, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Referrer-Policy", "no-referrer")
                self.send_header("Cache-Control", "no-store")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                if parts.path != listener.path:
                    self._send(404, _page("Not found", "This is splake's one-shot authorization listener."))
                    return
                try:
                    callback = parse_callback(parts.query, listener._state)
                except AuthError as exc:
                    if "different `state`" in exc.message:
                        log_event(log, "oauth_redirect_foreign_state", path=parts.path)
                        self._send(400, _page("Refused", "This redirect belongs to another authorization."))
                        return
                    listener._results.put(exc)
                    self._send(400, _page("Authorization failed", exc.message))
                    return
                listener._results.put(callback)
                self._send(
                    200,
                    _page(
                        "Authorization received",
                        f"splake received the authorization for selling partner "
                        f"{callback.selling_partner_id}. You can close this tab.",
                    ),
                )

        return Handler

    def start(self) -> RedirectListener:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET

        class Server(HTTPServer):
            address_family = family
            allow_reuse_address = True

        try:
            server = Server((self.host, self.port), self._handler())
        except OSError as exc:
            raise ConfigError(
                f"cannot listen on {self.host}:{self.port} for the redirect: {exc.strerror or exc}",
                hint="another program uses the port; free it or register another redirect URI port",
            ) from None
        if self._ssl is not None:
            server.socket = self._ssl.wrap_socket(server.socket, server_side=True)
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, name="splake-oauth-listener", daemon=True
        )
        self._thread.start()
        return self

    def wait(self, timeout: float) -> Callback:
        try:
            result = self._results.get(timeout=timeout)
        except queue.Empty:
            raise AuthError(
                f"no authorization redirect arrived within {timeout:.0f} s",
                hint="open the consent URL printed above in a browser where you are (or can) sign in to "
                "Seller/Vendor Central, then Confirm; run the command again with a longer --timeout",
            ) from None
        if isinstance(result, SplakeError):
            raise result
        return result

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> RedirectListener:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
