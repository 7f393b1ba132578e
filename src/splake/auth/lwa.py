"""Login with Amazon (LWA): access tokens for SP-API calls.

- Seller/vendor calls: ``grant_type=refresh_token`` with the account's refresh token (from the secret
  store, by ``account.secret_ref``).
- Grantless calls: ``grant_type=client_credentials`` with a ``scope``
  (e.g. ``sellingpartnerapi::notifications``).

The request is form-encoded, as documented (``POST settings.lwa.token_url``). Tokens are cached per
(grant, refresh-token ref | scope) until 60 s before they expire; concurrent callers share one exchange.
LWA errors become :class:`AuthError` with a hint that says what to do (re-authorize, rotate the secret).
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from splake.auth.token_cache import CachedToken, TokenCache, expiry_from
from splake.config import AccountSettings, Settings
from splake.errors import AuthError, RetryableError, SecretNotFoundError
from splake.logs import get_logger, log_event, register_secret
from splake.ports import SecretStore
from splake.spapi.retry import RetryPolicy, classify_status, retry_delay, should_retry
from splake.spapi.urls import check_url

log = get_logger(__name__)

GRANT_REFRESH = "refresh_token"
GRANT_CLIENT_CREDENTIALS = "client_credentials"
REFRESH_TOKEN_MAX_AGE_DAYS = 365
NOTIFICATIONS_SCOPE = "sellingpartnerapi::notifications"

CacheKey = tuple[str, str]


def key_for_account(account: AccountSettings) -> CacheKey:
    return (GRANT_REFRESH, account.secret_ref)


def key_for_scope(scope: str) -> CacheKey:
    return (GRANT_CLIENT_CREDENTIALS, scope)


# --- pure decisions ------------------------------------------------------------------------------------


def reauthorize_hint(account: AccountSettings | None, settings: Settings) -> str:
    if account is None:
        return "check the LWA client credentials"
    return (
        f"the refresh token for account {account.id} is revoked or expired (the seller removed the "
        "authorization, or it was re-authorized and a new token issued). Re-authorize the app: Seller "
        "Central → Apps and Services → Manage Your Apps → Authorize (or your OAuth website flow), then "
        f"store the new refresh token with `splake secrets set {account.secret_ref}`"
    )


def client_hint(settings: Settings) -> str:
    return (
        "LWA rejected the application's client id/secret. The LWA client secret is rotated every "
        f"{settings.lwa.secret_max_age_days} days (and can be rotated early): copy the current "
        "credentials from Developer Central (Apps → View → LWA credentials), update `[lwa] client_id` "
        f"in the config if it changed and run `splake secrets set {settings.lwa.client_secret_ref}`"
    )


def auth_error_for(
    status: int,
    body: Any,
    *,
    settings: Settings,
    account: AccountSettings | None,
    scope: str | None,
) -> AuthError:
    """Map an LWA error response (``{"error", "error_description"}``) to an actionable AuthError."""
    error = str(body.get("error", "")) if isinstance(body, dict) else ""
    desc = str(body.get("error_description", "")) if isinstance(body, dict) else ""
    who = f"account {account.id}" if account else f"grantless scope {scope}"
    text = f"LWA token exchange for {who} failed: {error or f'HTTP {status}'}" + (
        f" ({desc})" if desc else ""
    )
    where = settings.lwa.token_url
    if error == "invalid_grant":
        return AuthError(text, where=where, hint=reauthorize_hint(account, settings))
    if error in ("invalid_client", "unauthorized_client"):
        return AuthError(text, where=where, hint=client_hint(settings))
    if error == "invalid_scope":
        return AuthError(
            text,
            where=where,
            hint=f"scope {scope!r} is not valid for this app (grantless calls use "
            f"`{NOTIFICATIONS_SCOPE}`); check the app's roles in Developer Central",
        )
    return AuthError(
        text,
        where=where,
        hint="check `[lwa] token_url` and client_id in the config and the stored secrets "
        "(`splake secrets list`)",
    )


@dataclass(frozen=True)
class CredentialWarning:
    name: str  # secret name
    age_days: int
    max_age_days: int
    message: str


def credential_warnings(settings: Settings, secrets: SecretStore, now: datetime) -> list[CredentialWarning]:
    """Secrets older than their rotation period: the LWA client secret (``lwa.secret_max_age_days``,
    Amazon rotates them every 180 days) and refresh tokens (365 days: re-authorization expiry)."""
    checks: list[tuple[str, int, str]] = [
        (
            settings.lwa.client_secret_ref,
            settings.lwa.secret_max_age_days,
            "the LWA client secret may have been rotated or expire soon: rotate it in Developer Central "
            f"and run `splake secrets set {settings.lwa.client_secret_ref}`",
        )
    ]
    seen = {settings.lwa.client_secret_ref}
    for account in settings.accounts:
        if account.secret_ref in seen:
            continue
        seen.add(account.secret_ref)
        checks.append(
            (
                account.secret_ref,
                REFRESH_TOKEN_MAX_AGE_DAYS,
                f"the seller authorization for account {account.id} is due for renewal: re-authorize the app "
                f"and run `splake secrets set {account.secret_ref}`",
            )
        )
    out = []
    for name, max_days, advice in checks:
        info = secrets.info(name)
        if info is None:
            continue
        age = (now - info.updated_at).days
        if age > max_days:
            out.append(
                CredentialWarning(
                    name, age, max_days, f"secret {name} is {age} days old (> {max_days}); {advice}"
                )
            )
    return out


# --- I/O -----------------------------------------------------------------------------------------------


class LwaClient:
    """Exchanges and caches LWA access tokens. One per process; share it between tasks."""

    def __init__(
        self,
        settings: Settings,
        secrets: SecretStore,
        http: httpx.AsyncClient,
        *,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self._settings = settings
        self._secrets = secrets
        self._http = http
        self._clock = clock
        self._wall_clock = wall_clock
        self._retry = retry or RetryPolicy(max_retries=settings.spapi.max_retries)
        self._sleep = sleep
        self._rand = rand
        self._url = check_url(settings.lwa.token_url, what="lwa.token_url")
        self.cache = TokenCache(clock)
        self._warned = False

    async def access_token(self, account: AccountSettings) -> str:
        return await self.cache.get(key_for_account(account), lambda: self._refresh_grant(account))

    async def grantless_token(self, scope: str = NOTIFICATIONS_SCOPE) -> str:
        return await self.cache.get(key_for_scope(scope), lambda: self._client_credentials(scope))

    def invalidate(self, key: CacheKey, token: str | None = None) -> bool:
        """Drop a token the API rejected (only if it is still the cached one)."""
        dropped = self.cache.invalidate(key, token)
        if dropped:
            log_event(log, "lwa_token_invalidated", grant=key[0], ref=key[1])
        return dropped

    def _client_secret(self) -> str:
        secret = self._secrets.get(self._settings.lwa.client_secret_ref)
        register_secret(secret)
        return secret

    def _warn_credentials_once(self) -> None:
        if self._warned:
            return
        self._warned = True
        try:
            warnings = credential_warnings(self._settings, self._secrets, self._wall_clock())
        except Exception as exc:  # age warnings must never break a sync
            log_event(log, "credential_age_check_failed", logging.WARNING, error=type(exc).__name__)
            return
        for w in warnings:
            log_event(
                log,
                "credential_age_warning",
                logging.WARNING,
                secret=w.name,
                age_days=w.age_days,
                max_age_days=w.max_age_days,
                message=w.message,
            )

    async def _refresh_grant(self, account: AccountSettings) -> CachedToken:
        self._warn_credentials_once()
        try:
            refresh_token = self._secrets.get(account.secret_ref)
        except SecretNotFoundError as exc:
            raise AuthError(
                f"no refresh token stored for account {account.id} (secret {account.secret_ref})",
                hint=f"authorize the app for this seller and store the refresh token with "
                f"`splake secrets set {account.secret_ref}`",
            ) from exc
        register_secret(refresh_token)
        form = {
            "grant_type": GRANT_REFRESH,
            "refresh_token": refresh_token,
            "client_id": self._settings.lwa.client_id,
            "client_secret": self._client_secret(),
        }
        return await self._exchange(form, account=account, scope=None)

    async def _client_credentials(self, scope: str) -> CachedToken:
        self._warn_credentials_once()
        form = {
            "grant_type": GRANT_CLIENT_CREDENTIALS,
            "scope": scope,
            "client_id": self._settings.lwa.client_id,
            "client_secret": self._client_secret(),
        }
        return await self._exchange(form, account=None, scope=scope)

    async def _exchange(
        self, form: dict[str, str], *, account: AccountSettings | None, scope: str | None
    ) -> CachedToken:
        grant = form["grant_type"]
        attempt = 0
        while True:
            started = self._clock()
            problem: str
            try:
                resp = await self._http.post(self._url, data=form, headers={"accept": "application/json"})
            except httpx.TransportError as exc:
                problem = f"{type(exc).__name__}"
                status = 0
            else:
                status = resp.status_code
                outcome = classify_status(status)
                if outcome == "ok":
                    return self._parse_token(resp, started, account, scope)
                body = _json_or_none(resp)
                if outcome not in ("throttled", "server_error"):
                    raise auth_error_for(status, body, settings=self._settings, account=account, scope=scope)
                problem = f"HTTP {status}"
            log_event(
                log,
                "lwa_exchange_retry",
                logging.WARNING,
                grant=grant,
                account=account.id if account else None,
                scope=scope,
                status=status,
                problem=problem,
                attempt=attempt,
            )
            if not should_retry(attempt, self._retry):
                raise RetryableError(
                    f"LWA token endpoint unavailable ({problem}) after {attempt + 1} attempts",
                    where=self._settings.lwa.token_url,
                    hint="Login with Amazon is having trouble; the next run will retry",
                )
            await self._sleep(retry_delay(attempt, self._retry, self._rand))
            attempt += 1

    def _parse_token(
        self, resp: httpx.Response, started: float, account: AccountSettings | None, scope: str | None
    ) -> CachedToken:
        body = _json_or_none(resp)
        token = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise AuthError(
                "LWA answered without an access_token",
                where=self._settings.lwa.token_url,
                hint="check `[lwa] token_url` points at Login with Amazon (https://api.amazon.com/auth/o2/token)",
            )
        register_secret(token)
        expires_in = body.get("expires_in", 3600) if isinstance(body, dict) else 3600
        try:
            lifetime = float(expires_in)
        except (TypeError, ValueError):
            lifetime = 3600.0
        log_event(
            log,
            "lwa_token_issued",
            logging.DEBUG,
            grant="client_credentials" if account is None else "refresh_token",
            account=account.id if account else None,
            scope=scope,
            expires_in=lifetime,
        )
        return CachedToken(token, expiry_from(started, lifetime))


def _json_or_none(resp: httpx.Response) -> Any:
    try:
        return resp.json()
    except ValueError:
        return None
