"""Route registration for SP-API operations: auth, rate limits and fault injection applied uniformly.

    sp_route(state, "GET", "/reports/2021-06-30/reports/{reportId}", "getReport", handler)

``handler(request, caller) -> Response`` only implements the operation; the wrapper checks the
``x-amz-access-token`` (LWA token, grantless token for grantless operations, RDT for
``restricted=True`` paths), applies the token bucket of (client_id, seller or "grantless",
operationId), injects faults, and adds ``x-amzn-RequestId`` and (2xx/400/404) ``x-amzn-RateLimit-Limit``.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from splake.sandbox import roles
from splake.sandbox.accounts import SandboxAccount
from splake.sandbox.ratelimit import effective_limit, format_rate, header_rate
from splake.sandbox.responses import (
    EXPIRED_DETAILS,
    INVALID_DETAILS,
    MISSING_DETAILS,
    internal_failure,
    quota_exceeded,
    unauthorized,
)
from splake.sandbox.state import SandboxState
from splake.sandbox.tokens import IssuedToken
from splake.spapi.usage_plans import operations


@dataclass(frozen=True)
class Caller:
    client_id: str
    selling_partner_id: str | None  # None for grantless calls
    account: SandboxAccount | None
    token: IssuedToken
    operation_id: str

    @property
    def seller_key(self) -> str:
        return self.selling_partner_id or "grantless"


Handler = Callable[[Request, Caller], Awaitable[Response]]

RATE_HEADER_STATUSES = frozenset({200, 201, 202, 204, 400, 404})


def authorize(
    state: SandboxState, request: Request, operation_id: str, restricted: bool
) -> Caller | Response:
    verdict = state.tokens.judge(request.headers.get("x-amz-access-token"), state.monotonic())
    if verdict.problem == "missing":
        return unauthorized(MISSING_DETAILS)
    if verdict.problem == "invalid" or verdict.token is None:
        return unauthorized(INVALID_DETAILS)
    if verdict.problem == "expired":
        return unauthorized(EXPIRED_DETAILS)
    tok = verdict.token
    op = operations().get(operation_id)
    grantless = bool(op and op.grantless)
    if grantless:
        if tok.kind == "rdt":
            # Grantless operations take a client_credentials token with the right scope, or (as Amazon
            # accepts) a selling partner's LWA access token; never a Restricted Data Token.
            return unauthorized(INVALID_DETAILS)
    else:
        if tok.kind == "grantless":
            return unauthorized(INVALID_DETAILS)
        if tok.kind == "rdt":
            if tok.covers(request.method, request.url.path) is None:
                return unauthorized(INVALID_DETAILS)
        elif restricted:
            # Restricted operations (PII) need a Restricted Data Token for this very path.
            return unauthorized(INVALID_DETAILS)
    account = (
        state.world.account_by_selling_partner_id(tok.selling_partner_id) if tok.selling_partner_id else None
    )
    return Caller(tok.client_id, tok.selling_partner_id, account, tok, operation_id)


def sp_route(
    state: SandboxState,
    method: str,
    path: str,
    operation_id: str,
    handler: Handler,
    *,
    restricted: bool = False,
) -> Route:
    async def endpoint(request: Request) -> Response:
        request_id = str(uuid.uuid4())
        resp = await _run(state, request, operation_id, handler, restricted)
        resp.headers["x-amzn-RequestId"] = request_id
        cfg = state.config
        if cfg.emit_rate_header and resp.status_code in RATE_HEADER_STATUSES:
            rate = header_rate(operation_id, cfg.rate_limit_factor, cfg.time_scale)
            resp.headers["x-amzn-RateLimit-Limit"] = format_rate(rate)
        return resp

    return Route(path, endpoint, methods=[method.upper()], name=operation_id)


async def _run(
    state: SandboxState, request: Request, operation_id: str, handler: Handler, restricted: bool
) -> Response:
    auth = authorize(state, request, operation_id, restricted)
    if isinstance(auth, Response):
        state.stats.count_request("unauthenticated", operation_id)
        return auth
    caller = auth
    seller = caller.seller_key
    state.stats.count_request(seller, operation_id)
    role_denial = await roles.denied(
        state, request, caller.account.account_id if caller.account else None, operation_id
    )
    if role_denial is not None:
        return role_denial
    cfg = state.config
    limit = effective_limit(operation_id, cfg.rate_limit_factor, cfg.time_scale)
    key = (caller.client_id, seller, operation_id)
    if not state.limiter.try_acquire(key, limit, state.monotonic()):
        state.stats.count_throttle(seller, operation_id)
        return quota_exceeded()
    if operation_id in cfg.spurious_429_once and (seller, operation_id) not in state.spurious_once_done:
        with state.lock:
            first = (seller, operation_id) not in state.spurious_once_done
            state.spurious_once_done.add((seller, operation_id))
        if first:
            # the server's bucket had room: give the token back (a real spurious 429 does not spend it)
            state.limiter.refund(key, limit)
            state.stats.count_throttle(seller, operation_id)
            state.stats.count_fault("spurious_429")
            return quota_exceeded()
    if state.chance(cfg.spurious_429_rate, "spurious_429"):
        state.stats.count_throttle(seller, operation_id)
        state.stats.count_fault("spurious_429")
        return quota_exceeded()
    if state.chance(cfg.error_rate, "error_5xx"):
        status = 503 if state.chance(0.5) else 500
        state.stats.count_fault(f"error_{status}")
        return internal_failure(status)
    if state.chance(cfg.slow_rate, "slow"):
        state.stats.count_fault("slow")
        await asyncio.sleep(cfg.slow_seconds)
    return await handler(request, caller)
