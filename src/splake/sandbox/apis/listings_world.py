"""Listings and catalog items of the sandbox world (shared by the Catalog Items and Listings Items APIs).

Data is deterministic from the world's seed: each seller account lists the products of
``splake.sandbox.catalog.products_for`` (the same SKUs/ASINs/titles as the listings report), wrapped in
:class:`ItemsWorld`; catalog details (brand, sales ranks, images, dimensions) are derived from a hash.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from splake.sandbox.apis.common import digest
from splake.sandbox.catalog import Product, language_of, products_for
from splake.sandbox.world import World
from splake.spapi.marketplaces import marketplace

# (product type, display group, display group title, classification id, classification title, brand words)
CATEGORIES: tuple[tuple[str, str, str, str, str], ...] = (
    (
        "OUTDOOR_LIVING",
        "lawn_and_garden_display_on_website",
        "Patio, Lawn & Garden",
        "3238155011",
        "Camping Stoves",
    ),
    ("HOME", "home_display_on_website", "Home & Kitchen", "289913", "Coffee Mugs"),
    ("SPORTING_GOODS", "sporting_goods_display_on_website", "Sports & Outdoors", "3400371", "Water Bottles"),
    ("TOY_FIGURE", "toy_display_on_website", "Toys & Games", "166099011", "Puzzles"),
    ("KITCHEN", "kitchen_display_on_website", "Kitchen & Dining", "289851", "Chef's Knives"),
)
NOUNS = (
    "Stove",
    "Mug",
    "Bottle",
    "Puzzle",
    "Knife",
    "Lantern",
    "Tent Stake",
    "Kettle",
    "Thermos",
    "Cutting Board",
)
ADJECTIVES = ("Compact", "Insulated", "Rugged", "Classic", "Ultralight", "Premium", "Folding", "Stainless")


@dataclass
class Listing:
    """A seller's listing of one product (the product itself comes from ``splake.sandbox.catalog``)."""

    seller_id: str
    sku: str
    asin: str
    product: Product
    marketplace_ids: tuple[str, ...]
    quantity: int
    created: datetime
    category: int
    status: dict[str, list[str]] = field(default_factory=dict)  # marketplace → status list
    issues: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    updated: datetime | None = None

    def title(self, mp: str) -> str:
        return self.product.title(language_of(mp))

    def price(self, mp: str) -> float:
        return self.product.price(marketplace(mp).currency)


class ItemsWorld:
    """Listings and catalog items derived from the world (built lazily, mutated by the admin hook)."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.lock = threading.RLock()
        self._listings: dict[str, dict[str, Listing]] = {}
        self._by_asin: dict[str, Listing] = {}

    def listings(self, seller_id: str) -> dict[str, Listing]:
        with self.lock:
            if seller_id not in self._listings:
                self._listings[seller_id] = self._build(seller_id)
                for lst in self._listings[seller_id].values():
                    self._by_asin.setdefault(lst.asin, lst)
            return self._listings[seller_id]

    def _build(self, seller_id: str) -> dict[str, Listing]:
        acct = self.world.account_by_selling_partner_id(seller_id)
        if acct is None or acct.type != "seller":
            return {}
        seed = self.world.seed
        out: dict[str, Listing] = {}
        for p in products_for(seed, acct, self.world.scale):
            h = digest(seed, seller_id, p.sku)
            # About 1 in 12 listings is not buyable (discoverable only) and carries an ERROR issue.
            broken = h % 12 == 0
            status = ["DISCOVERABLE"] if broken else ["BUYABLE", "DISCOVERABLE"]
            issue = {
                "code": "90220",
                "message": "'item_name' is required but not supplied.",
                "severity": "ERROR",
                "attributeNames": ["item_name"],
                "categories": ["MISSING_ATTRIBUTE"],
            }
            out[p.sku] = Listing(
                seller_id=seller_id,
                sku=p.sku,
                asin=p.asin,
                product=p,
                marketplace_ids=acct.marketplace_ids,
                quantity=(h >> 20) % 250,
                created=p.open_date,
                category=h % len(CATEGORIES),
                status={m: list(status) for m in acct.marketplace_ids},
                issues={m: ([issue] if broken else []) for m in acct.marketplace_ids},
            )
        return out

    def by_asin(self, asin: str) -> Listing | None:
        with self.lock:
            for acct in self.world.accounts:
                if acct.type == "seller":
                    self.listings(acct.selling_partner_id)
            return self._by_asin.get(asin)


def money(amount: float, mp: str) -> str:
    return f"{amount:.0f}" if marketplace(mp).currency == "JPY" else f"{amount:.2f}"


def language(mp: str) -> str:
    return marketplace(mp).language
