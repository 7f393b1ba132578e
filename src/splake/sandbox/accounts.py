"""The sandbox's selling partners and app credentials, derived from the seed (declared as data)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Literal

from splake.spapi.marketplaces import marketplace


@dataclass(frozen=True)
class SandboxAccount:
    account_id: str  # e.g. "seller-na"
    type: Literal["seller", "vendor"]
    region: str  # NA / EU / FE
    selling_partner_id: str
    marketplace_ids: tuple[str, ...]
    refresh_token: str
    # accountId as in notifications: "amzn1.merchant.o.<id>" (seller) or "amzn1.vg.<n>" (vendor group)
    notification_account_id: str
    store_name: str


# (account_id, type, region, marketplace codes, store name)
ACCOUNT_SPECS: tuple[tuple[str, Literal["seller", "vendor"], str, tuple[str, ...], str], ...] = (
    ("seller-na", "seller", "NA", ("US", "CA"), "Cascade Outdoor Supply"),
    ("seller-eu", "seller", "EU", ("DE", "GB", "FR"), "Müller & Söhne Haushaltswaren"),
    ("seller-jp", "seller", "FE", ("JP",), "さくら生活雑貨店"),
    ("vendor-na", "vendor", "NA", ("US",), "Northwind Brands Vendor"),
)


def _digest(seed: int, *parts: str) -> str:
    return hashlib.sha256("|".join((str(seed), *parts)).encode()).hexdigest()


def _seller_id(seed: int, account_id: str) -> str:
    # Amazon merchant tokens look like "A" + 12-13 upper-case alphanumerics.
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    n = int(_digest(seed, "spid", account_id), 16)
    out = ""
    for _ in range(13):
        n, r = divmod(n, len(alphabet))
        out += alphabet[r]
    return "A" + out


def make_accounts(seed: int) -> tuple[SandboxAccount, ...]:
    out = []
    for account_id, kind, region, codes, store in ACCOUNT_SPECS:
        spid = _seller_id(seed, account_id)
        refresh = "Atzr|IwEB" + _digest(seed, "refresh", account_id)[:48]
        notif = (
            f"amzn1.merchant.o.{spid}"
            if kind == "seller"
            else f"amzn1.vg.{int(_digest(seed, 'vg', account_id)[:8], 16) % 10_000_000}"
        )
        out.append(
            SandboxAccount(
                account_id=account_id,
                type=kind,
                region=region,
                selling_partner_id=spid,
                marketplace_ids=tuple(marketplace(c).id for c in codes),
                refresh_token=refresh,
                notification_account_id=notif,
                store_name=store,
            )
        )
    return tuple(out)


@dataclass(frozen=True)
class AppCredentials:
    client_id: str
    client_secret: str
    application_id: str


def make_app(seed: int) -> AppCredentials:
    d = _digest(seed, "app")
    return AppCredentials(
        client_id="amzn1.application-oa2-client." + d[:32],
        client_secret="amzn1.oa2-cs.v1." + d[32:64],
        application_id=f"amzn1.sellerapps.app.{d[:8]}-{d[8:12]}-{d[12:16]}-{d[16:20]}-{d[20:32]}",
    )
