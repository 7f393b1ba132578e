"""Deterministic products per account: SKUs, ASINs, FNSKUs, localized titles and prices."""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache

from splake.sandbox.accounts import SandboxAccount
from splake.sandbox.names import TITLE_WORDS
from splake.spapi.marketplaces import marketplace

BASE_SKUS_PER_ACCOUNT = 1500
# Prices are drawn in USD-like units and converted with these rough factors per currency.
CURRENCY_FACTOR = {"USD": 1.0, "CAD": 1.35, "EUR": 0.92, "GBP": 0.79, "JPY": 150.0}


@dataclass(frozen=True)
class Product:
    index: int
    sku: str
    asin: str
    parent_asin: str
    fnsku: str
    fulfillment: str  # "AFN" (Amazon) or "MFN" (merchant)
    base_price: float  # USD-like
    open_date: datetime
    title_words: tuple[int, int, int]  # indexes into the word lists
    upc: str

    def title(self, language: str) -> str:
        words = TITLE_WORDS[language]
        a, n, v = self.title_words
        adj, noun, variant = (
            words["adj"][a % len(words["adj"])],
            words["noun"][n % len(words["noun"])],
            words["variant"][v % len(words["variant"])],
        )
        if language == "ja":
            return f"{adj} {noun} {variant}"
        return f"{adj} {noun} - {variant}"

    def price(self, currency: str) -> float:
        factor = CURRENCY_FACTOR.get(currency, 1.0)
        if currency == "JPY":
            return float(round(self.base_price * factor / 10) * 10)
        return (
            round(self.base_price * factor - 0.01, 2)
            if self.base_price * factor > 1
            else round(self.base_price * factor, 2)
        )


def language_of(marketplace_id: str) -> str:
    lang = marketplace(marketplace_id).language.split("_")[0]
    return lang if lang in TITLE_WORDS else "en"


def _asin(seed: int, account_id: str, i: int, kind: str = "B0") -> str:
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    n = int(hashlib.sha256(f"{seed}|{account_id}|{kind}|{i}".encode()).hexdigest(), 16)
    out = ""
    for _ in range(8):
        n, r = divmod(n, len(alphabet))
        out += alphabet[r]
    return "B0" + out


CATALOG_EPOCH = datetime(2023, 1, 1, tzinfo=UTC)


@cache
def products_for(seed: int, account: SandboxAccount, scale: float = 1.0) -> tuple[Product, ...]:
    n = max(20, int(BASE_SKUS_PER_ACCOUNT * min(scale, 4.0)))
    rng = random.Random(f"{seed}|catalog|{account.account_id}")
    prefix = {"seller-na": "NA", "seller-eu": "EU", "seller-jp": "JP"}.get(account.account_id, "VN")
    out = []
    parent_count = max(1, n // 4)
    for i in range(n):
        parent_i = i % parent_count
        fulfillment = "AFN" if rng.random() < 0.6 else "MFN"
        out.append(
            Product(
                index=i,
                sku=f"{prefix}-{rng.choice('ABCDEFGHJKLMNPQRSTUVWXYZ')}{i:05d}-{rng.randrange(16**4):04X}",
                asin=_asin(seed, account.account_id, i),
                parent_asin=_asin(seed, account.account_id, parent_i, "P0"),
                fnsku=("X00" + _asin(seed, account.account_id, i, "FN")[2:9]) if fulfillment == "AFN" else "",
                fulfillment=fulfillment,
                base_price=round(rng.uniform(4.0, 180.0), 2),
                open_date=CATALOG_EPOCH + timedelta(days=rng.randrange(0, 600), seconds=rng.randrange(86400)),
                title_words=(rng.randrange(100), rng.randrange(100), rng.randrange(100)),
                upc=f"{rng.randrange(10**11, 10**12)}",
            )
        )
    return tuple(out)
