"""Is an account's refresh token still accepted by LWA?"""

from __future__ import annotations

from typing import Literal

import httpx

from splake.auth.lwa import LwaClient
from splake.config import AccountSettings, Settings
from splake.errors import AuthError, SecretNotFoundError
from splake.ports import SecretStore
from splake.spapi.retry import RetryPolicy

TokenState = Literal["ok", "missing", "invalid_grant"]


async def refresh_token_state(
    settings: Settings, secrets: SecretStore, account: AccountSettings
) -> TokenState:
    """``ok`` / ``missing`` / ``invalid_grant``; other LWA failures (client secret, outage) raise."""
    try:
        secrets.get(account.secret_ref)
    except SecretNotFoundError:
        return "missing"
    async with httpx.AsyncClient(timeout=settings.spapi.timeout_seconds) as http:
        lwa = LwaClient(settings, secrets, http, retry=RetryPolicy(max_retries=2))
        try:
            await lwa.access_token(account)
        except AuthError as exc:
            if "invalid_grant" in exc.message:
                return "invalid_grant"
            raise
    return "ok"
