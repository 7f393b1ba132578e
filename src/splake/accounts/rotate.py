"""Credential rotation: a new LWA client secret replaces the old one only once LWA accepted it."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from splake.accounts.onboard import OverlaySecretStore
from splake.auth.lwa import LwaClient
from splake.config import Settings
from splake.errors import AuthError, SplakeError
from splake.ports import SecretStore
from splake.spapi.retry import RetryPolicy


@dataclass(frozen=True)
class RotationResult:
    verified_with: str  # "account <id>" or "grantless <scope>"


async def verify_client_secret(settings: Settings, secrets: SecretStore, candidate: str) -> RotationResult:
    """An LWA exchange with ``candidate`` as the client secret (nothing is stored here).

    Tries the configured accounts' refresh tokens in order (an account whose own token is revoked is
    skipped), then the grantless notifications scope. Raises AuthError when LWA refuses the secret."""
    overlay = OverlaySecretStore(secrets, {settings.lwa.client_secret_ref: candidate})
    problems: list[str] = []
    async with httpx.AsyncClient(timeout=settings.spapi.timeout_seconds) as http:
        lwa = LwaClient(settings, overlay, http, retry=RetryPolicy(max_retries=2))
        for account in settings.accounts:
            try:
                await lwa.access_token(account)
            except AuthError as exc:
                if "invalid_client" in exc.message or "unauthorized_client" in exc.message:
                    raise AuthError(
                        "LWA refused the new client secret (invalid_client); the old one is kept",
                        where=settings.lwa.token_url,
                        hint="copy the secret again from Solution Provider Portal / Developer Central "
                        "(App → LWA credentials → View) and rerun `splake secrets rotate "
                        f"{settings.lwa.client_secret_ref}`",
                    ) from None
                problems.append(f"{account.id}: {exc.message}")
                continue
            return RotationResult(f"account {account.id}")
        try:
            await lwa.grantless_token()
        except SplakeError as exc:
            problems.append(f"grantless: {exc.message}")
        else:
            return RotationResult("grantless sellingpartnerapi::notifications")
    raise AuthError(
        "could not verify the new client secret: no LWA exchange succeeded; the old one is kept",
        hint="; ".join(problems) or "configure an account first (`splake accounts add`)",
    )
