"""Logical rows (header → text value, exactly as written in the file) of the inventory and listings
snapshot reports: open listings, FBA manage-inventory (MYI), AFN inventory."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator

from splake.sandbox.catalog import Product, language_of, products_for
from splake.sandbox.layouts import de_listing_datetime
from splake.sandbox.report_request import ReportRequest
from splake.sandbox.report_text import country_of, local_datetime, money
from splake.spapi.marketplaces import marketplace


def _day_rng(req: ReportRequest, p: Product, kind: str) -> random.Random:
    return random.Random(f"{req.seed}|{kind}|{req.account.account_id}|{p.sku}|{req.as_of.date().isoformat()}")


def stock(req: ReportRequest, p: Product) -> tuple[int, int, int, int]:
    """(fulfillable, unsellable, reserved, inbound) for a product on the as-of day."""
    base = random.Random(f"{req.seed}|stockbase|{p.sku}").randint(0, 400)
    rng = _day_rng(req, p, "stock")
    fulfillable = max(0, base + rng.randint(-30, 30)) if base > 20 else rng.randint(0, 5)
    unsellable = rng.randint(0, 4) if rng.random() < 0.2 else 0
    reserved = rng.randint(0, 12)
    inbound = rng.choice((0, 0, 0, 24, 48, 120))
    return fulfillable, unsellable, reserved, inbound


def listing_id(p: Product, mid: str) -> str:
    return hashlib.sha256(f"{p.sku}|{mid}".encode()).hexdigest()[:11].upper()


def listings_rows(req: ReportRequest) -> Iterator[dict[str, str]]:
    mid = req.marketplace_ids[0]
    country, currency = country_of(mid), marketplace(mid).currency
    language = language_of(mid)
    channel = {"NA": "AMAZON_NA", "EU": "AMAZON_EU", "FE": "AMAZON_JP"}[marketplace(mid).region]
    for p in products_for(req.seed, req.account, min(req.scale, 4.0)):
        if p.open_date > req.as_of:
            continue
        fulfillable = stock(req, p)[0]
        inactive = random.Random(f"{req.seed}|inactive|{p.sku}|{mid}").random() < 0.08 or (
            p.fulfillment == "MFN" and fulfillable == 0
        )
        yield {
            "item-name": p.title(language),
            "item-description": "",
            "listing-id": listing_id(p, mid),
            "seller-sku": p.sku,
            "price": money(p.price(currency), currency),
            "quantity": "" if p.fulfillment == "AFN" else str(fulfillable),
            "open-date": de_listing_datetime(p.open_date)
            if country == "DE"
            else local_datetime(p.open_date, country),
            "image-url": "",
            "item-is-marketplace": "y",
            "product-id-type": "1",
            "zshop-shipping-fee": "",
            "item-note": "",
            "item-condition": "11",
            "zshop-category1": "",
            "zshop-browse-path": "",
            "zshop-storefront-feature": "",
            "asin1": p.asin,
            "asin2": "",
            "asin3": "",
            "will-ship-internationally": "",
            "expedited-shipping": "",
            "zshop-boldface": "",
            "product-id": p.asin,
            "bid-for-featured-placement": "",
            "add-delete": "",
            "pending-quantity": "0",
            "fulfillment-channel": channel if p.fulfillment == "AFN" else "DEFAULT",
            "merchant-shipping-group": "Migrated Template",
            "status": "Inactive" if inactive else "Active",
            **(_b2b_prices(p, currency) if req.drift else {}),
        }


def _b2b_prices(p: Product, currency: str) -> dict[str, str]:
    business = p.price(currency) * 0.95
    return {
        "Business Price": money(business, currency),
        "Quantity Price Type": "percent" if p.index % 3 else "",
        "Quantity Lower Bound 1": "10" if p.index % 3 else "",
        "Quantity Price 1": "5" if p.index % 3 else "",
    }


def myi_rows(req: ReportRequest) -> Iterator[dict[str, str]]:
    mid = req.marketplace_ids[0]
    currency, language = marketplace(mid).currency, language_of(mid)
    for p in products_for(req.seed, req.account, min(req.scale, 4.0)):
        if p.fulfillment != "AFN" or p.open_date > req.as_of:
            continue
        fulfillable, unsellable, reserved, inbound = stock(req, p)
        warehouse = fulfillable + unsellable + reserved
        yield {
            "sku": p.sku,
            "fnsku": p.fnsku,
            "asin": p.asin,
            "product-name": p.title(language),
            "condition": "New",
            "your-price": money(p.price(currency), currency),
            "mfn-listing-exists": "No",
            "mfn-fulfillable-quantity": "",
            "afn-listing-exists": "Yes",
            "afn-warehouse-quantity": str(warehouse),
            "afn-fulfillable-quantity": str(fulfillable),
            "afn-unsellable-quantity": str(unsellable),
            "afn-reserved-quantity": str(reserved),
            "afn-total-quantity": str(warehouse + inbound),
            "per-unit-volume": f"{0.05 + (p.index % 17) * 0.03:.2f}",
            "afn-inbound-working-quantity": "0",
            "afn-inbound-shipped-quantity": str(inbound),
            "afn-inbound-receiving-quantity": "0",
            "afn-researching-quantity": "0",
            "afn-reserved-future-supply": "0",
            "afn-future-supply-buyable": "0",
        }


def afn_inventory_rows(req: ReportRequest) -> Iterator[dict[str, str]]:
    for p in products_for(req.seed, req.account, min(req.scale, 4.0)):
        if p.fulfillment != "AFN" or p.open_date > req.as_of:
            continue
        fulfillable, unsellable, _, _ = stock(req, p)
        base = {
            "seller-sku": p.sku,
            "fulfillment-channel-sku": p.fnsku,
            "asin": p.asin,
            "condition-type": "NewItem",
        }
        yield {**base, "Warehouse-Condition-code": "SELLABLE", "Quantity Available": str(fulfillable)}
        if unsellable:
            yield {**base, "Warehouse-Condition-code": "UNSELLABLE", "Quantity Available": str(unsellable)}
