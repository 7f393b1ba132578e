"""Orders API 2026-01-01 (``searchOrders``): fetch, and map each order to the Orders v0 shape the curated
``orders_api`` / ``order_items_api`` tables are built from, so their row keys (``amazon_order_id``;
``amazon_order_id`` + ``order_item_id``) and columns stay the same whichever version fetched an order.

The new version returns the items inline (no ``getOrderItems`` call per order at 0.5 r/s) and buyer /
recipient data through ``includedData`` without a Restricted Data Token. PII is requested only for
accounts with ``pii = true``; the recipient's city/state/postal code/country (the non-PII address part
v0 also returns) come with RECIPIENT, and the PII fields of it are split off exactly as for v0.
Mapping (2026 → v0): orderId → AmazonOrderId, createdTime → PurchaseDate, lastUpdatedTime →
LastUpdateDate, fulfillment.fulfillmentStatus → OrderStatus (SHIPPED → Shipped, CANCELLED → Canceled, …),
fulfilledBy AMAZON/MERCHANT → AFN/MFN, proceeds.grandTotal → OrderTotal, programs PRIME/AMAZON_BUSINESS →
IsPrime/IsBusinessOrder, fulfillmentServiceLevel (a category: STANDARD → Standard, ...) → ShipServiceLevel
(v0's free-text level does not exist in the new API); per item: ITEM/TAX/SHIPPING/DISCOUNT proceeds
breakdowns → ItemPrice/ItemTax/ShippingPrice/PromotionDiscount, fulfillment.quantityFulfilled →
QuantityShipped.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from splake.config import AccountSettings
from splake.items.api import SpApi, body_of, csv_param
from splake.items.values import api_time

MAX_PAGES = 10_000
STATUS_V0 = {
    "PENDING_AVAILABILITY": "PendingAvailability",
    "PENDING": "Pending",
    "UNSHIPPED": "Unshipped",
    "PARTIALLY_SHIPPED": "PartiallyShipped",
    "SHIPPED": "Shipped",
    "CANCELLED": "Canceled",
    "UNFULFILLABLE": "Unfulfillable",
}
# fulfillmentServiceLevel is the service level *category*: spelled as v0's ShipmentServiceLevelCategory.
SERVICE_LEVEL_V0 = {
    "EXPEDITED": "Expedited",
    "FREE_ECONOMY": "FreeEconomy",
    "NEXT_DAY": "NextDay",
    "PRIORITY": "Priority",
    "SAME_DAY": "SameDay",
    "SECOND_DAY": "SecondDay",
    "SCHEDULED": "Scheduled",
    "STANDARD": "Standard",
}
BASE_DATASETS = ("PROCEEDS", "PROMOTION", "FULFILLMENT", "RECIPIENT")
PII_DATASETS = ("BUYER",)
NON_PII_ADDRESS = ("city", "stateOrRegion", "postalCode", "countryCode")


def _money(m: dict[str, Any] | None) -> dict[str, str] | None:
    if not m:
        return None
    return {"CurrencyCode": str(m.get("currencyCode")), "Amount": str(m.get("amount"))}


def _neg_abs(m: dict[str, Any] | None) -> dict[str, str] | None:
    """A DISCOUNT breakdown (negative proceeds) as v0's positive PromotionDiscount."""
    out = _money(m)
    if out is not None:
        out["Amount"] = out["Amount"].removeprefix("-")
    return out


def _pascal_address(addr: dict[str, Any], pii: bool) -> dict[str, Any]:
    keys = {
        "name": "Name",
        "addressLine1": "AddressLine1",
        "addressLine2": "AddressLine2",
        "addressLine3": "AddressLine3",
        "city": "City",
        "stateOrRegion": "StateOrRegion",
        "postalCode": "PostalCode",
        "countryCode": "CountryCode",
        "phone": "Phone",
        "companyName": "CompanyName",
    }
    return {v: addr[k] for k, v in keys.items() if k in addr and (pii or k in NON_PII_ADDRESS)}


def to_v0(order: dict[str, Any], *, pii: bool) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(the order as Orders v0 returns it, its items as getOrderItems returns them). Without ``pii`` no
    buyer or personal address field is kept, whatever the response held."""
    fulfillment = order.get("fulfillment") or {}
    programs = set(order.get("programs") or [])
    status = STATUS_V0.get(str(fulfillment.get("fulfillmentStatus")), fulfillment.get("fulfillmentStatus"))
    items: list[dict[str, Any]] = []
    shipped = unshipped = 0
    for it in order.get("orderItems") or []:
        product = it.get("product") or {}
        parts = {b.get("type"): b.get("subtotal") for b in (it.get("proceeds") or {}).get("breakdowns") or []}
        done = (it.get("fulfillment") or {}).get("quantityFulfilled")
        todo = (it.get("fulfillment") or {}).get("quantityUnfulfilled")
        shipped += int(done or 0)
        unshipped += int(todo or 0)
        v0: dict[str, Any] = {
            "ASIN": product.get("asin"),
            "SellerSKU": product.get("sellerSku"),
            "OrderItemId": it["orderItemId"],
            "Title": product.get("title"),
            "QuantityOrdered": it.get("quantityOrdered"),
            "QuantityShipped": done,
            "ItemPrice": _money(parts.get("ITEM")),
            "ItemTax": _money(parts.get("TAX")),
            "ShippingPrice": _money(parts.get("SHIPPING")),
            "PromotionDiscount": _neg_abs(parts.get("DISCOUNT")),
        }
        promos = [
            b["promotionId"]
            for b in (it.get("promotion") or {}).get("breakdowns") or []
            if b.get("promotionId")
        ]
        if promos:
            v0["PromotionIds"] = promos
        items.append({k: v for k, v in v0.items() if v is not None})
    channel = order.get("salesChannel") or {}
    out: dict[str, Any] = {
        "AmazonOrderId": order["orderId"],
        "MarketplaceId": channel.get("marketplaceId"),
        "PurchaseDate": order.get("createdTime"),
        "LastUpdateDate": order.get("lastUpdatedTime"),
        "OrderStatus": status,
        "FulfillmentChannel": {"AMAZON": "AFN", "MERCHANT": "MFN"}.get(str(fulfillment.get("fulfilledBy"))),
        "SalesChannel": channel.get("marketplaceName"),
        "ShipServiceLevel": SERVICE_LEVEL_V0.get(
            str(fulfillment.get("fulfillmentServiceLevel")), fulfillment.get("fulfillmentServiceLevel")
        ),
        "OrderTotal": _money((order.get("proceeds") or {}).get("grandTotal")),
        "NumberOfItemsShipped": shipped,
        "NumberOfItemsUnshipped": unshipped,
        "IsBusinessOrder": "AMAZON_BUSINESS" in programs,
        "IsPrime": "PRIME" in programs,
    }
    address = ((order.get("recipient") or {}).get("deliveryAddress")) or {}
    if address:
        out["ShippingAddress"] = _pascal_address(address, pii)
    buyer = order.get("buyer") or {}
    if pii and (buyer.get("buyerEmail") or buyer.get("buyerName")):
        out["BuyerInfo"] = {
            k: v
            for k, v in (("BuyerEmail", buyer.get("buyerEmail")), ("BuyerName", buyer.get("buyerName")))
            if v
        }
    return {k: v for k, v in out.items() if v is not None}, items


def without_pii(order: dict[str, Any]) -> dict[str, Any]:
    """The order as searchOrders returned it, less buyer data and the personal address fields (what the
    raw zone keeps: it never holds PII)."""
    clean = {k: v for k, v in order.items() if k != "buyer"}
    recipient = order.get("recipient")
    if isinstance(recipient, dict) and isinstance(recipient.get("deliveryAddress"), dict):
        address = {k: v for k, v in recipient["deliveryAddress"].items() if k in NON_PII_ADDRESS}
        clean["recipient"] = {**recipient, "deliveryAddress": address}
    return clean


async def fetch_orders_2026(
    api: SpApi, account: AccountSettings, after: datetime, before: datetime, *, pii: bool = False
) -> tuple[list[tuple[dict[str, Any], list[dict[str, Any]]]], list[dict[str, Any]]]:
    """searchOrders pages (lastUpdated window): ([(order, items)] in the v0 shape, the orders as returned
    less PII)."""
    params: dict[str, Any] = {
        "marketplaceIds": csv_param(account.marketplaces),
        "lastUpdatedAfter": api_time(after),
        "lastUpdatedBefore": api_time(before),
        "maxResultsPerPage": 100,
        "includedData": csv_param([*BASE_DATASETS, *(PII_DATASETS if pii else ())]),
    }
    out: list[tuple[dict[str, Any], list[dict[str, Any]]]] = []
    raw: list[dict[str, Any]] = []
    for _ in range(MAX_PAGES):
        body = body_of(await api.call(account, "searchOrders", params=params))
        for o in body.get("orders") or []:
            out.append(to_v0(o, pii=pii))
            raw.append(without_pii(o))
        token = (body.get("pagination") or {}).get("nextToken")
        if not token:
            break
        params = {**params, "paginationToken": token}
    return out, raw
