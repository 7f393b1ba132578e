"""The SP-API website authorization workflow, client side (Amazon: "Authorize Public Applications").

1. The app sends the selling partner to the authorization (consent) URI on the Seller Central (sellers)
   or Vendor Central (vendors) site of their marketplace:
   ``<site>/apps/authorize/consent?application_id=…&state=…[&version=beta][&redirect_uri=…]``
   (``version=beta`` while the app is in draft; ``redirect_uri`` must be one registered for the app,
   default the first registered one).
2. After sign-in and Confirm, Amazon redirects the browser to the redirect URI with ``state``,
   ``selling_partner_id`` and ``spapi_oauth_code`` (an LWA authorization code, valid 5 minutes).
3. The app checks ``state`` (CSRF) and exchanges the code at LWA:
   ``grant_type=authorization_code&code=…&redirect_uri=…&client_id=…&client_secret=…`` → refresh token.

Pure parts (URLs, state, callback validation) are functions; :func:`exchange_code` does the I/O.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

from splake.config import Settings
from splake.errors import AuthError, ConfigError, RetryableError
from splake.logs import register_secret
from splake.spapi.marketplaces import marketplace

AccountType = Literal["seller", "vendor"]
CONSENT_PATH = "/apps/authorize/consent"
AUTH_CODE_TTL_SECONDS = 300  # "An LWA authorization code expires after five minutes."

# Seller Central sites by marketplace code (Amazon: "Seller Central URLs").
SELLER_CENTRAL: Mapping[str, str] = {
    "US": "https://sellercentral.amazon.com",
    "CA": "https://sellercentral.amazon.ca",
    "MX": "https://sellercentral.amazon.com.mx",
    "BR": "https://sellercentral.amazon.com.br",
    "GB": "https://sellercentral-europe.amazon.com",
    "DE": "https://sellercentral-europe.amazon.com",
    "FR": "https://sellercentral-europe.amazon.com",
    "IT": "https://sellercentral-europe.amazon.com",
    "ES": "https://sellercentral-europe.amazon.com",
    "IE": "https://sellercentral.amazon.ie",
    "BE": "https://sellercentral.amazon.com.be",
    "NL": "https://sellercentral.amazon.nl",
    "SE": "https://sellercentral.amazon.se",
    "PL": "https://sellercentral.amazon.pl",
    "TR": "https://sellercentral.amazon.com.tr",
    "AE": "https://sellercentral.amazon.ae",
    "SA": "https://sellercentral.amazon.sa",
    "EG": "https://sellercentral.amazon.eg",
    "ZA": "https://sellercentral.amazon.co.za",
    "IN": "https://sellercentral.amazon.in",
    "SG": "https://sellercentral.amazon.sg",
    "AU": "https://sellercentral.amazon.com.au",
    "JP": "https://sellercentral.amazon.co.jp",
}

# Vendor Central sites by marketplace code (Amazon: "Vendor Central URLs").
VENDOR_CENTRAL: Mapping[str, str] = {
    "US": "https://vendorcentral.amazon.com",
    "CA": "https://vendorcentral.amazon.ca",
    "MX": "https://vendorcentral.amazon.com.mx",
    "BR": "https://vendorcentral.amazon.com.br",
    "GB": "https://vendorcentral.amazon.co.uk",
    "DE": "https://vendorcentral.amazon.de",
    "FR": "https://vendorcentral.amazon.fr",
    "IT": "https://vendorcentral.amazon.it",
    "ES": "https://vendorcentral.amazon.es",
    "NL": "https://vendorcentral.amazon.nl",
    "SE": "https://vendorcentral.amazon.se",
    "PL": "https://vendorcentral.amazon.pl",
    "TR": "https://vendorcentral.amazon.com.tr",
    "AE": "https://vendorcentral.amazon.me",
    "EG": "https://vendorcentral.amazon.me",
    "IN": "https://www.vendorcentral.in",
    "SG": "https://vendorcentral.amazon.com.sg",
    "AU": "https://vendorcentral.amazon.com.au",
    "JP": "https://vendorcentral.amazon.co.jp",
}


def central_site(account_type: AccountType, marketplace_ref: str) -> str:
    """The Seller/Vendor Central site a selling partner of ``marketplace_ref`` signs in to (pure)."""
    m = marketplace(marketplace_ref)
    table = VENDOR_CENTRAL if account_type == "vendor" else SELLER_CENTRAL
    site = table.get(m.code)
    if site is None:
        kind = "Vendor" if account_type == "vendor" else "Seller"
        raise ConfigError(
            f"no {kind} Central site known for marketplace {m.code}",
            hint="pick another marketplace of the same region with --marketplace (authorizations are "
            "regional), or set `[lwa] authorize_url_override` to the site the partner signs in to",
        )
    return site


def new_state() -> str:
    """A fresh, unguessable CSRF ``state`` (used for one authorization only)."""
    return secrets.token_urlsafe(32)


def consent_url(
    settings: Settings,
    account_type: AccountType,
    marketplace_ref: str,
    state: str,
    redirect_uri: str | None,
) -> str:
    """The OAuth authorization URI the selling partner opens (pure)."""
    if not settings.lwa.application_id:
        raise ConfigError(
            "`[lwa] application_id` is not set",
            hint="copy the app id from Solution Provider Portal / Developer Central (Apps → your app, "
            "e.g. amzn1.sp.solution.…) into `[lwa] application_id`",
        )
    base = (settings.lwa.authorize_url_override or central_site(account_type, marketplace_ref)).rstrip("/")
    params = {"application_id": settings.lwa.application_id, "state": state}
    if settings.lwa.draft:
        params["version"] = "beta"
    if redirect_uri:
        params["redirect_uri"] = redirect_uri
    return f"{base}{CONSENT_PATH}?{urlencode(params)}"


@dataclass(frozen=True)
class Callback:
    selling_partner_id: str
    code: str
    mws_auth_token: str | None = None


def parse_callback(query: str | Mapping[str, str], expected_state: str) -> Callback:
    """Validate Amazon's redirect (``state``, ``selling_partner_id``, ``spapi_oauth_code``) (pure).

    ``query`` is the redirect's query string, a full URL, or a mapping. A wrong or missing ``state``
    is refused (CSRF: the redirect did not come from the authorization this process started)."""
    if isinstance(query, str):
        text = urlsplit(query).query if "://" in query else query.lstrip("?")
        params = {k: v[0] for k, v in parse_qs(text, keep_blank_values=True).items()}
    else:
        params = dict(query)
    got = params.get("state", "")
    if not got or not hmac.compare_digest(got.encode(), expected_state.encode()):
        raise AuthError(
            "the authorization redirect carries a different `state` than the one this command sent",
            hint="only complete the authorization that `splake accounts add` just opened; start it again "
            "(each run makes a new state, valid for that run only)",
        )
    if params.get("error"):
        why = f"{params.get('error')} {params.get('error_description', '')}".strip()
        raise AuthError(
            f"the authorization was refused: {why}",
            hint="the selling partner cancelled or Amazon refused; start `splake accounts add` again",
        )
    code = params.get("spapi_oauth_code", "")
    spid = params.get("selling_partner_id", "")
    if not code or not spid:
        raise AuthError(
            "the authorization redirect lacks spapi_oauth_code or selling_partner_id",
            hint="check that the redirect URI registered for the app points at this listener (or paste the "
            "full address the browser landed on)",
        )
    return Callback(spid, code, params.get("mws_auth_token") or None)


def _json(resp: httpx.Response) -> Any:
    try:
        return resp.json()
    except ValueError:
        return None


async def exchange_code(
    http: httpx.AsyncClient, settings: Settings, client_secret: str, code: str, redirect_uri: str
) -> str:
    """LWA ``authorization_code`` grant → the refresh token (form-encoded, as documented)."""
    register_secret(code)
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
        "client_id": settings.lwa.client_id,
        "client_secret": client_secret,
    }
    try:
        resp = await http.post(settings.lwa.token_url, data=form, headers={"accept": "application/json"})
    except httpx.TransportError as exc:
        raise RetryableError(
            f"LWA token endpoint unreachable ({type(exc).__name__})",
            where=settings.lwa.token_url,
            hint="the code stays valid for 5 minutes from the redirect; if it expired, run the command again",
        ) from None
    body = _json(resp)
    if resp.status_code != 200:
        error = str(body.get("error", "")) if isinstance(body, dict) else ""
        desc = str(body.get("error_description", "")) if isinstance(body, dict) else ""
        hint = {
            "invalid_grant": "the code was already used, expired (5 minutes) or issued for another "
            "redirect URI; run `splake accounts add` again and finish within 5 minutes",
            "invalid_client": "LWA refused the client id/secret: check `[lwa] client_id` and "
            f"`splake secrets set {settings.lwa.client_secret_ref}`",
        }.get(error, "check `[lwa] token_url`, client_id and redirect_uri")
        raise AuthError(
            f"LWA authorization_code exchange failed: {error or f'HTTP {resp.status_code}'}"
            + (f" ({desc})" if desc else ""),
            where=settings.lwa.token_url,
            hint=hint,
        )
    token = body.get("refresh_token") if isinstance(body, dict) else None
    if not isinstance(token, str) or not token:
        raise AuthError(
            "LWA answered the authorization_code grant without a refresh_token",
            where=settings.lwa.token_url,
            hint="LWA only returns a refresh token when the client secret is sent; check the credentials",
        )
    register_secret(token)
    if isinstance(body.get("access_token"), str):
        register_secret(body["access_token"])
    return token
