"""Login with Amazon token endpoint: ``POST /auth/o2/token`` (refresh_token, client_credentials and
authorization_code — the last one in :mod:`splake.sandbox.oauth`)."""

from __future__ import annotations

import asyncio
import hmac
import json
from typing import Any
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from splake.sandbox import oauth
from splake.sandbox.state import SandboxState

GRANTLESS_SCOPES = frozenset(
    {"sellingpartnerapi::notifications", "sellingpartnerapi::client_credential:rotation"}
)

_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def lwa_error(status: int, error: str, description: str) -> Response:
    return JSONResponse(
        {"error_description": description, "error": error}, status_code=status, headers=_NO_STORE
    )


async def _form(request: Request) -> dict[str, str]:
    raw = await request.body()
    ctype = request.headers.get("content-type", "")
    if "json" in ctype:
        try:
            data: Any = json.loads(raw or b"{}")
        except ValueError:
            return {}
        return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}
    parsed = parse_qs(raw.decode("utf-8", "replace"), keep_blank_values=True)
    return {k: v[0] for k, v in parsed.items()}


def token_route(state: SandboxState) -> Route:
    async def token(request: Request) -> Response:
        form = await _form(request)
        if state.config.lwa_latency_seconds > 0:
            await asyncio.sleep(state.config.lwa_latency_seconds)
        world = state.world
        if state.chance(state.config.lwa_error_rate, "lwa_error"):
            state.stats.count_fault("lwa_error_500")
            return lwa_error(500, "server_error", "The authorization server encountered an unexpected error")
        grant = form.get("grant_type", "")
        if not grant:
            return lwa_error(
                400, "invalid_request", "The request is missing a required parameter : grant_type"
            )
        if grant not in {"refresh_token", "client_credentials", "authorization_code"}:
            return lwa_error(
                400,
                "unsupported_grant_type",
                "The authorization grant type is not supported by the authorization server",
            )
        client_id = form.get("client_id", "")
        secret = form.get("client_secret", "")
        if client_id != world.client_id or not hmac.compare_digest(
            secret.encode(), world.client_secret.encode()
        ):
            return lwa_error(401, "invalid_client", "Client authentication failed")
        if grant == "authorization_code":
            return oauth.exchange_code(state, form, client_id)
        ttl = float(state.config.token_ttl_seconds)
        now = state.monotonic()
        if grant == "refresh_token":
            refresh = form.get("refresh_token", "")
            if not refresh:
                return lwa_error(
                    400, "invalid_request", "The request is missing a required parameter : refresh_token"
                )
            account = world.account_by_refresh_token(refresh)
            if account is None and (issued_to := state.oauth.account_for_refresh_token(refresh)):
                account = world.account(issued_to)  # issued by the website authorization workflow
            revoked = account is not None and account.account_id in state.config.revoked_accounts
            if account is None or (revoked and not state.oauth.survives_revocation(refresh)):
                return lwa_error(
                    400, "invalid_grant", "The request has an invalid grant parameter : refresh_token"
                )
            issued = state.tokens.issue("access", client_id, account.selling_partner_id, None, ttl, now)
            state.stats.count_grant("refresh_token", account.selling_partner_id)
            body: dict[str, Any] = {
                "access_token": issued.token,
                "refresh_token": refresh,
                "token_type": "bearer",
                "expires_in": int(ttl),
            }
            return JSONResponse(body, headers=_NO_STORE)
        scope = form.get("scope", "")
        if not scope:
            return lwa_error(400, "invalid_request", "The request is missing a required parameter : scope")
        if scope not in GRANTLESS_SCOPES:
            return lwa_error(400, "invalid_scope", "An unknown scope was requested")
        issued = state.tokens.issue("grantless", client_id, None, scope, ttl, now)
        state.stats.count_grant("client_credentials", "grantless")
        body = {"access_token": issued.token, "scope": scope, "token_type": "bearer", "expires_in": int(ttl)}
        return JSONResponse(body, headers=_NO_STORE)

    return Route("/auth/o2/token", token, methods=["POST"], name="lwa_token")
