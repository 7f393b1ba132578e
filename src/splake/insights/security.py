"""Access rules for `splake serve`: loopback by default; a token is required on any other address."""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qs

from splake.errors import ConfigError

TOKEN_ENV = "SPLAKE_SERVE_TOKEN"  # noqa: S105 - the variable name, not a secret
COOKIE = "splake_token"

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def is_loopback(host: str) -> bool:
    if host in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(host: str, token: str | None) -> None:
    """Refuse to serve on a non-loopback address without a token (pure)."""
    if not is_loopback(host) and not token:
        raise ConfigError(
            f"refusing to serve on {host} without a token: the dashboard shows your business data",
            hint=f"pass --token VALUE (or set {TOKEN_ENV}), or bind to 127.0.0.1",
        )
    if token is not None and len(token) < 16:
        raise ConfigError("the serve token is too short", hint="use at least 16 random characters")


def presented_token(scope: Scope) -> str | None:
    """The token a request carries: Authorization: Bearer, X-Splake-Token, ?token= or the cookie."""
    headers: dict[str, str] = {
        bytes(k).decode("latin-1").lower(): bytes(v).decode("latin-1") for k, v in scope.get("headers", [])
    }
    auth = headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    if "x-splake-token" in headers:
        return headers["x-splake-token"].strip()
    qs: dict[str, list[str]] = parse_qs(bytes(scope.get("query_string", b"")).decode("latin-1"))
    if qs.get("token"):
        return qs["token"][0]
    if "cookie" in headers:
        return cookie_value(headers["cookie"], COOKIE)
    return None


def cookie_value(header: str, name: str) -> str | None:
    """``name``'s value in a Cookie header, tolerant of other apps' cookies that are not RFC-clean
    (``a[b]=1``, ``=====``, bare words): each ``;``-separated pair is read on its own (pure)."""
    for part in header.split(";"):
        key, sep, value = part.strip().partition("=")
        if sep and key.strip() == name:
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] == '"':
                value = value[1:-1]
            return value
    return None


class TokenMiddleware:
    """Checks the token on every HTTP request (constant-time compare). A page opened with ``?token=``
    gets an HttpOnly SameSite=Strict cookie so its own asset and API requests pass too."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self.token = token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        got = presented_token(scope)
        if got is None or not hmac.compare_digest(got.encode(), self.token.encode()):
            body = b'{"error": "unauthorized", "hint": "pass the token as ?token= or Authorization: Bearer"}'
            await send(
                {
                    "type": "http.response.start",
                    "status": 401,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(body)).encode()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})
            return
        qs = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        set_cookie = bool(qs.get("token"))

        async def send_with_cookie(message: MutableMapping[str, Any]) -> None:
            if set_cookie and message["type"] == "http.response.start":
                cookie = f"{COOKIE}={self.token}; HttpOnly; SameSite=Strict; Path=/"
                message["headers"] = [*message.get("headers", []), (b"set-cookie", cookie.encode("latin-1"))]
            await send(message)

        await self.app(scope, receive, send_with_cookie)
