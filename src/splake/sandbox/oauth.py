"""The website authorization workflow, as Seller Central / Vendor Central and LWA run it.

- ``GET /apps/authorize/consent?application_id=…&state=…[&version=beta][&redirect_uri=…]`` — the
  sign-in + consent page (the sandbox signs in by picking one of its selling partners). A draft app
  needs ``version=beta`` (Amazon's error MD1000 otherwise); ``redirect_uri`` must be one of the app's
  registered OAuth redirect URIs (MD5101), default the first registered one.
- ``POST /apps/authorize/confirm`` (the page's form; ``action=confirm|cancel``) — on Confirm, a 302 to
  the redirect URI with ``state``, ``selling_partner_id`` and ``spapi_oauth_code``.
- ``grant_type=authorization_code`` at the LWA token endpoint (:func:`exchange_code`, called by
  ``splake.sandbox.lwa``): ``code`` + the same ``redirect_uri`` + client credentials → a new refresh
  token. Codes are single-use and expire after ``auth_code_ttl_seconds`` (Amazon: 5 minutes).
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from splake.sandbox.state import SandboxState

_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
_PAGE_HEADERS = {"Referrer-Policy": "no-referrer", "Cache-Control": "no-store"}

CONSENT_PATH = "/apps/authorize/consent"
CONFIRM_PATH = "/apps/authorize/confirm"


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    doc = (
        "<!doctype html><html><head><meta charset='utf-8'><title>"
        + html.escape(title)
        + "</title></head><body><h1>"
        + html.escape(title)
        + "</h1>"
        + body
        + "</body></html>"
    )
    return HTMLResponse(doc, status_code=status, headers=_PAGE_HEADERS)


def consent_problem(state: SandboxState, params: Mapping[str, str]) -> tuple[str, str] | None:
    """(error code, message) when Seller Central would refuse this authorization URI (pure on state)."""
    if params.get("application_id") != state.world.application_id:
        return ("MD9100", "The application could not be found. Check the application_id parameter.")
    if params.get("version") != "beta":
        # The sandbox app is never published on the Appstore: only the draft (beta) workflow works.
        return ("MD1000", "This application is in Draft state: add version=beta to the authorization URI.")
    if not params.get("state"):
        return ("MD9200", "The state parameter is missing.")
    redirect = params.get("redirect_uri")
    registered = state.config.oauth_redirect_uris
    if not registered:
        return ("MD5101", "The application has no OAuth redirect URI registered.")
    if redirect and redirect not in registered:
        return ("MD5101", "The redirect_uri does not match a redirect URI registered for the application.")
    return None


def _hidden(params: Mapping[str, str]) -> str:
    keys = ("application_id", "state", "version", "redirect_uri")
    return "".join(
        f"<input type='hidden' name='{k}' value='{html.escape(params[k], quote=True)}'>"
        for k in keys
        if params.get(k)
    )


def _consent_form(state: SandboxState, params: Mapping[str, str]) -> HTMLResponse:
    options = "".join(
        f"<option value='{html.escape(a.account_id)}'>{html.escape(a.store_name)} "
        f"({html.escape(a.account_id)}, {a.type}, {a.region})</option>"
        for a in state.world.accounts
    )
    body = (
        "<p>Sandbox application requests access to your selling account data.</p>"
        f"<form method='post' action='{CONFIRM_PATH}'>"
        + _hidden(params)
        + "<label>Sign in as <select name='account'>"
        + options
        + "</select></label> "
        "<button type='submit' name='action' value='confirm'>Confirm</button> "
        "<button type='submit' name='action' value='cancel'>Cancel</button></form>"
    )
    return _page("Authorize sandbox application", body)


def routes(state: SandboxState) -> list[Route]:
    async def consent(request: Request) -> Response:
        params = {k: v for k, v in request.query_params.items()}
        problem = consent_problem(state, params)
        if problem is not None:
            return _page(f"Error {problem[0]}", f"<p>{html.escape(problem[1])}</p>", 400)
        return _consent_form(state, params)

    async def confirm(request: Request) -> Response:
        raw = (await request.body()).decode("utf-8", "replace")
        form = {k: v[0] for k, v in parse_qs(raw, keep_blank_values=True).items()}
        problem = consent_problem(state, form)
        if problem is not None:
            return _page(f"Error {problem[0]}", f"<p>{html.escape(problem[1])}</p>", 400)
        if form.get("action") != "confirm":
            return _page("Authorization cancelled", "<p>The application was not authorized.</p>")
        try:
            account = state.world.account(form.get("account", ""))
        except KeyError:
            return _page("Sign-in failed", "<p>Unknown selling account.</p>", 400)
        redirect_uri = form.get("redirect_uri") or state.config.oauth_redirect_uris[0]
        code = state.oauth.issue_code(
            account.account_id,
            state.world.client_id,
            redirect_uri,
            float(state.config.auth_code_ttl_seconds),
            state.monotonic(),
        )
        query = urlencode(
            {
                "state": form["state"],
                "selling_partner_id": account.selling_partner_id,
                "spapi_oauth_code": code.code,
            }
        )
        sep = "&" if urlsplit(redirect_uri).query else "?"
        return RedirectResponse(redirect_uri + sep + query, status_code=302, headers=_PAGE_HEADERS)

    return [
        Route(CONSENT_PATH, consent, methods=["GET"], name="oauth_consent"),
        Route(CONFIRM_PATH, confirm, methods=["POST"], name="oauth_confirm"),
    ]


def _error(status: int, error: str, description: str) -> Response:
    return JSONResponse(
        {"error_description": description, "error": error}, status_code=status, headers=_NO_STORE
    )


_REDEMPTION_ERRORS = {
    "unknown": "The request has an invalid grant parameter : code",
    "used": "The request has an invalid grant parameter : code",
    "expired": "The authorization code has expired",
    "client": "The authorization code was issued to another client",
    "redirect_uri": "The redirect_uri does not match the one used in the authorization request",
}


def exchange_code(state: SandboxState, form: Mapping[str, str], client_id: str) -> Response:
    """``grant_type=authorization_code`` (client credentials already checked by the caller)."""
    code = form.get("code", "")
    if not code:
        return _error(400, "invalid_request", "The request is missing a required parameter : code")
    redirect_uri = form.get("redirect_uri", "")
    if not redirect_uri:
        return _error(400, "invalid_request", "The request is missing a required parameter : redirect_uri")
    result = state.oauth.redeem(code, client_id, redirect_uri, state.monotonic())
    if result.problem is not None or result.account_id is None:
        return _error(400, "invalid_grant", _REDEMPTION_ERRORS[result.problem or "unknown"])
    account = state.world.account(result.account_id)
    revoked = account.account_id in state.config.revoked_accounts
    refresh = state.oauth.issue_refresh_token(account.account_id, after_revocation=revoked)
    ttl = float(state.config.token_ttl_seconds)
    issued = state.tokens.issue("access", client_id, account.selling_partner_id, None, ttl, state.monotonic())
    state.stats.count_grant("authorization_code", account.selling_partner_id)
    body: dict[str, Any] = {
        "access_token": issued.token,
        "refresh_token": refresh,
        "token_type": "bearer",
        "expires_in": int(ttl),
    }
    return JSONResponse(body, headers=_NO_STORE)
