"""Wiring the product to a running sandbox: a ready :class:`Settings` and the secrets it refers to."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from splake.config import AccountSettings, LakeSettings, LwaSettings, Settings, SpApiSettings, SyncSettings
from splake.ports import SecretStore
from splake.sandbox.world import World
from splake.spapi.marketplaces import marketplace

SELLER_REPORTS = (
    "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL",
    "GET_MERCHANT_LISTINGS_ALL_DATA",
    "GET_FBA_MYI_UNSUPPRESSED_INVENTORY_DATA",
    "GET_SALES_AND_TRAFFIC_REPORT",
)
VENDOR_REPORTS = ("GET_VENDOR_SALES_REPORT", "GET_VENDOR_INVENTORY_REPORT")
VENDOR_OPTIONS = {"reportPeriod": "DAY", "distributorView": "MANUFACTURING", "sellingProgram": "RETAIL"}
CLIENT_SECRET_REF = "lwa/client_secret"  # noqa: S105 - a secret store key, not a secret


def demo_settings(
    sandbox_url: str,
    lake_dir: str | Path,
    accounts: Iterable[str] | None = None,
    *,
    world: World | None = None,
    seed: int = 7,
    start_date: date | None = None,
    lookback_days: int = 3,
) -> Settings:
    """Settings that point every call (LWA and SP-API) at the sandbox, for the sandbox accounts
    ``accounts`` (default: all of ``seller-na``, ``seller-eu``, ``seller-jp``, ``vendor-na``)."""
    w = world or World(seed=seed)
    wanted = list(accounts) if accounts is not None else [a.account_id for a in w.accounts]
    entries = []
    for account_id in wanted:
        a = w.account(account_id)
        entries.append(
            AccountSettings(
                id=a.account_id,
                type=a.type,
                region=a.region,
                selling_partner_id=a.selling_partner_id,
                marketplaces=tuple(marketplace(m).code for m in a.marketplace_ids),
                report_types=VENDOR_REPORTS if a.type == "vendor" else SELLER_REPORTS,
                vendor_report_options=dict(VENDOR_OPTIONS) if a.type == "vendor" else {},
            )
        )
    url = sandbox_url.rstrip("/")
    return Settings(
        lake=LakeSettings(path=str(lake_dir)),
        lwa=LwaSettings(
            client_id=w.client_id, client_secret_ref=CLIENT_SECRET_REF, token_url=url + "/auth/o2/token"
        ),
        spapi=SpApiSettings(endpoint_override=url),
        sync=SyncSettings(
            report_types=SELLER_REPORTS,
            start_date=start_date or (datetime.now(UTC) - timedelta(days=7)).date(),
            lookback_days=lookback_days,
            poll_initial_seconds=0.2,
            poll_max_seconds=2.0,
        ),
        accounts=tuple(entries),
    )


def seed_demo_secrets(secret_store: SecretStore, world: World, settings: Settings | None = None) -> None:
    """Store the sandbox app's client secret and every account's refresh token under the refs the
    settings use (defaults: ``lwa/client_secret`` and ``accounts/<id>/refresh_token``)."""
    secret_store.put(settings.lwa.client_secret_ref if settings else CLIENT_SECRET_REF, world.client_secret)
    if settings is not None:
        for acct in settings.accounts:
            sandbox_acct = world.account_by_selling_partner_id(acct.selling_partner_id)
            if sandbox_acct is not None:
                secret_store.put(acct.secret_ref, sandbox_acct.refresh_token)
        return
    for a in world.accounts:
        secret_store.put(f"accounts/{a.account_id}/refresh_token", a.refresh_token)
