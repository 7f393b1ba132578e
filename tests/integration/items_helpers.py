"""Helpers for the items/notifications tests: settings + local env wired to a running sandbox."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from splake.auth.secrets import LocalSecretStore
from splake.config import Settings, parse_config
from splake.items.context import ItemsEnv, open_local_env
from splake.sandbox import SandboxServer


def sandbox_settings(
    sb: SandboxServer, lake_dir: Path, account_ids: tuple[str, ...] = ("seller-na",), **extra: Any
) -> Settings:
    w = sb.world
    accounts = []
    for aid in account_ids:
        a = w.account(aid)
        accounts.append(
            {
                "id": aid,
                "type": a.type,
                "region": a.region,
                "selling_partner_id": a.selling_partner_id,
                "marketplaces": list(a.marketplace_ids),
            }
        )
    data: dict[str, Any] = {
        "lake": {"path": str(lake_dir)},
        "lwa": {"client_id": w.client_id, "token_url": sb.url + "/auth/o2/token"},
        "spapi": {"endpoint_override": sb.url, "max_retries": 8},
        "accounts": accounts,
        **extra,
    }
    return parse_config(data, "<test>")


def seed_secrets(sb: SandboxServer, settings: Settings, secrets_dir: Path) -> LocalSecretStore:
    store = LocalSecretStore(secrets_dir)
    store.put(settings.lwa.client_secret_ref, sb.world.client_secret)
    for acct in settings.accounts:
        store.put(acct.secret_ref, sb.world.account(acct.id).refresh_token)
    return store


def local_env(
    sb: SandboxServer, tmp_path: Path, account_ids: tuple[str, ...] = ("seller-na",), **extra: Any
) -> ItemsEnv:
    settings = sandbox_settings(sb, tmp_path / "lake", account_ids, **extra)
    secrets = seed_secrets(sb, settings, tmp_path / "secrets")
    return open_local_env(settings, secrets)
