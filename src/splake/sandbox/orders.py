"""Deterministic orders per (account, marketplace, UTC day), generated lazily from the seed.

An order's whole life (payment, shipment, cancellation, a late update, a return) is fixed at
generation; what a report shows depends on ``as_of`` (the report's creation time): an order bought
yesterday may still be Pending today and Shipped tomorrow, with ``last-updated-date`` moving forward.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache

from splake.sandbox.accounts import SandboxAccount
from splake.sandbox.catalog import Product, products_for
from splake.sandbox.names import CITIES
from splake.spapi.marketplaces import marketplace

# Mean orders per day per marketplace at scale 1.
ORDERS_PER_DAY = {"US": 45, "CA": 12, "DE": 30, "GB": 18, "FR": 14, "JP": 28}
ORDER_ID_PREFIX = {
    "US": ("111", "112", "113", "114"),
    "CA": ("701", "702"),
    "DE": ("302", "303", "304"),
    "GB": ("202", "203", "204"),
    "FR": ("402", "403", "404"),
    "JP": ("249", "250", "503"),
}
CACHE_MAX_SCALE = 4.0
RETURN_REASONS = (
    "UNWANTED_ITEM",
    "DEFECTIVE",
    "NOT_AS_DESCRIBED",
    "ORDERED_WRONG_ITEM",
    "FOUND_BETTER_PRICE",
)
DISPOSITIONS = ("SELLABLE", "SELLABLE", "CUSTOMER_DAMAGED", "DEFECTIVE", "CARRIER_DAMAGED")
FULFILLMENT_CENTERS = {
    "US": ("PHX6", "SEA8", "BFI4"),
    "CA": ("YYZ4", "YVR2"),
    "DE": ("LEJ1", "MUC3", "FRA7"),
    "GB": ("LTN1", "BHX4"),
    "FR": ("ORY1", "LYS1"),
    "JP": ("NRT5", "KIX2", "HND3"),
}
VAT = {"USD": 0.0825, "CAD": 0.13, "EUR": 0.19, "GBP": 0.20, "JPY": 0.10}


@dataclass(frozen=True)
class OrderItem:
    product: Product
    quantity: int
    unit_price: float
    shipping_price: float
    promotion_discount: float
    promotion_id: str


@dataclass(frozen=True)
class Order:
    order_id: str
    marketplace_id: str
    country: str
    currency: str
    purchase: datetime
    fulfillment: str  # "Amazon" | "Merchant"
    ship_service_level: str
    city: str
    state: str
    postal_code: str
    is_business: bool
    items: tuple[OrderItem, ...]
    paid_at: datetime
    ship_at: datetime | None  # None when cancelled before shipping
    cancel_at: datetime | None
    late_update_at: datetime | None  # e.g. an address correction or a delivery scan, days later
    return_at: datetime | None  # FBA customer return (Amazon-fulfilled, shipped orders only)
    return_reason: str
    return_disposition: str
    fulfillment_center: str

    def status_at(self, as_of: datetime) -> tuple[str, str, datetime] | None:
        """(order-status, item-status, last-updated-date) as seen at ``as_of``; None if not yet placed."""
        if self.purchase > as_of:
            return None
        last = self.purchase
        order_status, item_status = "Pending", "Unshipped"
        if self.paid_at <= as_of:
            last = self.paid_at
        if self.cancel_at is not None and self.cancel_at <= as_of:
            return "Cancelled", "Cancelled", self.cancel_at
        if self.ship_at is not None and self.ship_at <= as_of:
            order_status, item_status, last = "Shipped", "Shipped", self.ship_at
            if self.late_update_at is not None and self.late_update_at <= as_of:
                last = self.late_update_at
        return order_status, item_status, last


def _generate_day(
    seed: int, account: SandboxAccount, marketplace_id: str, day: date, scale: float
) -> tuple[Order, ...]:
    m = marketplace(marketplace_id)
    country = "GB" if m.code == "UK" else m.code
    rng = random.Random(f"{seed}|orders|{account.account_id}|{marketplace_id}|{day.isoformat()}")
    products = products_for(seed, account, min(scale, 4.0))
    weekday_factor = (0.85, 0.9, 0.95, 1.0, 1.1, 1.25, 1.2)[day.weekday()]
    mean = ORDERS_PER_DAY.get(country, 10) * scale * weekday_factor
    count = max(0, int(rng.gauss(mean, max(1.0, mean * 0.15))))
    day_start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    seconds = sorted(int(rng.random() * 86400) for _ in range(count))
    cities = CITIES.get(country, CITIES["US"])
    centers = FULFILLMENT_CENTERS.get(country, ("XXX1",))
    prefixes = ORDER_ID_PREFIX.get(country, ("999",))
    rand = rng.random
    n_products = len(products)
    ship_fee = 500.0 if m.currency == "JPY" else 4.99
    out = []
    for n, sec in enumerate(seconds):
        purchase = day_start + timedelta(seconds=sec)
        prefix = prefixes[int(rand() * len(prefixes))]
        tail = (day.toordinal() * 7919 + n * 104729 + int(rand() * 10**6)) % 10**7
        order_id = f"{prefix}-{int(rand() * 10**7):07d}-{tail:07d}"
        n_items = 1 if rand() < 0.78 else 2 + int(rand() * 3)
        items = []
        # Popular products sell more: a skewed pick.
        for _ in range(n_items):
            # Popular products sell more: a skewed pick.
            p = products[min(n_products - 1, int(rng.paretovariate(1.2)) - 1 + int(rand() * n_products) // 7)]
            qty = 1 if rand() < 0.85 else 2 + int(rand() * 4)
            unit = p.price(m.currency)
            promo = round(unit * qty * 0.1, 2) if rand() < 0.08 else 0.0
            if m.currency == "JPY":
                promo = float(round(promo))
            items.append(
                OrderItem(
                    product=p,
                    quantity=qty,
                    unit_price=unit,
                    shipping_price=0.0 if p.fulfillment == "AFN" or rand() < 0.5 else ship_fee,
                    promotion_discount=promo,
                    promotion_id=f"Core Free Shipping {int(rand() * 10**8):08d}" if promo else "",
                )
            )
        fulfillment = "Amazon" if items[0].product.fulfillment == "AFN" else "Merchant"
        paid_at = purchase + timedelta(minutes=1 + int(rand() * 240))
        cancelled = rand() < 0.04
        cancel_at = purchase + timedelta(minutes=20 + int(rand() * 36 * 60)) if cancelled else None
        ship_at = None if cancelled else paid_at + timedelta(seconds=int((4 + rand() * 68) * 3600))
        late = (
            (ship_at + timedelta(seconds=int((2 + rand() * 7) * 86400)))
            if ship_at and rand() < 0.12
            else None
        )
        returned = ship_at is not None and fulfillment == "Amazon" and rand() < 0.05
        return_at = (
            ship_at + timedelta(seconds=int((3 + rand() * 22) * 86400)) if (returned and ship_at) else None
        )
        city, state, postal = cities[int(rand() * len(cities))]
        r1, r2, r3 = rand(), rand(), rand()
        out.append(
            Order(
                order_id=order_id,
                marketplace_id=marketplace_id,
                country=country,
                currency=m.currency,
                purchase=purchase,
                fulfillment=fulfillment,
                ship_service_level="Expedited" if r1 < 0.15 else "Standard",
                city=city,
                state=state,
                postal_code=postal,
                is_business=r2 < 0.07,
                items=tuple(items),
                paid_at=paid_at,
                ship_at=ship_at,
                cancel_at=cancel_at,
                late_update_at=late,
                return_at=return_at,
                return_reason=RETURN_REASONS[int(r3 * len(RETURN_REASONS))],
                return_disposition=DISPOSITIONS[int(rand() * len(DISPOSITIONS))],
                fulfillment_center=centers[int(rand() * len(centers))],
            )
        )
    return tuple(out)


@lru_cache(maxsize=1024)
def orders_for_day(
    seed: int, account: SandboxAccount, marketplace_id: str, day: date, scale: float
) -> tuple[Order, ...]:
    return _generate_day(seed, account, marketplace_id, day, scale)


def iter_orders(
    seed: int,
    account: SandboxAccount,
    marketplace_id: str,
    start: date,
    end: date,
    scale: float,
    cache: bool = True,
) -> Iterator[Order]:
    """Orders purchased on UTC days start..end (inclusive), in purchase order.

    Days are cached (LRU) only at small scales; big worlds (benchmarks) regenerate per call so memory
    stays flat."""
    gen = orders_for_day if cache and scale <= CACHE_MAX_SCALE else _generate_day
    d = start
    while d <= end:
        yield from gen(seed, account, marketplace_id, d, scale)
        d += timedelta(days=1)
