"""Onboarding one account: authorize (website workflow or self-authorization), verify, discover its
marketplaces, store the refresh token (SecretStore) and write its ``[[accounts]]`` entry.

Nothing is written for a self-authorized token until LWA accepted it and (sellers) Amazon listed the
marketplaces. A token won by the website workflow is stored as soon as LWA issued it (the code it came
from is spent), so a later failure only needs ``splake accounts add`` again for the config entry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import httpx

from splake.accounts.config_edit import upsert_account
from splake.accounts.discovery import Discovered, diff, discover
from splake.accounts.listener import RedirectListener, loopback_address
from splake.accounts.oauth import Callback, consent_url, exchange_code, new_state, parse_callback
from splake.config import AccountSettings, Settings
from splake.errors import AuthError, ConfigError, SecretNotFoundError
from splake.logs import get_logger, log_event, register_secret
from splake.ports import SecretInfo, SecretStore
from splake.spapi.marketplaces import MARKETPLACES, Marketplace, marketplace

log = get_logger(__name__)
AccountType = Literal["seller", "vendor"]


class OverlaySecretStore:
    """A SecretStore that answers some names from memory (a candidate value not stored yet)."""

    def __init__(self, base: SecretStore, overlay: dict[str, str]) -> None:
        self.base = base
        self.overlay = dict(overlay)

    def get(self, name: str) -> str:
        return self.overlay[name] if name in self.overlay else self.base.get(name)

    def put(self, name: str, value: str) -> None:
        self.overlay[name] = value

    def delete(self, name: str) -> None:
        self.overlay.pop(name, None)

    def info(self, name: str) -> SecretInfo | None:
        return self.base.info(name)

    def list(self) -> list[SecretInfo]:
        return self.base.list()


@dataclass(frozen=True)
class WebsiteAuth:
    redirect_uri: str
    listen: bool  # True: one-shot loopback listener; False: the user pastes the landing address
    timeout_seconds: float = 600.0
    certfile: str | None = None
    keyfile: str | None = None


def redirect_is_loopback(redirect_uri: str) -> bool:
    from urllib.parse import urlsplit

    try:
        loopback_address(urlsplit(redirect_uri).hostname or "")
    except ConfigError:
        return False
    return True


def authorize_website(
    settings: Settings,
    account_type: AccountType,
    sign_in_marketplace: str,
    auth: WebsiteAuth,
    *,
    announce: Callable[[str], None],
    open_url: Callable[[str], object],
    paste: Callable[[], str],
) -> Callback:
    """Steps 1-2 of the workflow: consent URL out, validated callback back (blocking)."""
    state = new_state()
    url = consent_url(settings, account_type, sign_in_marketplace, state, auth.redirect_uri)
    if auth.listen:
        with RedirectListener(auth.redirect_uri, state, certfile=auth.certfile, keyfile=auth.keyfile) as lst:
            announce(url)
            open_url(url)
            return lst.wait(auth.timeout_seconds)
    announce(url)
    open_url(url)
    return parse_callback(paste().strip(), state)


async def redeem(settings: Settings, secrets: SecretStore, callback: Callback, redirect_uri: str) -> str:
    """Step 3: the code → a refresh token (LWA authorization_code grant)."""
    secret = secrets.get(settings.lwa.client_secret_ref)
    register_secret(secret)
    async with httpx.AsyncClient(timeout=settings.spapi.timeout_seconds) as http:
        return await exchange_code(http, settings, secret, callback.code, redirect_uri)


def draft_account(
    account_id: str,
    account_type: AccountType,
    region: str,
    selling_partner_id: str,
    marketplaces: tuple[str, ...],
    existing: AccountSettings | None,
) -> AccountSettings:
    if existing is not None and existing.selling_partner_id != selling_partner_id:
        raise AuthError(
            f"account {account_id} is configured for selling partner {existing.selling_partner_id}, but "
            f"this authorization is for {selling_partner_id}",
            hint="sign in with the right Seller/Vendor Central account, or add it under a new id",
        )
    return AccountSettings(
        id=account_id,
        type=account_type,
        region=region,
        selling_partner_id=selling_partner_id,
        marketplaces=marketplaces or tuple(m.id for m in _region_marketplaces(region)[:1]),
        refresh_token_ref=existing.refresh_token_ref if existing else None,
    )


def _region_marketplaces(region: str) -> list[Marketplace]:
    return [m for m in MARKETPLACES if m.region == region]


async def verify_and_discover(
    settings: Settings, secrets: SecretStore, account: AccountSettings
) -> Discovered | None:
    """An LWA refresh with the account's token, then (sellers) getMarketplaceParticipations."""
    from splake.spapi.client import SpApiClient

    probe_settings = settings.model_copy(
        update={"accounts": (*(a for a in settings.accounts if a.id != account.id), account)}
    )
    async with SpApiClient(probe_settings, secrets) as client:
        await client.lwa.access_token(account)
        if account.type != "seller":
            return None
        resp = await client.call(account, "getMarketplaceParticipations")
    return discover((resp.body or {}).get("payload"), account.region)


def choose_marketplaces(
    explicit: tuple[str, ...], found: Discovered | None, configured: tuple[str, ...]
) -> tuple[tuple[str, ...], list[str]]:
    """The marketplaces to write and the lines explaining the choice (pure)."""
    lines: list[str] = []
    if found is not None:
        lines += [f"Amazon lists: {', '.join(found.marketplaces) or '(none usable)'}"]
        lines += [f"  left out {code}: {why}" for code, why in found.left_out]
    chosen = explicit or (found.marketplaces if found is not None else ()) or configured
    if not chosen:
        raise ConfigError(
            "no marketplaces: Amazon listed none this account participates in and none were given",
            hint="pass them with --marketplace CODE (repeatable)",
        )
    if found is not None and explicit:
        lines += [
            "--marketplace given; against Amazon: " + line
            for line in diff(explicit, found.marketplaces).lines()
        ]
    if configured:
        lines += ["against the config: " + line for line in diff(configured, chosen).lines()]
    return tuple(marketplace(m).code for m in chosen), lines


def write_entry(
    config_path: Path,
    account: AccountSettings,
    marketplaces: tuple[str, ...],
    vendor_group: str | None,
    existing: AccountSettings | None,
) -> str:
    entry: dict[str, object] = {
        "id": account.id,
        "type": account.type,
        "region": account.region,
        "selling_partner_id": account.selling_partner_id,
        "marketplaces": list(marketplaces),
    }
    if vendor_group:
        entry["vendor_group"] = vendor_group
    if account.type == "vendor" and existing is None:
        # the vendor reports need these options (Amazon ends them FATAL otherwise); adjust as needed
        entry["vendor_report_options"] = {
            "reportPeriod": "DAY",
            "distributorView": "MANUFACTURING",
            "sellingProgram": "RETAIL",
        }
    action, _ = upsert_account(config_path, entry)
    log_event(log, "account_written", account=account.id, action=action, marketplaces=",".join(marketplaces))
    return action


def store_token(secrets: SecretStore, account: AccountSettings, token: str) -> None:
    register_secret(token)
    secrets.put(account.secret_ref, token)


def current_token(secrets: SecretStore, account: AccountSettings) -> str | None:
    try:
        return secrets.get(account.secret_ref)
    except SecretNotFoundError:
        return None
